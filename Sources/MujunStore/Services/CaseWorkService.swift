import Foundation
import FluentKit
import SQLKit
import MujunCore

/// What the closed loop records beside its steps: a co-unit's opinion (协办意见) to the lead unit,
/// an extension requested by the lead unit and decided by the headquarters (approval posts the
/// loop's `extend` step in the same transaction), the "three ones" of a suggestion's or
/// proposal's handling (报到一次、跑一次现场、邀请一次回访), follow-up reports (续报) owed after a reply
/// in category B or C, and the files attached to any of them.
///
/// ```swift
/// let s = services.acting(as: leadUnit).cases
/// let req = try await s.requestExtension(id: 7, due: "2026-09-30", reason: "需省厅批复")
/// try await services.acting(as: hq).cases.decideExtension(noteID: req, approve: true, note: "同意")
/// ```
extension CaseService {
    /// At most this many files per step or note, each at most `maxAttachmentBytes`.
    public static let maxAttachments = 5
    public static let maxAttachmentBytes = 10 * 1024 * 1024
    /// What may be attached (by extension): PDF, images, Word, Excel, OFD — each checked by its
    /// first bytes too, so a renamed file of another kind is refused.
    static let attachmentTypes: [String: (type: String, magic: [[UInt8]])] = [
        "pdf": ("application/pdf", [[0x25, 0x50, 0x44, 0x46]]),
        "jpg": ("image/jpeg", [[0xFF, 0xD8, 0xFF]]), "jpeg": ("image/jpeg", [[0xFF, 0xD8, 0xFF]]),
        "png": ("image/png", [[0x89, 0x50, 0x4E, 0x47]]),
        "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", [[0x50, 0x4B, 0x03, 0x04]]),
        "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", [[0x50, 0x4B, 0x03, 0x04]]),
        "ofd": ("application/ofd", [[0x50, 0x4B, 0x03, 0x04]]),
        "doc": ("application/msword", [[0xD0, 0xCF, 0x11, 0xE0]]), "xls": ("application/vnd.ms-excel", [[0xD0, 0xCF, 0x11, 0xE0]]),
    ]

    /// The files checked for attaching: a clean name, an allowed kind by name and content, not
    /// empty, not too large.
    static func checked(_ files: [Store.NewAttachment]) throws -> [Store.NewAttachment] {
        let files = files.filter { !$0.data.isEmpty }
        guard files.count <= maxAttachments else {
            throw ServiceError.invalid("附件最多 \(maxAttachments) 个 / at most \(maxAttachments) attachments")
        }
        return try files.map { f in
            var name = UploadCheck.cleanName(f.name)
            let ext = (name as NSString).pathExtension.lowercased()
            guard let kind = attachmentTypes[ext], kind.magic.contains(where: { f.data.starts(with: $0) }) else {
                throw ServiceError(.unsupportedType, "附件「\(name)」不是可接受的文件（PDF、JPG、PNG、Word、Excel、OFD）/ the attachment \"\(name)\" is not an accepted kind of file")
            }
            guard f.data.count <= maxAttachmentBytes else {
                throw ServiceError(.tooLarge, "附件「\(name)」超过 \(maxAttachmentBytes / 1024 / 1024) MB / the attachment \"\(name)\" is too large")
            }
            if name.hasPrefix(".") { name = "附件." + ext }
            return Store.NewAttachment(name: name, contentType: kind.type, data: f.data)
        }
    }

    /// The unit the caller acts as (a town under its town's name), if any.
    var callerUnit: String? {
        guard let p = caller.principal else { return nil }
        return p.role == .town ? p.town : p.unit
    }

    /// The notes of a case and its attachments (the caller's right to see the case already checked).
    func notesAndFiles(_ id: Int64) async throws -> ([Store.CaseNoteRecord], [Store.AttachmentRecord]) {
        (try await unscoped.notes(caseID: id), try await unscoped.attachments(caseID: id))
    }

    /// What the caller may record on case `r` besides the loop's steps.
    func noteActions(_ r: Store.CaseRecord, type: CaseType, loop: CaseLoop, notes: [Store.CaseNoteRecord]) -> [CaseNoteKind] {
        var out: [CaseNoteKind] = []
        guard caller.allows(.handleCases) || caller.isSystem, let unit = callerUnit ?? (caller.isSystem ? r.leadUnit : nil) else { return out }
        let open = loop.state == .assigned || loop.state == .handling
        if open, r.coUnitList.contains(unit), unit != r.leadUnit { out.append(.opinion) }
        guard unit == r.leadUnit else { return out }
        if loop.state == .handling, loop.check(.extend) == nil, !notes.contains(where: { $0.kind == "extension" && $0.decision == "pending" }),
           type.extendUpTo != nil || type.reply == nil {
            out.append(.extension)
        }
        if Self.hasThreeOnes(type), [.handling, .replied, .verified, .evaluated].contains(loop.state) { out += CaseNoteKind.threeOnes }
        if r.followUpDue != nil { out.append(.followup) }
        return out
    }

    /// Suggestions and proposals (the types whose replies owe follow-up reports) record the "three ones".
    static func hasThreeOnes(_ type: CaseType) -> Bool { !type.followUpCategories.isEmpty }

    /// Records a note of `kind` on case `id` (an opinion, one of the three ones, a follow-up report)
    /// with its attachments, in one transaction with its audit entry. Extension requests go through
    /// ``requestExtension(id:due:reason:files:)``.
    @discardableResult
    public func addNote(id: Int64, _ kind: CaseNoteKind, text: String, head: Bool = false, resolved: Bool = false,
                        files: [Store.NewAttachment] = []) async throws -> Int64 {
        try caller.require(.viewCases)
        guard kind != .extension else { throw ServiceError.invalid("延期请用延期申请 / request an extension instead") }
        let r = try await visible(id)
        let (type, loop) = try replay(r, try await unscoped.loopEvents(caseID: id))
        let notes = try await unscoped.notes(caseID: id)
        guard noteActions(r, type: type, loop: loop, notes: notes).contains(kind) else {
            throw ServiceError(.forbidden, kind == .opinion ? "只有协办单位可以在办理期间提出协办意见 / only a co-unit may give an opinion while the case is open"
                               : "只有主办单位可以记录\(kind.chinese) / only the lead unit may record this")
        }
        let text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty || kind != .opinion && kind != .followup else {
            throw ServiceError.invalid("请填写\(kind.chinese)内容 / the text is required")
        }
        guard text.count <= Self.maxNote else { throw ServiceError.invalid("内容过长 / the text is too long") }
        let files = try Self.checked(files)
        let today = self.today
        var nextDue: String?
        if kind == .followup, !resolved {
            let period = type.followUp ?? CasePeriod.months(6)
            nextDue = period.due(from: today, calendar: calendar).description
        }
        let unit = callerUnit ?? r.leadUnit ?? ""
        let next = nextDue
        let actor = caller.actor
        let detail = caller.detail(text.isEmpty ? nil : text)
        let now = Store.nowMicros()
        return try await unscoped.db.transaction { db in
            let tx = Store(db)
            let noteID = try await tx.insertNote(caseID: id, kind: kind.rawValue, date: today.description, unit: unit, actor: actor,
                                                 text: text, due: next, head: head, resolved: resolved, recordedUs: now)
            for f in files { try await tx.insertAttachment(caseID: id, eventSeq: nil, noteID: noteID, f, by: actor, recordedUs: now) }
            if kind == .followup { try await tx.setFollowUpDue(caseID: id, next) }
            try await tx.audit(actor: actor, action: "case.note.\(kind.rawValue)", target: "\(type.name) \(r.ref)", detail: detail)
            return noteID
        }
    }

    /// The lead unit asks for the reply deadline to move to `due`: refused at once when the
    /// engine would refuse the extension (not later than the current deadline, beyond the type's
    /// limit, one too many); otherwise pending until the headquarters decides.
    @discardableResult
    public func requestExtension(id: Int64, due: String, reason: String, files: [Store.NewAttachment] = []) async throws -> Int64 {
        try caller.require(.viewCases)
        let r = try await visible(id)
        let (type, loop) = try replay(r, try await unscoped.loopEvents(caseID: id))
        let notes = try await unscoped.notes(caseID: id)
        guard let unit = callerUnit, unit == r.leadUnit, caller.allows(.handleCases) else {
            throw ServiceError(.forbidden, "只有主办单位（\(r.leadUnit ?? "未交办")）可以申请延期 / only the lead unit may request an extension")
        }
        guard loop.check(.extend) == nil else {
            throw ServiceError.conflict("督办事项 \(r.ref) 当前为「\(loop.state.chinese)」，不能申请延期 / the case is \(loop.state.rawValue); no extension now")
        }
        guard !notes.contains(where: { $0.kind == "extension" && $0.decision == "pending" }) else {
            throw ServiceError.conflict("督办事项 \(r.ref) 已有待审批的延期申请 / an extension request is already pending")
        }
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else { throw ServiceError.invalid("请说明延期理由 / give the reason for the extension") }
        guard reason.count <= Self.maxNote else { throw ServiceError.invalid("理由过长 / the reason is too long") }
        guard let d = try parseDate(due, "延期至 / new due date") else { throw ServiceError.invalid("请填写延期至的日期 / give the new due date") }
        var trial = loop
        do { try trial.apply(MujunCore.CaseEvent(.extend, today, due: d), calendar: calendar) } catch {
            throw ServiceError.invalid("督办事项 \(r.ref)：\(error.zh) / case \(r.ref): \(error.en)")
        }
        let files = try Self.checked(files)
        let actor = caller.actor, today = self.today, now = Store.nowMicros()
        let detail = caller.detail("申请延期至 \(d)：\(reason)")
        return try await unscoped.db.transaction { db in
            let tx = Store(db)
            let noteID = try await tx.insertNote(caseID: id, kind: CaseNoteKind.extension.rawValue, date: today.description, unit: unit,
                                                 actor: actor, text: reason, due: d.description, decision: "pending", recordedUs: now)
            for f in files { try await tx.insertAttachment(caseID: id, eventSeq: nil, noteID: noteID, f, by: actor, recordedUs: now) }
            try await tx.audit(actor: actor, action: "case.extension.requested", target: "\(type.name) \(r.ref)", detail: detail)
            return noteID
        }
    }

    /// The headquarters decides a pending extension request. Approval takes the loop's `extend`
    /// step (moving the reply deadline) and marks the request approved in one transaction; a
    /// request already decided, or a case changed meanwhile, is a 409 and nothing changes.
    @discardableResult
    public func decideExtension(noteID: Int64, approve: Bool, note: String = "") async throws -> CaseView {
        try caller.require(.superviseCases)
        guard let n = try await unscoped.note(id: noteID), n.kind == CaseNoteKind.extension.rawValue else {
            throw ServiceError.notFound("延期申请不存在 / extension request not found")
        }
        guard n.decision == "pending" else {
            throw ServiceError.conflict("该延期申请已\(n.decision == "approved" ? "批准" : "驳回") / the request was already decided")
        }
        let note = note.trimmingCharacters(in: .whitespacesAndNewlines)
        guard approve || !note.isEmpty else { throw ServiceError.invalid("驳回须说明理由 / give the reason for refusing") }
        guard note.count <= Self.maxNote else { throw ServiceError.invalid("说明过长 / the note is too long") }
        let actor = caller.actor, today = self.today.description
        if approve {
            let text = "批准延期申请：\(n.text)\(note.isEmpty ? "" : "；\(note)")"
            return try await step(id: n.caseId, .extend, StepInput(due: n.due, note: text)) { tx in
                guard try await tx.decideExtension(noteID: noteID, approved: true, by: actor, on: today, note: note) else {
                    throw ServiceError.conflict("该延期申请已被他人处理 / the request was decided by someone else")
                }
            }
        }
        let r = try await visible(n.caseId)
        let detail = caller.detail("驳回延期申请：\(note)")
        try await unscoped.db.transaction { db in
            let tx = Store(db)
            guard try await tx.decideExtension(noteID: noteID, approved: false, by: actor, on: today, note: note) else {
                throw ServiceError.conflict("该延期申请已被他人处理 / the request was decided by someone else")
            }
            try await tx.audit(actor: actor, action: "case.extension.refused", target: "\(types.stored(r.type)?.name ?? r.type) \(r.ref)", detail: detail)
        }
        return try await makeView(try await visible(n.caseId))
    }

    /// The pending extension requests the caller may decide (HQ), oldest first.
    public func pendingExtensions() async throws -> [Store.CaseNoteRecord] {
        try caller.require(.superviseCases)
        return try await unscoped.pendingExtensions()
    }

    /// One attachment of a case the caller may see.
    public func attachment(caseID: Int64, id: Int64) async throws -> (Store.AttachmentRecord, Data) {
        try caller.require(.viewCases)
        _ = try await visible(caseID)
        guard let a = try await unscoped.attachmentData(id: id, caseID: caseID) else {
            throw ServiceError.notFound("附件不存在 / attachment not found")
        }
        return a
    }
}

