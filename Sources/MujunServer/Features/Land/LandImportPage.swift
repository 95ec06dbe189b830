import Foundation
import Vapor
import MujunCore
import MujunStore

/// `/land`: parcels (GeoJSON) and land use (CSV/XLSX) imported from the browser, all or
/// nothing, and the low-efficiency assessment run for a year.
enum LandImportPage {
    enum Outcome {
        case parcelsImported(file: String, parcels: [Parcel], tolerance: Double)
        case landUseImported(file: String, rows: Int, parcels: Int)
        case refused(kind: String, file: String, failure: ImportFailure)
        case assessed(Store.LandRunSummary)
        case problem(String)
    }

    static func render(_ req: Request, outcome: Outcome?, status: HTTPResponseStatus) async throws -> Response {
        let s = try await req.service.land.status()
        let assessYears = Array(Set(s.assessed.map(\.year) + s.dataYears)).sorted(by: >)
        let land = req.application.serviceContext.landRules
        return Page.render(title: "地块数据导入", status: status, active: "map",
                           head: [.stylesheet("/static/map.css"), .script("/static/land.js")]) { h in
            h.el(.section, .cls("page-head")) { h in h.el(.h1, text: "地块数据导入与低效用地认定") }
            if let outcome { result(&h, outcome) }
            h.el(.section, .cls("card"), .id("land-status")) { h in
                h.el(.h2, text: "当前数据")
                h.el(.dl, .cls("facts")) { h in
                    h.el(.dt, text: "地块"); h.el(.dd, .id("parcel-count"), .data("n", s.parcels), text: "\(s.parcels) 个")
                    h.el(.dt, text: "用地关系"); h.el(.dd, .id("land-use-count"), .data("n", s.landUseRows), text: "\(s.landUseRows) 条")
                    h.el(.dt, text: "已认定年度")
                    h.el(.dd) { h in
                        if s.assessed.isEmpty { h.text("无") }
                        for a in s.assessed {
                            h.el(.div, .data("year", a.year)) { h in
                                h.text("\(a.year) 年度：\(a.parcels) 个地块，低效 \(a.low) 个，整治候选片区 ")
                                h.el(.a, .href("/clusters?year=\(a.year)"), text: "\(a.candidates) 片")
                                h.text("，")
                                h.el(.a, .href("/map?year=\(a.year)"), text: "查看挂图")
                            }
                        }
                    }
                }
            }
            h.el(.div, .cls("overview")) { h in
                h.el(.section, .cls("card"), .id("parcels-upload")) { h in
                    h.el(.h2, text: "导入地块（GeoJSON）")
                    uploadForm(&h, id: "parcels-form", action: "/land/parcels", fileID: "parcels-file",
                               accept: ".geojson,.json,application/geo+json,application/json", button: "上传并导入地块") { h in
                        h.el(.p) { h in
                            h.el(.label) { h in
                                h.text("坐标系 ")
                                h.select(name: "crs", id: "parcels-crs",
                                         options: [("", "按文件的 crs 声明（无声明为 CRS84 经纬度）")] + CRSName.supported.map { ($0.code, $0.title) },
                                         selected: "")
                            }
                        }
                    }
                    h.el(.p, .cls("muted"), text: "属性：地块编号（必填，唯一）、所属镇街（必填）、区块、权利人信用代码、登记面积(亩)、用途、容积率、现状，以及可选的批准日期、供地日期、约定开工日期、约定竣工日期、投产日期（YYYY-MM-DD，用于区分批而未供、供而未用、用而未尽、建而未投、投而未达标五类低效用地）。同一编号的地块将被替换；任何一个要素有错则整个文件不导入。计算面积与登记面积相差超过 \(formatNumber(land.areaTolerance * 100))% 的地块会被标记。")
                    h.el(.p, .cls("muted")) { h in
                        h.text("Shapefile 先转换：")
                        h.el(.code, text: "ogr2ogr -f GeoJSON -t_srs EPSG:4549 地块.geojson 地块.shp")
                    }
                }
                h.el(.section, .cls("card"), .id("land-use-upload")) { h in
                    h.el(.h2, text: "导入用地关系（CSV / XLSX）")
                    uploadForm(&h, id: "land-use-form", action: "/land/land-use", fileID: "land-use-file",
                               accept: ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                               button: "上传并导入用地关系") { h in
                        h.el(.p) { h in
                            h.el(.label) { h in
                                h.text("CSV 编码 ")
                                h.el(.select, .name("encoding")) { h in
                                    h.el(.option, .value(""), text: "自动识别")
                                    h.el(.option, .value("utf-8"), text: "UTF-8")
                                    h.el(.option, .value("gb18030"), text: "GB18030 / GBK")
                                }
                            }
                        }
                    }
                    h.el(.p, .cls("muted"), text: "列：地块编号、统一社会信用代码、关系（自有/租赁）、面积(亩)（空为整块）。文件中出现的地块，其用地关系整体替换为文件中的记录。")
                }
            }
            h.el(.section, .cls("card"), .id("assess")) { h in
                h.el(.h2, text: "低效用地认定与集中连片分析")
                if assessYears.isEmpty {
                    h.el(.p, .cls("muted"), text: "尚无企业数据年度，请先导入企业亩均数据。")
                } else {
                    h.el(.form, .id("assess-form"), .method("post"), .action("/land/assess")) { h in
                        h.csrfField()
                        h.el(.label) { h in
                            h.text("年度 ")
                            h.select(name: "year", id: "assess-year", options: assessYears.map { (String($0), String($0)) }, selected: nil)
                        }
                        h.text(" ")
                        h.el(.button, .type("submit"), .id("assess-run"), text: "运行认定")
                    }
                }
                h.el(.p, .cls("muted"), text: "按现行规则：闲置地块、亩均税收低于 \(land.taxPerMuBelow.map { formatNumber($0) + " 万元/亩" } ?? "（不启用）")、用地企业评价为 \(land.occupantClasses.map(\.rawValue).joined(separator: "/")) 类、容积率低于 \(land.farBelow.map(formatNumber) ?? "（不启用）") 的地块认定为低效，批准后未供地、逾期未开工、逾期未投产的地块亦认定为低效；间距不超过 \(formatNumber(land.clusterGap)) 米的低效地块连成一片，面积不小于 \(formatNumber(land.minMu)) 亩的为集中连片整治候选。重新运行会替换该年度的认定结果。")
            }
        }
    }

