import Foundation
import Vapor
import MujunCore
import MujunStore

/// Land: the battle map (挂图作战), parcels, contiguous clusters (集中连片), field surveys
/// (地毯式排查 / 点对点复核), the land import page, and their JSON API. Reads go through
/// `req.service.land` and `.surveys`, within the caller's jurisdiction: a parcel outside it
/// answers 404, as if it did not exist. Geometries are stored in EPSG:4549 and sent to the
/// browser in CRS84.
enum LandFeature: Feature {
    static let endpoints: [Endpoint] = [
        .page("/map", .permission(.viewLand), "挂图作战 / the battle map", tag: "land", parameters: MapQuery.self) { req, q in
            try await MapPage.render(req, q)
        },
        .page("/parcels/:id", .permission(.viewLand), "地块详情、认定理由与现场调查 / one parcel", tag: "land",
              parameters: ParcelQuery.self) { req, q in
            try await ParcelPage.render(req, id: q.id.value, year: q.year?.int, error: nil, form: nil, status: .ok)
        },
        .form("/parcels/:id/surveys", .permission(.surveyParcel), "登记现场调查（表单）/ record a survey", tag: "land",
              parameters: ParcelQuery.self, body: SurveyInput.self, accepts: [.multipart, .form]) { req, q, input in
            try await ParcelPage.submitFromForm(req, id: q.id.value, input)
        }.with { $0.maxBody = 16 << 20 },
        .page("/surveys", .permission(.viewLand), "调查与复核 / surveys waiting for review", tag: "land", parameters: NoParameters.self) { req, _ in
            try await ClusterPages.surveys(req)
        },
        .form("/surveys/:id/review", .permission(.reviewSurvey), "确认或退回调查（表单）/ confirm or return a survey", tag: "land",
              parameters: IDPath.self, body: ReviewInput.self, accepts: [.form]) { req, q, input in
            try await ParcelPage.reviewFromForm(req, id: q.id.value, input)
        },
        .download("/surveys/:id/photo", .permission(.viewLand), "调查照片 / a survey's photo", tag: "land", parameters: IDPath.self,
                  mediaType: "image/jpeg", documented: false) { req, q in
            let photo = try await req.service.surveys.photo(id: q.id.value)
            let res = Page.download(photo.data, type: photo.filename.lowercased().hasSuffix(".png") ? "image/png" : "image/jpeg",
                                    asciiName: photo.filename, name: photo.filename, inline: true)
            res.headers.replaceOrAdd(name: .cacheControl, value: "private, max-age=3600")
            res.headers.replaceOrAdd(name: "Content-Security-Policy", value: "default-src 'none'")
            return res
        },
        .page("/clusters", .permission(.viewLand), "集中连片整治候选 / renewal candidates", tag: "land", parameters: ClusterListQuery.self) { req, q in
            try await ClusterPages.list(req, q)
        },
        .page("/clusters/:number", .permission(.viewLand), "一片低效用地连片：地块、用地企业、认定理由与五类 / one cluster of low-efficiency parcels",
              tag: "land", parameters: ClusterQuery.self) { req, q in
            try await ClusterPages.detail(req, number: Int(q.number.value), year: q.year?.int)
        },
        .download("/clusters.xlsx", .permission(.viewLand), "导出集中连片清单 Excel / the clusters as XLSX", tag: "land",
                  parameters: ClusterListQuery.self, mediaType: Page.xlsxType, documented: false) { req, q in
            try await ClusterPages.export(req, q)
        },
        .page("/land", .permission(.manageLand), "地块数据导入与认定 / land import and assessment", tag: "land", parameters: NoParameters.self) { req, _ in
            try await LandImportPage.render(req, outcome: nil, status: .ok)
        },
        .form("/land/parcels", .permission(.manageLand), "导入地块 GeoJSON（表单）/ import parcels", tag: "land", parameters: NoParameters.self,
              body: UploadForm.self, accepts: [.multipart]) { req, _, form in
            try await LandImportPage.uploadParcels(req, form)
        }.with { $0.maxBody = nil },
        .form("/land/land-use", .permission(.manageLand), "导入用地关系（表单）/ import land use", tag: "land", parameters: NoParameters.self,
              body: UploadForm.self, accepts: [.multipart]) { req, _, form in
            try await LandImportPage.uploadLandUse(req, form)
        }.with { $0.maxBody = nil },
        .form("/land/assess", .permission(.manageLand), "运行低效用地认定（表单）/ run the assessment", tag: "land", parameters: NoParameters.self,
              body: AssessForm.self, accepts: [.form]) { req, _, form in
            try await LandImportPage.assess(req, form)
        },
        .bytes(.GET, "/api/v1/map/parcels", .permission(.viewLand), "挂图地块（GeoJSON，CRS84）/ the map's parcels", tag: "land",
             parameters: MapParcelsQuery.self, documents: MapParcelsDoc.self, mediaType: "application/geo+json") { req, q in
            try await MapAPI.parcels(req, q)
        },
        .bytes(.GET, "/api/v1/map/clusters", .permission(.viewLand), "集中连片轮廓（GeoJSON，CRS84）/ cluster outlines", tag: "land",
             parameters: MapClustersQuery.self, documents: MapClustersDoc.self, mediaType: "application/geo+json") { req, q in
            try await MapAPI.clusters(req, q)
        },
        .json(.GET, "/api/v1/map/search", .permission(.viewLand), "按地块编号、企业名称或信用代码查找地块 / find parcels", tag: "land",
              parameters: SearchQuery.self, output: MapAPI.SearchDTO.self) { req, q in
            try await MapAPI.search(req, q)
        },
        .json(.GET, "/api/v1/parcels/:id", .permission(.viewLand), "地块卡片 / a parcel's card", tag: "land",
              parameters: ParcelQuery.self, output: ParcelCardDTO.self) { req, q in
            guard let card = try await MapAPI.card(req, id: q.id.value, year: q.year?.int) else {
                throw Abort(.notFound, reason: "没有编号为 \(q.id.value) 的地块 / no parcel \(q.id.value)")
            }
            return card
        },
        .json(.POST, "/api/v1/parcels/:id/surveys", .permission(.surveyParcel), "登记现场调查 / record a survey", tag: "land",
              parameters: ParcelQuery.self, body: SurveyInput.self, accepts: [.json, .multipart, .form], output: SurveyDTO.self,
              status: .created) { req, q, input in
            let surveys = req.service.surveys
            let id = try await surveys.submit(parcelID: q.id.value, input.service)
            return try await SurveyDTO.make(try await surveys.survey(id: id), surveys)
        }.with { $0.maxBody = 16 << 20 },
        .json(.POST, "/api/v1/surveys/:id/review", .permission(.reviewSurvey), "确认或退回调查 / confirm or return a survey", tag: "land",
              parameters: IDPath.self, body: ReviewInput.self, accepts: [.json, .form], output: SurveyDTO.self, errors: [409]) { req, q, input in
            let surveys = req.service.surveys
            return try await SurveyDTO.make(try await surveys.review(id: q.id.value, decision: input.decision?.rawValue, note: input.note), surveys)
        },
    ]

