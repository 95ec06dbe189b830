import Foundation
import Vapor
import MujunCore
import MujunStore

/// The banks' credit list (亩均英雄贷): consenting enterprises of the eligible classes in final
/// years, with class and score only.
enum BankFeature: Feature {
    static let endpoints: [Endpoint] = [
        .page("/bank", .permission(.viewCreditList), "亩均英雄贷名单 / the credit list", tag: "credit", parameters: YearQuery.self) { req, q in
            guard let list = try await req.service.credit.creditList(year: q.year?.int) else { return BankViews.noFinalYear() }
            return BankViews.page(CreditListDTO(list))
        },
        .download("/bank/credit-list.xlsx", .permission(.viewCreditList), "导出亩均英雄贷名单 Excel / the credit list as XLSX",
                  tag: "credit", parameters: YearQuery.self, mediaType: Page.xlsxType, documented: false) { req, q in
            guard let list = try await req.service.credit.creditList(year: q.year?.int) else {
                throw Abort(.notFound, reason: "尚无正式发布的评价年度 / no final year yet")
            }
            let dto = CreditListDTO(list)
            let data = try BankViews.workbook(dto, rulesName: list.rules.name).data()
            try await req.service.admin.recordExport("export.credit_list", target: "\(dto.year)", detail: "\(dto.items.count) 家企业")
            return Page.download(data, type: Page.xlsxType, asciiName: "credit-list-\(dto.year).xlsx", name: "\(dto.year)年度亩均英雄贷名单.xlsx")
        },
        .json(.GET, "/api/v1/credit-list", .permission(.viewCreditList), "亩均英雄贷名单 / the credit list of a final year",
              tag: "credit", parameters: YearQuery.self, output: CreditListDTO.self) { req, q in
            guard let list = try await req.service.credit.creditList(year: q.year?.int) else {
                throw Abort(.notFound, reason: "尚无正式发布的评价年度 / no final year yet")
            }
            return CreditListDTO(list)
        },
    ]

    struct YearQuery: Decodable, Sendable { var year: Year? }
}

/// One row of the credit list as the bank sees it: class and score only, with the terms.
struct CreditItemDTO: Content {
    var creditCode: String
    var name: String
    var town: String
    var group: String
    var groupName: String
    var cls: String
    var totalScore: Double
    var creditRateDiscount: Double?
    var creditLineMultiple: Double?
    enum CodingKeys: String, CodingKey {
        case creditCode, name, town, group, groupName, cls = "class", totalScore, creditRateDiscount, creditLineMultiple
    }
}

struct CreditTermDTO: Content {
    var cls: String
    var creditRateDiscount: Double?
    var creditLineMultiple: Double?
    enum CodingKeys: String, CodingKey { case cls = "class", creditRateDiscount, creditLineMultiple }
}

struct CreditListDTO: Content {
    var year: Int
    var finalYears: [Int]
    var terms: [CreditTermDTO]
    var items: [CreditItemDTO]

    init(_ list: CreditService.CreditList) {
        year = list.year
        finalYears = list.finalYears
        terms = list.eligible.map { c in
            CreditTermDTO(cls: c.rawValue, creditRateDiscount: list.rules.policy(for: c)?.creditRateDiscount,
                          creditLineMultiple: list.rules.policy(for: c)?.creditLineMultiple)
        }
        items = list.rows.map { r in
            let pol = EnterpriseClass(rawValue: r.finalClass).flatMap { list.rules.policy(for: $0) }
            return CreditItemDTO(creditCode: r.creditCode, name: r.name, town: r.town, group: r.group,
                                 groupName: EnterpriseGroup(rawValue: r.group)?.chinese ?? r.group, cls: r.finalClass,
                                 totalScore: r.totalScore, creditRateDiscount: pol?.creditRateDiscount,
                                 creditLineMultiple: pol?.creditLineMultiple)
        }
    }
}

enum BankViews {
    static func termText(_ x: Double?, _ unit: String) -> String { x.map { "\(formatNumber($0)) \(unit)" } ?? "—" }

    static func noFinalYear() -> Response {
        Page.render(title: "亩均英雄贷", active: "bank") { h in
            h.el(.section, .cls("card empty"), .id("no-final")) { h in
                h.el(.h1, text: "亩均英雄贷名单")
                h.el(.p, text: "尚无正式发布的评价年度。评价结果经公示并正式发布后，这里将列出同意授权的 A、B 类企业。")
            }
        }
    }