// MARK: - meetings

extension CaseService {
    /// A meeting and the items raised at it, each assigned on the spot.
    public struct MeetingInput: Sendable {
        public struct Item: Sendable {
            public var type: String
            public var title: String
            public var body: String
            /// Who raised it (an entrepreneur, a deputy, a resident); default: the meeting's chair.
            public var requester: String
            public var creditCode: String?
            public var parcelID: String?
            public var leadUnit: String
            public var coUnits: [String]
            public var due: String?
            public var level: String?
            public init(type: String, title: String, body: String = "", requester: String = "", creditCode: String? = nil, parcelID: String? = nil,
                        leadUnit: String, coUnits: [String] = [], due: String? = nil, level: String? = nil) {
                self.type = type; self.title = title; self.body = body; self.requester = requester; self.creditCode = creditCode
                self.parcelID = parcelID; self.leadUnit = leadUnit; self.coUnits = coUnits; self.due = due; self.level = level
            }
        }
        public var kind: String
        public var title: String
        public var heldOn: String?
        public var place: String
        public var chair: String
        public var attendees: [String]
        public var notes: String
        public var items: [Item]
        public init(kind: String, title: String, heldOn: String? = nil, place: String = "", chair: String, attendees: [String] = [],
                    notes: String = "", items: [Item]) {
            self.kind = kind; self.title = title; self.heldOn = heldOn; self.place = place; self.chair = chair
            self.attendees = attendees; self.notes = notes; self.items = items
        }
    }

