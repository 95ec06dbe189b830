import Foundation
import Vapor
import MujunCore
import MujunStore

/// `/parcels/{id}`: a parcel's facts, neighbours on a small map, occupants, the
/// low-efficiency assessment of every year, and its field surveys (with the form for its
/// town and the review buttons for the headquarters).
enum ParcelPage {
    static func render(_ req: Request, id: String, year asked: Int?, error: String?, form: LandFeature.SurveyInput?,
                       status: HTTPResponseStatus) async throws -> Response {
        let principal = try req.principal()
        guard let c = try await MapAPI.card(req, id: id, year: asked) else {
            return Page.render(title: "未找到地块", status: .notFound, active: "map") { h in
                h.el(.section, .cls("card empty"), .id("not-found")) { h in
                    h.el(.h1, text: "未找到该地块")
                    h.el(.p) { h in
                        h.text("没有编号为 "); h.el(.code, text: id); h.text(" 的地块，或该地块不在您的管辖范围内。")
                    }
                    h.el(.p) { h in h.el(.a, .href("/map"), text: "返回挂图作战") }
                }
            }
        }
        let land = req.service.land
        // neighbours for the small map
        var neighbours: [Store.ParcelRow] = []
        if let row = try await land.parcel(id: c.id, year: c.year) {
            neighbours = try await land.parcels(Store.ParcelFilter(year: c.year ?? -1, bbox: row.parcel.bbox.expanded(by: 150)), limit: 400).rows
        }
        var vis: LandService.Visibility?
        if let y = c.year { vis = try await land.visibility(year: y) }
        var fc = Array("{\"type\":\"FeatureCollection\",\"features\":[".utf8)
        fc += try LandGeo.features(neighbours) { vis?.mapClass($0) }
        fc += Array("]}".utf8)
        // the assessment of every year
        var byYear: [(Int, ParcelCardDTO)] = []
        for y in c.years {
            if y == c.year { byYear.append((y, c)) } else if let yc = try await MapAPI.card(req, id: c.id, year: y) { byYear.append((y, yc)) }
        }
        var surveys: [Store.Survey] = []
        var names: [String: String] = [:]
        if principal.role != .enterprise {
            let s = req.service.surveys
            surveys = try await s.surveys(parcelID: c.id)
            names = try await s.accountNames(Set(surveys.flatMap { [$0.surveyedBy] + ($0.reviewedBy.map { [$0] } ?? []) }))
        }
        let cases = try await CaseViews.linked(req, Store.CaseQuery(parcelID: c.id), what: "本地块")
        return Page.render(title: "地块 \(c.id)", status: status, active: "map", head: Page.Head.map) { h in
            body(&h, c, principal: principal, error: error, neighbours: fc, byYear: byYear)
            h.append(cases)
            if principal.role != .enterprise {
                surveySection(&h, c, principal: principal, surveys: surveys.map { SurveyDTO.make($0, names: names) }, form: form)
            }
        }
    }

    static func body(_ h: inout HTMLWriter, _ c: ParcelCardDTO, principal: Principal, error: String?, neighbours: [UInt8],
                     byYear: [(Int, ParcelCardDTO)]) {
        let year = c.year
        let yq = year.map(String.init)
        h.el(.p, .cls("crumbs")) { h in
            h.el(.a, .href(HTML.url("/map", [("year", yq), ("parcel", c.id)])), text: "← 在挂图上查看")
            if let cl = c.cluster { h.text(" · "); h.el(.a, .href(cl.link), text: "所在片区（第 \(cl.number) 片）") }
        }
        h.formError(error)
        h.el(.section, .cls("page-head")) { h in
            h.el(.h1, .id("parcel-title"), .data("parcel", c.id), text: "地块 \(c.id)")
            if !c.years.isEmpty {
                h.yearLinks(label: "认定年度：", years: c.years, current: year) { y in
                    HTML.url("/parcels/\(HTML.percent(c.id))", [("year", String(y))])
                }
            }
        }
        h.el(.div, .cls("parcel-top")) { h in
            h.el(.section, .cls("card"), .id("parcel-facts")) { h in
                h.el(.h2, text: "基本情况")
                h.el(.dl, .cls("facts")) { h in facts(&h, c, principal: principal) }
            }
            h.el(.section, .cls("card"), .id("parcel-map-card")) { h in
                h.el(.h2, text: "位置与相邻地块")
                h.el(.div, .cls("mini-map"), .id("parcel-map"), .data("source", "parcel-map-data"), .data("highlight", c.id), .data("year", yq ?? ""))
                h.el(.p, .cls("muted"), text: "红框为本地块；红色填充为低效用地，灰色为其他地块。点击相邻地块可打开其页面。")
            }
        }
        h.jsonScript(id: "parcel-map-data", json: neighbours)
        occupants(&h, c)
        history(&h, c, byYear: byYear)
    }

