import Foundation
import FluentKit
import SQLKit
import MujunCore

/// Field surveys of parcels: a town records what it found on a parcel of its own
/// jurisdiction (地毯式排查); the headquarters confirms or returns it (点对点复核). A town sees
/// its own surveys, the headquarters all; enterprises none.
public struct SurveyService: ServiceBase {
    public let services: Services
    init(_ s: Services) { services = s }

    public static let maxPhoto = 10 << 20
    public static let maxText = 2000
    public static let maxUse = 200
    /// The actual uses offered in the form (the field is free text).
    public static let uses = ["工业生产", "仓储物流", "研发办公", "闲置", "在建", "出租（多家企业）", "商业服务", "居住", "其他"]

    /// Survey states as stored.
    public enum State {
        public static let none = "none"
        public static let submitted = "submitted"
        public static let confirmed = "confirmed"
        public static let returned = "returned"

        public static func chinese(_ s: String?) -> String {
            switch s {
            case submitted: "已提交（待复核）"
            case confirmed: "已确认"
            case returned: "已退回"
            default: "未调查"
            }
        }

        /// The short name of the map legend.
        public static func short(_ s: String?) -> String {
            switch s {
            case submitted: "已提交"
            case confirmed: "已确认"
            case returned: "已退回"
            default: "未调查"
            }
        }
    }

    /// A survey as a town sends it.
    public struct Input: Sendable {
        public var actualUse: String?
        public var occupantsSeen: String?
        public var idle: Bool?
        public var remarks: String?
        public var photo: UploadedFile?
        public init(actualUse: String?, occupantsSeen: String?, idle: Bool?, remarks: String?, photo: UploadedFile?) {
            self.actualUse = actualUse; self.occupantsSeen = occupantsSeen; self.idle = idle; self.remarks = remarks; self.photo = photo
        }
    }

    static func clean(_ s: String?) -> String? {
        guard let t = s?.trimmingCharacters(in: .whitespacesAndNewlines), !t.isEmpty else { return nil }
        return t
    }

    /// Whether the caller may see a survey: the headquarters all, a town its own.
    func visible(_ s: Store.Survey) -> Bool {
        switch caller.scope {
        case .all: true
        case .town(let t): t == s.town
        case .enterprise, .none: false
        }
    }

    /// The surveys of one of the caller's parcels, newest first (none for enterprises).
    public func surveys(parcelID: String) async throws -> [Store.Survey] {
        try caller.require(.viewLand)
        guard caller.role != .enterprise, try await scoped.parcel(id: parcelID, year: nil) != nil else { return [] }
        return try await unscoped.surveys(parcelID: parcelID).filter(visible)
    }

    /// A survey the caller may see; `notFound` otherwise.
    public func survey(id: Int64) async throws -> Store.Survey {
        try caller.require(.viewLand)
        guard let s = try await unscoped.survey(id: id), visible(s) else { throw ServiceError.notFound("没有该调查记录 / no such survey") }
        return s
    }

    /// The photo of a survey the caller may see.
    public func photo(id: Int64) async throws -> UploadedFile {
        _ = try await survey(id: id)
        guard let (name, data) = try await unscoped.surveyPhoto(id: id) else { throw ServiceError.notFound("没有该照片 / no such photo") }
        return UploadedFile(filename: name, data: data)
    }

    /// Surveys waiting for review, within the caller's towns.
    public func pending() async throws -> [Store.Survey] {
        try caller.require(.viewLand)
        guard caller.role != .enterprise else { return [] }
        return try await scoped.pendingSurveys()
    }

    /// Display names of accounts (surveyors, reviewers): "name（unit）".
    public func accountNames(_ logins: Set<String>) async throws -> [String: String] {
        var out: [String: String] = [:]
        for login in logins {
            if let u = try await unscoped.user(login: login) {
                out[login] = u.unit.isEmpty || u.unit == u.displayName ? u.displayName : "\(u.displayName)（\(u.unit)）"
            }
        }
        return out
    }