    /// A meeting with the items the caller may see and how many have been answered.
    public struct MeetingView: Sendable {
        public var meeting: Store.MeetingRecord
        public var items: [Store.CaseRecord]
        public var itemCount: Int
        public var answered: Int
    }

    /// Records a meeting and registers and assigns every item as a case, all in one transaction:
    /// a bad item (unknown unit or type, a due date before the meeting) names its number and
    /// nothing is written. Returns the meeting and the query codes of its petitions (信访, from a
    /// 领导接访), to be shown once.
    public func createMeeting(_ m: MeetingInput) async throws -> (id: Int64, queryCodes: [(ref: String, code: String)]) {
        try caller.require(.superviseCases)
        guard let kind = MeetingKind(named: m.kind) else {
            throw ServiceError.invalid("未知的会议类型「\(m.kind)」（可选：\(MeetingKind.allCases.map(\.chinese).joined(separator: "、"))）/ unknown meeting kind")
        }
        let title = m.title.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !title.isEmpty, title.count <= Self.maxTitle else { throw ServiceError.invalid("请填写会议名称（不超过 \(Self.maxTitle) 字）/ the meeting's title is required") }
        let chair = m.chair.trimmingCharacters(in: .whitespaces)
        guard !chair.isEmpty else { throw ServiceError.invalid("请填写主持人 / the chair is required") }
        let held = try parseDate(m.heldOn, "会议日期 / meeting date") ?? today
        guard held <= today else { throw ServiceError.invalid("会议日期 \(held) 晚于今天 / the meeting date is in the future") }
        let attendees = m.attendees.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard m.notes.count <= Self.maxBody, m.place.count <= Self.maxTitle, attendees.count <= 500 else {
            throw ServiceError.invalid("内容过长 / too long")
        }
        let items = m.items.filter { !$0.title.trimmingCharacters(in: .whitespaces).isEmpty }
        guard !items.isEmpty else { throw ServiceError.invalid("请至少填写一个交办事项 / a meeting needs at least one item") }
        let knownUnits = Set(try await units())
        var nextNumber: [String: Int] = [:]
        var prepared: [(Store.NewCase, CaseLoop, [MujunCore.CaseEvent])] = []
        var queryCodes: [(ref: String, code: String)] = []
        for (i, item) in items.enumerated() {
            let n = i + 1
            guard let type = types.type(named: item.type) else {
                throw ServiceError.invalid("第 \(n) 项：未知的督办事项类型「\(item.type)」/ item \(n): unknown case type")
            }
            if nextNumber[type.key] == nil {
                let used = try await unscoped.caseRefs(type: type.key, prefix: "\(held.year)-")
                nextNumber[type.key] = (used.compactMap { Int($0.dropFirst(5)) }.max() ?? 0) + 1
            }
            let ref = String(format: "%d-%04d", held.year, nextNumber[type.key]!)
            nextNumber[type.key]! += 1
            let requester = item.requester.trimmingCharacters(in: .whitespaces).isEmpty ? chair : item.requester
            let reg = Registration(type: type.key, ref: ref, title: item.title, body: item.body, requester: requester,
                                   creditCode: item.creditCode, parcelID: item.parcelID, date: held.description,
                                   assign: .init(unit: item.leadUnit, coUnits: item.coUnits, due: item.due, level: item.level))
            do {
                let (new, events, loop, code) = try await prepare(reg, knownUnits: knownUnits)
                prepared.append((new, loop, events))
                if let code { queryCodes.append((ref, code)) }
            } catch {
                throw ServiceError.invalid("第 \(n) 项「\(item.title)」：\(error.error.message) / item \(n)")
            }
        }
        let actor = caller.actor, now = Store.nowMicros()
        let items_ = prepared
        let subject = "\(kind.chinese) \(held) \(title)"
        let detail = caller.detail("\(items_.count) 项交办")
        let id = try await unscoped.db.transaction { db in
            let tx = Store(db)
            for (c, loop, _) in items_ where try await tx.caseID(type: c.type, ref: c.ref) != nil {
                throw ServiceError.conflict("\(loop.type.name) \(c.ref) 已存在，请重试 / \(c.ref) exists; try again")
            }
            let id = try await tx.insertMeeting(kind: kind.rawValue, title: title, heldOn: held.description, place: m.place, chair: chair,
                                                attendees: attendees, notes: m.notes, createdBy: actor, recordedUs: now)
            let withMeeting = items_.map { c, loop, ev in
                var c = c
                c.meetingID = id
                return (c, loop, ev)
            }
            try await tx.insertCases(withMeeting, actor: actor, recordedUs: now)
            try await tx.audit(actor: actor, action: "meeting.created", target: subject, detail: detail)
            for (c, loop, _) in withMeeting {
                try await tx.audit(actor: actor, action: "case.registered", target: "\(loop.type.name) \(c.ref)",
                                   detail: "会议交办：\(subject)；交办 \(loop.assignment?.unit ?? "")")
            }
            return id
        }
        return (id, queryCodes)
    }