    static func facts(_ h: inout HTMLWriter, _ c: ParcelCardDTO, principal: Principal) {
        h.el(.dt, text: "所属镇街"); h.el(.dd, .id("parcel-town"), text: c.town)
        h.el(.dt, text: "区块"); h.el(.dd, .id("parcel-block"), text: c.block ?? "—")
        if let owner = c.ownerCreditCode {
            let link = c.occupants.first { $0.creditCode == owner }?.link
            h.el(.dt, text: "权利人")
            h.el(.dd, .id("parcel-owner")) { h in
                if let link { h.el(.a, .href(link), text: c.ownerName ?? owner) } else { h.text(c.ownerName ?? owner) }
                h.text(" ")
                h.el(.span, .cls("muted"), text: owner)
            }
        }
        h.el(.dt, text: "用途"); h.el(.dd, text: c.landUse ?? "—")
        h.el(.dt, text: "现状"); h.el(.dd, .id("parcel-status"), text: c.statusName ?? "—")
        h.el(.dt, text: "容积率"); h.el(.dd, text: HTML.num(c.far))
        let dates = [("批准日期", c.approvedOn), ("供地日期", c.suppliedOn), ("约定开工", c.startBy), ("约定竣工", c.finishBy), ("投产日期", c.operatingSince)]
        if dates.contains(where: { $0.1 != nil }) {
            h.el(.dt, text: "供地与建设")
            h.el(.dd, .id("parcel-dates")) { h in
                for (i, (label, d)) in dates.enumerated() where d != nil {
                    if i > 0 { h.text(" ") }
                    h.el(.span, .cls("date"), text: "\(label) \(d!)")
                }
            }
        }
        h.el(.dt, text: "计算面积")
        h.el(.dd, .id("parcel-area")) { h in
            h.text("\(HTML.num(c.areaMu)) 亩 ")
            h.el(.span, .cls("muted"), text: "（按 CGCS2000 高斯-克吕格投影计算）")
        }
        h.el(.dt, text: "登记面积")
        h.el(.dd, .id("parcel-registered")) { h in
            h.text(c.registeredMu.map { "\(HTML.num($0)) 亩" } ?? "—")
            if c.areaMismatch, let d = c.areaDifference {
                h.text(" ")
                h.el(.span, .cls("flag-mismatch"), .id("area-mismatch"), text: "面积差异 \(String(format: "%+.1f%%", d * 100))，需核实")
            } else if let d = c.areaDifference {
                h.text(" ")
                h.el(.span, .cls("muted"), text: "（差异 \(String(format: "%+.1f%%", d * 100))）")
            }
        }
        if let year = c.year {
            h.el(.dt, text: "\(year) 年度认定")
            h.el(.dd, .id("low-status"), .data("low", c.lowEfficiency == true)) { h in
                if !c.assessed { h.el(.span, .cls("muted"), text: "未认定") }
                else if c.lowEfficiency == true { h.el(.span, .cls("tag-low"), text: "低效用地") }
                else { h.el(.span, .cls("tag-ok"), text: "非低效") }
            }
            if c.lowEfficiency == true {
                h.el(.dt, text: "低效类型")
                h.el(.dd, .id("parcel-category"), .data("category", c.category ?? "none"), text: c.categoryName ?? "未归类（数据不足以归入五类）")
            }
            h.el(.dt, text: "亩均税收"); h.el(.dd, .id("parcel-tax"), text: c.taxPerMu.map { "\(HTML.num($0)) 万元/亩" } ?? "—")
            h.el(.dt, text: "低效连片")
            h.el(.dd, .id("parcel-cluster")) { h in
                if let cl = c.cluster {
                    h.el(.a, .href(cl.page), text: "第 \(cl.number) 片")
                    h.text("：\(cl.count) 个低效地块，\(HTML.num(cl.areaMu)) 亩，所在区块低效占比 \(String(format: "%.0f%%", cl.lowShare * 100))")
                    if cl.candidate { h.text(" "); h.el(.span, .cls("tag-cand"), text: "整治候选") }
                    h.text(" ")
                    h.el(.a, .cls("map-link"), .href(cl.link), text: "地图")
                } else { h.text("—") }
            }
        }
        if principal.role != .enterprise {
            h.el(.dt, text: "现场调查")
            h.el(.dd, .id("parcel-survey"), .data("state", c.surveyState)) { h in
                if let s = c.survey {
                    h.text("\(s.stateName)：")
                    h.el(.span, .cls("surveyor"), text: s.surveyedByName ?? s.surveyedBy)
                    h.text(" 于 \(s.surveyedAtText) 调查")
                    if let by = s.reviewedByName ?? s.reviewedBy, let at = s.reviewedAtText {
                        h.text("；")
                        h.el(.span, .cls("verifier"), text: by)
                        h.text(" 于 \(at)\(s.state == SurveyService.State.confirmed ? "确认" : "退回")")
                    }
                } else { h.text("未调查") }
            }
        }
    }