    /// Checks and records a survey of a parcel of the caller's own town; returns its id.
    public func submit(parcelID: String, _ input: Input) async throws -> Int64 {
        try caller.require(.surveyParcel)
        guard let town = caller.principal?.town, let row = try await scoped.parcel(id: parcelID, year: nil), row.parcel.town == town else {
            throw ServiceError.notFound("本镇街没有编号为 \(parcelID) 的地块 / no parcel \(parcelID) in your town")
        }
        guard let use = Self.clean(input.actualUse) else { throw ServiceError.invalid("请填写实际用途 / the actual use is required") }
        guard use.count <= Self.maxUse else { throw ServiceError.invalid("实际用途不能超过 \(Self.maxUse) 字 / the actual use is too long") }
        let seen = Self.clean(input.occupantsSeen), remarks = Self.clean(input.remarks)
        for (label, text) in [("现场所见企业", seen), ("备注", remarks)] where (text?.count ?? 0) > Self.maxText {
            throw ServiceError.invalid("\(label)不能超过 \(Self.maxText) 字 / \(label) is too long")
        }
        guard let idle = input.idle else { throw ServiceError.invalid("请选择是否闲置 / say whether the parcel is idle") }
        let photo: UploadedFile?
        do {
            photo = try UploadCheck.check(input.photo, maxBytes: Self.maxPhoto, kinds: ["jpg", "png"], fallbackStem: "现场照片")
        } catch .tooLarge {
            throw ServiceError(.tooLarge, "照片不能超过 10 MB / the photo is larger than 10 MB")
        } catch {
            throw ServiceError(.unsupportedType, "照片仅支持 JPG、PNG 格式 / only JPG and PNG photos are accepted")
        }
        let parcel = row.parcel.parcelID, actor = caller.actor, caller = self.caller
        return try await unscoped.db.transaction { db in
            let tx = Store(db)
            let id = try await tx.insertSurvey(parcelID: parcel, town: town, actualUse: use, occupantsSeen: seen, idle: idle,
                                               remarks: remarks, photo: photo, actor: actor)
            try await tx.audit(actor: actor, action: "survey.submit", target: "地块 \(parcel)", detail: caller.detail("调查 #\(id)：\(use)\(idle ? "（闲置）" : "")"))
            return id
        }
    }

    /// Confirms (`confirm`) or returns a submitted survey (a returned one needs a note);
    /// 409 when it was already reviewed. Returns it as it is now.
    public func review(id: Int64, decision: String?, note rawNote: String?) async throws -> Store.Survey {
        try caller.require(.reviewSurvey)
        let s = try await survey(id: id)
        let confirm: Bool
        switch (decision ?? "").trimmingCharacters(in: .whitespaces).lowercased() {
        case "confirm", "confirmed", "确认": confirm = true
        case "return", "returned", "退回": confirm = false
        default: throw ServiceError.invalid("请选择确认或退回 / decision must be confirm or return")
        }
        let note = Self.clean(rawNote)
        if !confirm && note == nil { throw ServiceError.invalid("退回调查须填写退回理由 / a returned survey needs a note") }
        if (note?.count ?? 0) > Self.maxText { throw ServiceError.invalid("复核意见不能超过 \(Self.maxText) 字 / the note is too long") }
        let to = confirm ? State.confirmed : State.returned
        let step = Store.Step(table: "surveys", key: [("id", s.id)], subject: "调查 #\(s.id)", stateColumn: "state", from: [State.submitted],
                              to: to, set: [("reviewed_by", SQLBind(caller.actor)), ("reviewed_at", SQLBind(Date())), ("review_note", SQLBind(note))],
                              action: confirm ? "survey.confirm" : "survey.return", detail: note,
                              verb: confirm ? ("确认", "confirm") : ("退回", "return"), stateName: { State.short($0) },
                              conflictMessage: nil)
        try await unscoped.perform(step, by: caller)
        return try await survey(id: s.id)
    }
}