    /// The meetings, newest first, with their items' counts (all items: the meeting is the
    /// headquarters' record; each item's details stay within the case scope).
    public func meetings() async throws -> [(Store.MeetingRecord, items: Int, answered: Int)] {
        try caller.require(.viewCases)
        let counts = try await unscoped.meetingItemCounts()
        return try await unscoped.meetings().map { ($0, counts[$0.id]?.items ?? 0, counts[$0.id]?.answered ?? 0) }
    }

    /// One meeting with the items the caller may see.
    public func meeting(id: Int64) async throws -> MeetingView {
        try caller.require(.viewCases)
        guard let m = try await unscoped.meeting(id: id) else { throw ServiceError.notFound("会议不存在 / meeting not found") }
        let items = try await unscoped.cases(scope: caller.caseScope, Store.CaseQuery(meetingID: id)).sorted { $0.id < $1.id }
        let counts = try await unscoped.meetingItemCounts()[id]
        return MeetingView(meeting: m, items: items, itemCount: counts?.items ?? 0, answered: counts?.answered ?? 0)
    }
}

extension CaseService {
    /// The case an extension request belongs to (for the headquarters deciding it).
    public func extensionCase(noteID: Int64) async throws -> Int64? {
        try caller.require(.superviseCases)
        guard let n = try await unscoped.note(id: noteID), n.kind == CaseNoteKind.extension.rawValue else { return nil }
        return n.caseId
    }
}

extension CaseService {
    /// The caller's cases linked to parcels and not yet closed, with today's flag (the battle map's layer).
    public func onMap() async throws -> [(Store.OpenCaseOnMap, CaseFlag)] {
        try caller.require(.viewCases)
        let today = self.today
        return try await unscoped.openCasesOnParcels(scope: caller.caseScope).map { c in
            (c, Self.flag(state: c.state, acceptDue: c.acceptDue, replyDue: c.replyDue, rehandleDue: c.rehandleDue, at: today,
                          calendar: calendar, redAfter: types.redAfter))
        }
    }
}