    static func uploadForm(_ h: inout HTMLWriter, id: String, action: String, fileID: String, accept: String, button: String,
                           extra: (inout HTMLWriter) -> Void) {
        h.el(.form, .id(id), .cls("upload-form"), .method("post"), .action(action), .attr("enctype", "multipart/form-data")) { h in
            h.csrfField()
            h.el(.p) { h in
                h.el(.label) { h in
                    h.text("文件 ")
                    h.void(.input, .type("file"), .name("file"), .id(fileID), .attr("accept", accept), .required)
                }
            }
            extra(&h)
            h.el(.p) { h in h.el(.button, .type("submit"), text: button) }
            h.el(.div, .cls("upload-progress"), .hidden(true)) { h in
                h.el(.progress, .attr("max", "100"), .value("0"))
                h.text(" ")
                h.el(.span, .cls("progress-text"))
            }
        }
    }

    static func result(_ h: inout HTMLWriter, _ outcome: Outcome) {
        switch outcome {
        case .parcelsImported(let file, let parcels, let tolerance):
            let mismatched = parcels.filter(\.areaMismatch)
            let area = parcels.reduce(0) { $0 + $1.areaMu }
            h.el(.section, .cls("card notice-ok"), .id("import-result"), .data("count", parcels.count), .data("mismatch", mismatched.count)) { h in
                h.el(.h2, text: "地块导入成功")
                h.el(.p) { h in
                    h.text("已从 "); h.el(.b, text: file); h.text(" 导入 "); h.el(.b, .id("imported-count"), text: String(parcels.count))
                    h.text(" 个地块，合计 \(HTML.num(area)) 亩。计算面积与登记面积相差超过 \(formatNumber(tolerance * 100))% 的地块 ")
                    h.el(.b, .id("mismatch-count"), text: String(mismatched.count))
                    h.text(" 个。")
                }
                if !mismatched.isEmpty {
                    h.table(id: "mismatch-table", headers: [("地块编号", false), ("镇街", false), ("登记面积(亩)", true), ("计算面积(亩)", true), ("差异", true)],
                            rows: Array(mismatched.prefix(200))) { h, p in
                        h.el(.tr) { h in
                            h.el(.td) { h in h.el(.a, .href("/parcels/\(HTML.percent(p.parcelID))"), text: p.parcelID) }
                            h.el(.td, text: p.town)
                            h.el(.td, .cls("num"), text: HTML.num(p.registeredMu))
                            h.el(.td, .cls("num"), text: HTML.num(p.areaMu))
                            h.el(.td, .cls("num"), text: p.areaDifference.map { String(format: "%+.1f%%", $0 * 100) } ?? "—")
                        }
                    }
                    if mismatched.count > 200 { h.el(.p, .cls("muted"), text: "仅列出前 200 个。") }
                }
                h.el(.p, text: "请导入用地关系后重新运行低效用地认定。")
            }
        case .landUseImported(let file, let rows, let parcels):
            h.el(.section, .cls("card notice-ok"), .id("import-result"), .data("count", rows)) { h in
                h.el(.h2, text: "用地关系导入成功")
                h.el(.p) { h in
                    h.text("已从 "); h.el(.b, text: file); h.text(" 导入 "); h.el(.b, .id("imported-count"), text: String(rows))
                    h.text(" 条用地关系，涉及 \(parcels) 个地块。请重新运行低效用地认定。")
                }
            }
        case .refused(let kind, let file, let failure):
            let isParcels = kind == "parcels"
            h.el(.section, .cls("card notice-error"), .id("import-errors"), .data("errors", failure.errors.count + failure.omitted)) { h in
                h.el(.h2, text: "\(isParcels ? "地块" : "用地关系")导入失败，未写入任何数据")
                h.el(.p) { h in
                    h.el(.b, text: file)
                    h.text(" 中发现 \(failure.errors.count + failure.omitted) 处错误，请修改后重新上传：")
                }
                h.table(id: "error-table", headers: [(isParcels ? "要素序号" : "行号", false), (isParcels ? "属性" : "列", false), ("问题", false)],
                        rows: failure.errors) { h, e in
                    h.el(.tr) { h in
                        h.el(.td, .cls("num"), text: e.row > 0 ? String(e.row) : "文件")
                        h.el(.td, text: e.column)
                        h.el(.td, .cls("wrap"), text: e.messageZh)
                    }
                }
                if failure.omitted > 0 { h.el(.p, .cls("muted"), text: "另有 \(failure.omitted) 处错误未列出。") }
            }
        case .assessed(let s):
            h.el(.section, .cls("card notice-ok"), .id("assess-result"), .data("year", s.year), .data("low", s.lowEfficiency),
                 .data("candidates", s.candidates)) { h in
                h.el(.h2, text: "\(s.year) 年度低效用地认定完成")
                h.el(.p) { h in
                    h.text("\(s.parcels) 个地块，低效用地 "); h.el(.b, text: String(s.lowEfficiency))
                    h.text(" 个；集中连片 \(s.clusters) 片，其中整治候选 "); h.el(.b, text: String(s.candidates)); h.text(" 片。")
                    h.el(.a, .href("/map?year=\(s.year)"), text: "查看挂图")
                    h.text(" · ")
                    h.el(.a, .href("/clusters?year=\(s.year)"), text: "整治候选清单")
                }
            }
        case .problem(let message):
            h.formError(message)
        }
    }

