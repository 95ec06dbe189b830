import Foundation
import Vapor
import MujunCore
import MujunStore

/// `/cases/import`: the headquarters uploads a file of cases to register and assign (FORMATS.md,
/// cases template) or a handling history (CASES.md §5) — all or nothing, every bad row named.
enum CaseImportPage {
    enum Outcome {
        case none
        case done(kind: String, file: String, summary: CaseService.ImportSummary)
        case refused(kind: String, file: String, failure: ImportFailure)
        case problem(String)
    }

    static var endpoints: [Endpoint] {
        [
            .page("/cases/import", .permission(.superviseCases), "批量登记与导入办理历史 / upload cases or a handling history", tag: "cases",
                  parameters: NoParameters.self) { _, _ in
                render(.none, status: .ok)
            },
            .form("/cases/import/cases", .permission(.superviseCases), "上传批量登记文件 / register cases from an uploaded file", tag: "cases",
                  parameters: NoParameters.self, body: UploadForm.self, accepts: [.multipart]) { req, _, f in
                try await upload(req, f, kind: "cases") { table, name in try await req.service.cases.registerFile(table, fileName: name) }
            },
            .form("/cases/import/history", .permission(.superviseCases), "上传办理历史 / import a handling history from an uploaded file",
                  tag: "cases", parameters: NoParameters.self, body: UploadForm.self, accepts: [.multipart]) { req, _, f in
                let ctx = req.application.serviceContext
                return try await upload(req, f, kind: "history") { table, name in
                    let h = try CaseHistory(table: table, types: ctx.caseTypes, calendar: ctx.calendar)
                    return try await req.service.cases.importHistory(h, fileName: name)
                }
            },
        ]
    }

    struct UploadForm: Decodable, Sendable {
        var file: File?
        var encoding: String?
    }

    static func upload(_ req: Request, _ f: UploadForm, kind: String,
                       _ run: (any TableSource, String) async throws -> CaseService.ImportSummary) async throws -> Response {
        guard let file = f.file, file.data.readableBytes > 0 else {
            return render(.problem("请选择要上传的 CSV 或 XLSX 文件 / choose a CSV or XLSX file"), status: .badRequest)
        }
        let name = UploadCheck.cleanName(file.filename).nilIfBlank ?? "upload.csv"
        do {
            let table = try TableReader.open(data: Data(buffer: file.data), name: name,
                                             encoding: f.encoding?.nilIfBlank.flatMap(TextEncodingChoice.init(name:)))
            return render(.done(kind: kind, file: name, summary: try await run(table, name)), status: .ok)
        } catch let failure as ImportFailure {
            return render(.refused(kind: kind, file: name, failure: failure),
                          status: failure.limitExceeded != nil ? .payloadTooLarge : .unprocessableEntity)
        } catch let e as ServiceError where e.kind == .invalid || e.kind == .conflict {
            return render(.problem(e.message), status: ErrorMiddleware.status(e.kind))
        }
    }

    static func render(_ outcome: Outcome, status: HTTPResponseStatus) -> Response {
        Page.render(title: "批量登记与导入", status: status, active: "cases") { h in
            h.el(.section, .cls("page-head")) { h in
                h.el(.p, .cls("muted")) { h in h.el(.a, .href("/cases"), text: "← 督办事项") }
                h.el(.h1, text: "批量登记与导入办理历史")
                h.el(.p, .cls("muted"), text: "整个文件全部通过检查才写入；有错误时逐行列出，不写入任何数据。CSV 可为 UTF-8 或 GB18030，也可上传 XLSX。")
            }
            switch outcome {
            case .none: break
            case .problem(let m): h.formError(m)
            case .done(let kind, let file, let s):
                h.el(.section, .cls("card notice-ok"), .id("import-result"), .data("kind", kind), .data("cases", s.cases), .data("events", s.events)) { h in
                    h.el(.h2, text: kind == "cases" ? "批量登记成功" : "办理历史导入成功")
                    h.el(.p, text: kind == "cases"
                         ? "已从 \(file) 登记并交办 \(s.cases) 件督办事项。"
                         : "已从 \(file) 导入 \(s.cases) 件、\(s.events) 条办理记录；\(s.unchanged) 件已存在且记录相同，未改动。")
                    h.el(.p) { h in h.el(.a, .href("/cases"), text: "查看督办事项") }
                }
            case .refused(let kind, let file, let failure):
                h.el(.section, .cls("card warning"), .id("import-errors"), .data("kind", kind), .data("count", failure.errors.count + failure.omitted)) { h in
                    h.el(.h2, text: "\(file) 未导入：\(failure.errors.count + failure.omitted) 处错误，未写入任何数据")
                    h.table(id: "import-errors-table", headers: [("行", true), ("列", false), ("问题", false)], rows: failure.errors) { h, e in
                        h.el(.tr, .data("row", e.row)) { h in
                            h.el(.td, .cls("num"), text: e.row > 0 ? String(e.row) : "文件")
                            h.el(.td, text: e.column)
                            h.el(.td, text: "\(e.messageZh) / \(e.messageEn)")
                        }
                    }
                    if failure.omitted > 0 { h.el(.p, .cls("muted"), text: "另有 \(failure.omitted) 处错误未列出。") }
                }
            }
            for (id, action, title, hint) in [
                ("cases-upload", "/cases/import/cases", "批量登记（督办事项模板）",
                 "列：类型、标题、提出人、主办单位、协办单位、办理期限、督办级别、地块编号、统一社会信用代码等（见导入模板说明）；每行登记并交办一件。"),
                ("history-upload", "/cases/import/history", "导入办理历史（往年记录）",
                 "每行一个事件：编号、类型、事件（登记/交办/签收/退回/延期/办理/答复/验收/评价/销号）、日期、单位…；已存在的事项须与文件记录一致。"),
            ] {
                h.el(.section, .cls("card")) { h in
                    h.el(.h2, text: title)
                    h.el(.p, .cls("muted"), text: hint)
                    LandImportPage.uploadForm(&h, id: id, action: action, fileID: "\(id)-file", accept: ".csv,.xlsx", button: "上传并导入") { h in
                        h.el(.p) { h in
                            h.el(.label) { h in
                                h.text("CSV 编码 ")
                                h.select(name: "encoding", id: "\(id)-encoding", options: [("", "自动识别"), ("utf-8", "UTF-8"), ("gb18030", "GB18030")], selected: "")
                            }
                        }
                    }
                }
            }
        }
    }
}
