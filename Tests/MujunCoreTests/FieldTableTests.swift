import Foundation
import Testing
@testable import MujunCore

/// The one table of figures and indicators (``RecordField``, ``Indicator``): what the template,
/// the indicators and the appeals take from it.
@Suite struct FieldTableTests {
    @Test func templateColumnsComeFromTheTable() {
        #expect(EnterpriseImport.fields.map(\.chinese) == [
            "年度", "统一社会信用代码", "企业名称", "所属镇街", "规模", "行业代码", "用地面积(亩)", "评价税收(万元)",
            "工业增加值(万元)", "营业收入(万元)", "研发经费(万元)", "综合能耗(吨标煤)", "排放当量(吨)", "用电量(万千瓦时)",
            "年平均职工人数", "一票否决", "不参评原因",
        ])
        #expect(EnterpriseImport.fields.filter(\.required).map(\.key) == ["credit_code", "name", "town", "scale", "land_mu"])
        for f in RecordField.allCases {
            #expect(EnterpriseImport.fields.contains { $0.key == f.key && $0.chinese == f.chinese })
        }
        #expect(RecordField.allCases.filter(\.allowsNegative) == [.tax, .valueAdded])
        #expect(RecordField.tax.shortName == "税收" && RecordField.rnd.shortName == "研发经费")
    }

    @Test func indicatorsAreFiguresDividedByFigures() {
        let expected: [Indicator: (String, String, String, String)] = [
            .taxPerMu: ("亩均税收", "万元/亩", "tax", "land_mu"),
            .vaPerMu: ("亩均增加值", "万元/亩", "value_added", "land_mu"),
            .vaPerEnergy: ("单位能耗增加值", "万元/吨标煤", "value_added", "energy_tce"),
            .vaPerEmission: ("单位排放增加值", "万元/吨", "value_added", "emissions"),
            .labourProductivity: ("全员劳动生产率", "万元/人", "value_added", "employees"),
            .rndRatio: ("研发经费占营业收入比重", "比值", "rnd", "revenue"),
            .taxPerKwh: ("单位电耗税收", "万元/万千瓦时", "tax", "electricity"),
        ]
        for ind in Indicator.allCases {
            let e = expected[ind]!
            #expect(ind.chinese == e.0 && ind.unit == e.1 && ind.fields.numerator == e.2 && ind.fields.denominator == e.3)
        }
        #expect(Indicator.taxPerMu.formula == "评价税收 ÷ 用地面积")
        #expect(Indicator.allCases.filter(\.isRatio) == [.rndRatio])
        var r = EnterpriseRecord(year: 2025, creditCode: "X", name: "甲", town: "古山镇", group: .above, landMu: 4, tax: 10)
        #expect(Indicator.taxPerMu.value(r) == 2.5)
        r[.landMu] = 0
        #expect(Indicator.taxPerMu.value(r) == nil && r.landMu == 0)
        for f in RecordField.allCases {
            f.set(Double(f.key.count), on: &r)
            #expect(r[f] == Double(f.key.count) && f.value(of: r) == Double(f.key.count))
        }
        #expect(r.employees == 9 && r.valueAdded == 11)
        // appeals dispute exactly the figures, by the same keys
        #expect(AppealField(rawValue: "land_mu") == .landMu && AppealField.allCases.count == 9)
    }

    /// The evaluator reads figures through a pointer (no copy of the record); that path has its
    /// own switch, so it must give what the record's property gives, for every figure.
    @Test func pointerReadsMatchTheRecord() {
        var r = EnterpriseRecord(year: 2025, creditCode: "X", name: "甲", town: "古山镇", group: .above)
        for (k, f) in RecordField.allCases.enumerated() { r[f] = Double(k + 1) * 1.5 }
        withUnsafePointer(to: r) { p in
            for f in RecordField.allCases { #expect(f.value(at: p) == r[f], "\(f)") }
            for ind in Indicator.allCases {
                #expect(ind.numerator(at: p) == ind.numerator(r) && ind.denominator(at: p) == ind.denominator(r), "\(ind)")
                #expect(ind.value(at: p) == ind.value(r), "\(ind)")
            }
        }
    }
}