    /// The uploaded file of a land form: its name (without folders) and bytes, nil when none.
    static func upload(_ form: LandFeature.UploadForm) -> (String, Data)? {
        guard let file = form.file, file.data.readableBytes > 0 else { return nil }
        let name = UploadCheck.cleanName(file.filename)
        return (name.isEmpty ? "upload" : name, Data(buffer: file.data))
    }

    static func uploadParcels(_ req: Request, _ form: LandFeature.UploadForm) async throws -> Response {
        guard let (name, data) = upload(form) else {
            return try await render(req, outcome: .problem("请选择要上传的地块 GeoJSON 文件 / choose a GeoJSON file"), status: .badRequest)
        }
        do {
            let parcels = try await req.service.land.importParcels(data: data, fileName: name, crs: form.crs?.trimmingCharacters(in: .whitespaces).nilIfEmpty)
            return try await render(req, outcome: .parcelsImported(file: name, parcels: parcels,
                                                                  tolerance: req.application.serviceContext.landRules.areaTolerance), status: .ok)
        } catch let failure as ImportFailure {
            return try await render(req, outcome: .refused(kind: "parcels", file: name, failure: failure), status: .unprocessableEntity)
        }
    }

    static func uploadLandUse(_ req: Request, _ form: LandFeature.UploadForm) async throws -> Response {
        guard let (name, data) = upload(form) else {
            return try await render(req, outcome: .problem("请选择要上传的用地关系 CSV 或 XLSX 文件 / choose a CSV or XLSX file"), status: .badRequest)
        }
        do {
            let rows = try await req.service.land.importLandUse(data: data, fileName: name,
                                                                 encoding: form.encoding?.nilIfEmpty.flatMap(TextEncodingChoice.init(name:)))
            return try await render(req, outcome: .landUseImported(file: name, rows: rows.count, parcels: Set(rows.map(\.parcelID)).count), status: .ok)
        } catch let failure as ImportFailure {
            return try await render(req, outcome: .refused(kind: "land-use", file: name, failure: failure),
                                    status: failure.limitExceeded != nil ? .payloadTooLarge : .unprocessableEntity)
        }
    }

    static func assess(_ req: Request, _ form: LandFeature.AssessForm) async throws -> Response {
        guard let year = form.year?.int else {
            return try await render(req, outcome: .problem("请选择认定年度 / choose a year"), status: .badRequest)
        }
        do {
            return try await render(req, outcome: .assessed(try await req.service.land.assess(year: year)), status: .ok)
        } catch let e as ServiceError where e.kind == .unprocessable {
            return try await render(req, outcome: .problem(e.message), status: .unprocessableEntity)
        }
    }
}