    static func occupants(_ h: inout HTMLWriter, _ c: ParcelCardDTO) {
        h.el(.section, .cls("card"), .id("occupants")) { h in
            h.el(.h2) { h in
                h.text("用地企业")
                if let y = c.year { h.text(" "); h.el(.small, text: "\(y) 年度") }
            }
            guard !c.occupants.isEmpty else {
                h.el(.p, .cls("muted"), .id("no-occupants"), text: "没有登记的用地企业。")
                return
            }
            h.el(.div, .cls("table-wrap")) { h in
                h.el(.table, .cls("data"), .id("occupants-table")) { h in
                    h.el(.thead) { h in
                        h.el(.tr) { h in
                            for (label, num) in [("企业名称", false), ("统一社会信用代码", false), ("关系", false), ("使用面积(亩)", true),
                                                 ("企业用地合计(亩)", true), ("评价税收(万元)", true), ("归集到本地块(万元)", true),
                                                 ("分类", false), ("总分", true)] {
                                h.el(.th, .cls(num ? "num" : nil), text: label)
                            }
                        }
                    }
                    h.el(.tbody) { h in
                        for o in c.occupants {
                            h.el(.tr, .data("credit-code", o.creditCode)) { h in
                                h.el(.td, .cls("name")) { h in
                                    if let link = o.link { h.el(.a, .href(link), text: o.name ?? o.creditCode) } else { h.text(o.name ?? o.creditCode) }
                                    if o.implicit { h.text(" "); h.el(.span, .cls("muted"), text: "（权利人，无用地关系记录）") }
                                }
                                h.el(.td, .cls("code"), text: o.creditCode)
                                h.el(.td, text: o.relationName)
                                h.el(.td, .cls("num"), text: HTML.num(o.areaMu))
                                h.el(.td, .cls("num"), text: HTML.num(o.totalAreaMu))
                                h.el(.td, .cls("num"), text: HTML.num(o.tax))
                                h.el(.td, .cls("num"), text: HTML.num(o.attributedTax))
                                h.el(.td, .cls("class")) { h in
                                    if let cls = o.cls { h.classBadge(cls) } else { h.el(.span, .cls("muted"), text: "—") }
                                }
                                h.el(.td, .cls("num total"), text: HTML.num(o.totalScore))
                            }
                        }
                    }
                    if let t = c.attributedTax {
                        h.el(.tfoot) { h in
                            h.el(.tr) { h in
                                h.el(.td, .colspan(6), text: "合计归集税收 ÷ 地块面积 = 亩均税收")
                                h.el(.td, .cls("num"), text: HTML.num(t))
                                h.el(.td, .colspan(2), text: "\(HTML.num(c.taxPerMu)) 万元/亩")
                            }
                        }
                    }
                }
            }
            h.el(.p, .cls("muted"), text: "企业的评价税收按其在各地块的使用面积比例归集到地块。")
        }
    }