    // MARK: parameters

    struct IDPath: Decodable, Sendable { var id: RecordID }
    struct ParcelQuery: Decodable, Sendable { var id: CodeText; var year: Year? }
    struct MapQuery: Decodable, Sendable {
        var year: Year?
        var town: NameText?
        var block: NameText?
        var layer: MapLayer?
        var cluster: Bounded<ClusterNumberBounds>?
        var parcel: CodeText?
        var limit: Bounded<MapLimitBounds>?
        var q: SearchText?
    }
    enum MapLayer: String, ParameterEnum { case cls, low, cluster, survey, project }
    struct MapParcelsQuery: Decodable, Sendable {
        var year: Year?
        var town: NameText?
        var block: NameText?
        var bbox: NameText?
        var limit: Bounded<MapLimitBounds>?
    }
    struct MapClustersQuery: Decodable, Sendable {
        var year: Year?
        var candidates: Flag?
        var town: NameText?
        var block: NameText?
        var bbox: NameText?
    }
    struct SearchQuery: Decodable, Sendable { var q: SearchText?; var year: Year? }
    struct ClusterListQuery: Decodable, Sendable {
        var year: Year?
        var all: Flag?
        var town: NameText?
        var sort: ClusterSort?
        var order: AppealsOrder?
    }
    struct ClusterQuery: Decodable, Sendable { var number: Bounded<ClusterNumberBounds>; var year: Year? }
    enum ClusterSort: String, ParameterEnum { case number, area, count, low, occupants }
    enum AppealsOrder: String, ParameterEnum { case asc, desc }

    /// A survey as a form or the JSON API sends it.
    struct SurveyInput: Decodable, Sendable {
        var actualUse: String
        var occupantsSeen: String?
        var idle: Flag?
        var remarks: String?
        var photo: File?
        enum CodingKeys: String, CodingKey { case actualUse = "actual_use", occupantsSeen = "occupants_seen", idle, remarks, photo }

        var service: SurveyService.Input {
            .init(actualUse: actualUse, occupantsSeen: occupantsSeen, idle: idle?.value, remarks: remarks,
                  photo: photo.flatMap { $0.data.readableBytes > 0 ? UploadedFile(filename: $0.filename, data: Data(buffer: $0.data)) : nil })
        }
    }

    /// A review: `decision` confirm | return, and a note.
    struct ReviewInput: Decodable, Sendable {
        var decision: Decision?
        var note: String?
        enum Decision: String, ParameterEnum { case confirm, `return` }
    }

    struct UploadForm: Decodable, Sendable {
        var file: File?
        var crs: String?
        var encoding: String?
    }

    struct AssessForm: Decodable, Sendable { var year: Year? }
}