    static func page(_ list: CreditListDTO) -> Response {
        Page.render(title: "\(list.year) 年度亩均英雄贷名单", active: "bank") { h in
            h.el(.section, .cls("page-head")) { h in
                h.el(.h1, text: "\(list.year) 年度亩均英雄贷名单")
                h.yearLinks(label: "正式发布年度：", years: list.finalYears, current: list.year) { "/bank?year=\($0)" }
            }
            h.el(.section, .cls("card"), .id("credit-terms")) { h in
                h.el(.h2, text: "授信政策")
                h.el(.table, .cls("data"), .id("credit-terms-table")) { h in
                    h.el(.thead) { h in
                        h.el(.tr) { h in
                            h.el(.th, text: "分类"); h.el(.th, .cls("num"), text: "利率优惠"); h.el(.th, .cls("num"), text: "授信额度倍数")
                        }
                    }
                    h.el(.tbody) { h in
                        for t in list.terms {
                            h.el(.tr, .data("class", t.cls)) { h in
                                h.el(.td) { h in h.classBadge(t.cls) }
                                h.el(.td, .cls("num"), text: termText(t.creditRateDiscount, "个百分点"))
                                h.el(.td, .cls("num"), text: termText(t.creditLineMultiple, "倍"))
                            }
                        }
                    }
                }
                h.el(.p, .cls("muted"), text: "名单仅含正式发布年度中分类可申请亩均英雄贷、且本企业已同意授权的企业；仅提供分类和总分，不含企业的其他数据。")
            }
            h.el(.section, .cls("card")) { h in
                h.el(.div, .cls("toolbar")) { h in
                    h.el(.span, .id("credit-total"), .data("total", list.items.count), text: "共 \(list.items.count) 家企业")
                    h.el(.a, .id("export-xlsx"), .cls("button"), .href("/bank/credit-list.xlsx?year=\(list.year)"), text: "导出 Excel")
                }
                h.table(id: "credit-list", headers: [("序号", true), ("企业名称", false), ("统一社会信用代码", false), ("镇街", false),
                                                     ("规模", false), ("分类", false), ("总分", true), ("利率优惠", true), ("授信额度倍数", true)],
                        rows: Array(list.items.enumerated()), empty: "暂无同意授权的企业。") { h, item in
                    let (i, r) = item
                    h.el(.tr, .data("credit-code", r.creditCode), .data("class", r.cls)) { h in
                        h.el(.td, .cls("num"), text: String(i + 1))
                        h.el(.td, .cls("name"), text: r.name)
                        h.el(.td, .cls("code"), text: r.creditCode)
                        h.el(.td, text: r.town)
                        h.el(.td, text: r.groupName)
                        h.el(.td, .cls("class cls-\(r.cls)")) { h in h.classBadge(r.cls) }
                        h.el(.td, .cls("num total"), text: HTML.num(r.totalScore))
                        h.el(.td, .cls("num"), text: termText(r.creditRateDiscount, "个百分点"))
                        h.el(.td, .cls("num"), text: termText(r.creditLineMultiple, "倍"))
                    }
                }
            }
        }
    }

    static func workbook(_ list: CreditListDTO, rulesName: String) -> XLSXWriter {
        func num(_ x: Double?) -> XLSXCell { x.map { $0.isFinite ? .number($0) : .empty } ?? .empty }
        var w = XLSXWriter()
        let rows: [[XLSXCell]] = list.items.enumerated().map { i, r in
            [.number(Double(i + 1)), .text(r.name), .text(r.creditCode), .text(r.town), .text(r.groupName), .text(r.cls),
             num(r.totalScore), num(r.creditRateDiscount), num(r.creditLineMultiple)]
        }
        w.addSheet(name: "亩均英雄贷名单", headers: ["序号", "企业名称", "统一社会信用代码", "所属镇街", "规模", "分类", "总分",
                                                "利率优惠(百分点)", "授信额度倍数"],
                   rows: rows, columnWidths: [7, 36, 22, 14, 7, 7, 9, 14, 12],
                   numberFormats: ["0", nil, nil, nil, nil, nil, "0.00", "0.00", "0.0"])
        w.addSheet(name: "授信政策", headers: ["分类", "利率优惠(百分点)", "授信额度倍数"],
                   rows: list.terms.map { [.text($0.cls), num($0.creditRateDiscount), num($0.creditLineMultiple)] },
                   columnWidths: [8, 16, 14])
        w.addSheet(name: "说明", headers: ["项目", "内容"], rows: [
            [.text("评价年度"), .text("\(list.year)（正式发布）")],
            [.text("评价规则"), .text(rulesName)],
            [.text("企业数"), .text("\(list.items.count)")],
            [.text("导出时间"), .text(HTML.dateTime(Date()))],
            [.text("说明"), .text("仅含分类可申请亩均英雄贷且已同意授权的企业；仅提供分类和总分，不含企业的其他数据。")],
        ], columnWidths: [12, 70])
        return w
    }
}