    static func history(_ h: inout HTMLWriter, _ c: ParcelCardDTO, byYear: [(Int, ParcelCardDTO)]) {
        h.el(.section, .cls("card"), .id("reasons-history")) { h in
            h.el(.h2, text: "低效用地认定（历年）")
            if c.years.isEmpty {
                h.el(.p, .cls("muted"), text: "尚未运行认定。")
                return
            }
            h.table(id: "reasons-table", headers: [("年度", false), ("结论", false), ("认定理由", false), ("亩均税收(万元/亩)", true), ("集中连片", false)],
                    rows: byYear) { h, item in
                let (y, yc) = item
                h.el(.tr, .data("year", y), .cls(y == c.year ? "current" : nil)) { h in
                    h.el(.td, text: String(y))
                    h.el(.td) { h in
                        if !yc.assessed { h.text("未认定") }
                        else if yc.lowEfficiency == true { h.el(.span, .cls("tag-low"), text: "低效") }
                        else { h.el(.span, .cls("tag-ok"), text: "非低效") }
                    }
                    h.el(.td, .cls("reasons")) { h in
                        if yc.reasons.isEmpty { h.el(.span, .cls("muted"), text: "—") } else {
                            h.el(.ul) { h in for r in yc.reasons { h.el(.li, .data("kind", r.kind), text: r.text) } }
                        }
                    }
                    h.el(.td, .cls("num"), text: HTML.num(yc.taxPerMu))
                    h.el(.td) { h in
                        if let cl = yc.cluster {
                            h.el(.a, .href(cl.link), text: "第 \(cl.number) 片")
                            h.text("（\(HTML.num(cl.areaMu)) 亩\(cl.candidate ? "，整治候选" : "")）")
                        } else { h.text("—") }
                    }
                }
            }
        }
    }

    /// The survey history of a parcel, the review buttons (headquarters) and the survey form
    /// (a town user of the parcel's town).
    static func surveySection(_ h: inout HTMLWriter, _ c: ParcelCardDTO, principal: Principal, surveys: [SurveyDTO],
                              form: LandFeature.SurveyInput?) {
        let canReview = AccessPolicy.allows(principal.role, .reviewSurvey)
        h.el(.section, .cls("card"), .id("surveys")) { h in
            h.el(.h2) { h in h.text("现场调查与复核 "); h.el(.small, text: "地毯式排查 · 点对点复核") }
            if surveys.isEmpty {
                h.el(.p, .cls("muted"), .id("no-surveys"), text: "该地块尚无现场调查记录。")
            } else {
                h.table(id: "survey-table", headers: [("编号", false), ("状态", false), ("实际用途", false), ("现场所见企业", false), ("闲置", false),
                                                     ("备注", false), ("照片", false), ("调查人 / 时间", false), ("复核人 / 时间 / 意见", false)],
                        rows: surveys) { h, d in
                    h.el(.tr, .id("survey-\(d.id)"), .data("state", d.state)) { h in
                        h.el(.td, text: "#\(d.id)")
                        h.el(.td) { h in h.el(.span, .cls("survey-state st-\(d.state)"), text: d.stateName) }
                        h.el(.td, text: d.actualUse)
                        h.el(.td, .cls("wrap"), text: d.occupantsSeen ?? "—")
                        h.el(.td, text: d.idle ? "是" : "否")
                        h.el(.td, .cls("wrap"), text: d.remarks ?? "")
                        h.el(.td) { h in
                            if let photo = d.photo {
                                h.el(.a, .href(photo), .attr("target", "_blank"), .attr("rel", "noopener")) { h in
                                    h.void(.img, .cls("survey-photo"), .src(photo), .attr("alt", "现场照片"), .attr("loading", "lazy"))
                                }
                            } else { h.text("—") }
                        }
                        h.el(.td, .cls("surveyed-by")) { h in
                            h.text(d.surveyedByName ?? d.surveyedBy); h.void(.br); h.el(.span, .cls("muted"), text: d.surveyedAtText)
                        }
                        h.el(.td, .cls("reviewed-by")) { h in
                            if let by = d.reviewedByName ?? d.reviewedBy {
                                h.text(by); h.void(.br); h.el(.span, .cls("muted"), text: d.reviewedAtText ?? "")
                                if let n = d.reviewNote { h.void(.br); h.text(n) }
                            } else if d.state == SurveyService.State.submitted && canReview {
                                h.el(.form, .cls("review-form"), .method("post"), .action("/surveys/\(d.id)/review")) { h in
                                    h.csrfField()
                                    h.void(.input, .type("text"), .name("note"), .attr("maxlength", SurveyService.maxText), .placeholder("复核意见（退回时必填）"))
                                    h.el(.button, .type("submit"), .name("decision"), .value("confirm"), .cls("review-confirm"), text: "确认")
                                    h.el(.button, .type("submit"), .name("decision"), .value("return"), .cls("secondary review-return"), text: "退回")
                                }
                            } else {
                                h.el(.span, .cls("muted"), text: "待复核")
                            }
                        }
                    }
                }
            }
            if c.canSurvey {
                surveyForm(&h, c, form: form)
            } else if principal.role == .town {
                h.el(.p, .cls("muted"), text: "该地块不在本镇街辖区，不能登记调查。")
            }
        }
    }

    static func surveyForm(_ h: inout HTMLWriter, _ c: ParcelCardDTO, form: LandFeature.SurveyInput?) {
        let known = c.occupants.map { $0.name ?? $0.creditCode }.joined(separator: "、")
        let idle = form?.idle?.value ?? (c.status == ParcelStatus.idle.rawValue)
        h.el(.h3, text: "登记现场调查")
        h.el(.form, .id("survey-form"), .cls("survey-form"), .method("post"), .action("/parcels/\(HTML.percent(c.id))/surveys"),
             .attr("enctype", "multipart/form-data")) { h in
            h.csrfField()
            h.el(.label) { h in
                h.text("实际用途 ")
                h.void(.input, .type("text"), .id("actual-use"), .name("actual_use"), .attr("list", "use-options"), .required,
                       .attr("maxlength", SurveyService.maxUse), .value(form?.actualUse ?? ""), .placeholder("如：工业生产"))
            }
            h.el(.datalist, .id("use-options")) { h in for u in SurveyService.uses { h.el(.option, .value(u)) } }
            h.el(.label, .cls("block")) { h in
                h.text("现场所见企业 ")
                h.el(.span, .cls("muted"), text: "（已按用地关系预填，请按现场情况修改）")
                h.el(.textarea, .id("occupants-seen"), .name("occupants_seen"), .attr("rows", 2), .attr("maxlength", SurveyService.maxText),
                     text: form?.occupantsSeen ?? known)
            }
            h.el(.fieldset, .cls("inline")) { h in
                h.el(.legend, text: "是否闲置")
                h.el(.label) { h in h.void(.input, .type("radio"), .name("idle"), .value("0"), .checked(!idle)); h.text(" 否") }
                h.el(.label) { h in h.void(.input, .type("radio"), .name("idle"), .value("1"), .id("idle-yes"), .checked(idle)); h.text(" 是（闲置）") }
            }
            h.el(.label, .cls("block")) { h in
                h.text("备注 ")
                h.el(.textarea, .id("remarks"), .name("remarks"), .attr("rows", 2), .attr("maxlength", SurveyService.maxText), text: form?.remarks ?? "")
            }
            h.el(.label) { h in
                h.text("现场照片 ")
                h.void(.input, .type("file"), .id("photo"), .name("photo"), .attr("accept", "image/jpeg,image/png,.jpg,.jpeg,.png"))
                h.text(" ")
                h.el(.span, .cls("muted"), text: "JPG/PNG，不超过 10 MB，可不上传")
            }
            h.el(.p) { h in h.el(.button, .type("submit"), .id("survey-submit"), text: "提交调查") }
        }
    }

    // MARK: the forms

    static func submitFromForm(_ req: Request, id: String, _ input: LandFeature.SurveyInput) async throws -> Response {
        do {
            _ = try await req.service.surveys.submit(parcelID: id, input.service)
            return req.redirect(to: HTML.url("/parcels/\(HTML.percent(id))", []) + "#surveys", redirectType: .normal)
        } catch let e as ServiceError where e.kind != .notFound && e.kind != .forbidden {
            return try await render(req, id: id, year: nil, error: e.message, form: input, status: ErrorMiddleware.status(e.kind))
        }
    }

    static func reviewFromForm(_ req: Request, id: Int64, _ input: LandFeature.ReviewInput) async throws -> Response {
        let surveys = req.service.surveys
        do {
            let s = try await surveys.review(id: id, decision: input.decision?.rawValue, note: input.note)
            return req.redirect(to: "/parcels/\(HTML.percent(s.parcelID))#survey-\(s.id)", redirectType: .normal)
        } catch let e as ServiceError where e.kind != .notFound && e.kind != .forbidden {
            let s = try await surveys.survey(id: id)
            return try await render(req, id: s.parcelID, year: nil, error: e.message, form: nil, status: ErrorMiddleware.status(e.kind))
        }
    }
}
