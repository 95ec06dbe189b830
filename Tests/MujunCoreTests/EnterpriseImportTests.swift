import Foundation
import Testing
@testable import MujunCore

/// The enterprise template (FORMATS.md): every bad row is named with its row, column and
/// reason, all in one report, and nothing is returned.
@Suite struct EnterpriseImportTests {
    static let header = "年度,统一社会信用代码,企业名称,所属镇街,规模,用地面积（亩）,评价税收(万元),用电量(万千瓦时),一票否决,不参评原因"
    static func code(_ n: Int) -> String { CreditCode.complete("91330784" + String(format: "%09d", n)) }

    func read(_ csv: String, year: Int? = 2025) throws(ImportFailure) -> [EnterpriseRecord] {
        let table = try CSVTable(data: Data(csv.utf8))
        return try EnterpriseImport.read(table, year: year, rules: .default)
    }

    @Test func goodRowsAreRead() throws {
        let csv = """
        \(Self.header)
        2025,\(Self.code(1)),永康市甲五金有限公司,古山镇,规下,"1,234.5",100,50,,
        2025,\(Self.code(2).lowercased()),永康市乙工具有限公司, 东城街道 ,above,20,-5,,欠缴税款；违法用地,
        2025,\(Self.code(3)),永康市丙门业有限公司,经济开发区,规上,,,,,新办企业
        """
        let r = try read(csv)
        #expect(r.count == 3)
        #expect(r[0].landMu == 1234.5 && r[0].tax == 100 && r[0].group == .below && r[0].row == 2)
        #expect(r[1].creditCode == Self.code(2) && r[1].town == "东城街道" && r[1].group == .above)
        #expect(r[1].tax == -5 && r[1].electricity == nil)
        #expect(r[1].vetoes == ["欠缴税款", "违法用地"])
        #expect(r[2].landMu == nil && r[2].exempt == "新办企业")
    }

    @Test func everyBadRowIsNamedInOneReport() {
        let bad = String(Self.code(3).dropLast()) + (Self.code(3).last == "0" ? "1" : "0")
        let csv = """
        \(Self.header)
        2025,\(Self.code(1)),甲,古山镇,规下,10,100,50,,
        2025,\(bad),乙,古山镇,规下,10,100,50,,
        2025,\(Self.code(4)),丙,古山镇,规下,abc,100,50,,
        2025,\(Self.code(1)),丁,古山镇,规下,10,100,50,,
        2025,\(Self.code(5)),戊,古山镇,规下,-3,100,50,,
        2025,\(Self.code(6)),己,火星镇,规下,10,100,50,,
        2025,\(Self.code(7)),庚,古山镇,规下,10,100,50,偷税,
        2025,\(Self.code(8)),辛,古山镇,中型,10,100,50,,
        2024,\(Self.code(9)),壬,古山镇,规下,10,100,50,,
        """
        do {
            _ = try read(csv)
            Issue.record("bad file accepted")
        } catch {
            let byRow = Dictionary(grouping: error.errors, by: \.row)
            #expect(byRow[3]?.first?.column == "统一社会信用代码")
            #expect(byRow[3]?.first?.messageZh.contains("校验位") == true)
            #expect(byRow[4]?.first?.column == "用地面积（亩）")   // the header as written in the file
            #expect(byRow[4]?.first?.messageEn.contains("not a number") == true)
            #expect(byRow[5]?.first?.messageZh.contains("与第 2 行重复") == true)
            #expect(byRow[6]?.first?.messageEn.contains("negative") == true)
            #expect(byRow[7]?.first?.messageZh.contains("未知镇街") == true)
            #expect(byRow[8]?.first?.messageZh.contains("未知的一票否决类型") == true)
            #expect(byRow[9]?.first?.column == "规模")
            #expect(byRow[10]?.first?.column == "年度")
            #expect(byRow[2] == nil)
            #expect(error.description.contains("第 3 行"))
            #expect(error.description.contains("row 3"))
        }
    }

    @Test func missingColumnsAndYear() {
        do {
            _ = try read("统一社会信用代码,企业名称\n\(Self.code(1)),甲\n", year: nil)
            Issue.record("accepted")
        } catch {
            let text = error.description
            #expect(text.contains("所属镇街") && text.contains("规模") && text.contains("--year"))
        }
    }

    @Test func errorListIsBounded() {
        var csv = Self.header + "\n"
        for i in 0..<(ImportFailure.limit + 50) { csv += "2025,X\(i),甲,古山镇,规下,10,1,1,,\n" }
        do { _ = try read(csv); Issue.record("accepted") } catch {
            #expect(error.errors.count == ImportFailure.limit)
            #expect(error.omitted == 50)
            #expect(error.description.contains("另有 50 处错误"))
        }
    }

    @Test func demoFilesRoundTrip() throws {
        let city = DemoCity(enterprises: 200, seed: TestSeed.seed(4))
        let records = city.records(year: 2025, latestYear: 2025)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mujun-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, enc) in [("a.csv", TextEncodingChoice.utf8), ("b.csv", .gb18030), ("c.xlsx", .utf8)] {
            let url = dir.appendingPathComponent(name)
            try DemoFiles.write(records, to: url, encoding: enc)
            let back = try EnterpriseImport.read(try TableReader.open(url: url), year: 2025, rules: .default)
            #expect(back.count == records.count)
            for (a, b) in zip(records, back) {
                #expect(a.creditCode == b.creditCode && a.name == b.name && a.tax == b.tax && a.landMu == b.landMu
                        && a.vetoes == b.vetoes && a.exempt == b.exempt && a.employees == b.employees)
            }
        }
    }

    @Test func demoCityIsDeterministicAndPlausible() {
        let seed = TestSeed.seed(1)
        let a = DemoCity(enterprises: 8000, seed: seed), b = DemoCity(enterprises: 8000, seed: seed)
        #expect(a.enterprises == b.enterprises)
        #expect(a.records(year: 2024, latestYear: 2025) == b.records(year: 2024, latestYear: 2025))
        let above = a.enterprises.filter { $0.group == .above }.count
        #expect((1000...1400).contains(above))
        #expect(Set(a.enterprises.map(\.town)).count == 17)
        #expect(a.enterprises.allSatisfy { CreditCode.isValid($0.creditCode) })
        let recs = a.records(year: 2025, latestYear: 2025)
        func medianTaxPerMu(_ g: EnterpriseGroup) -> Double {
            let v = recs.filter { $0.group == g }.compactMap { r -> Double? in
                guard let l = r.landMu, l > 0, let t = r.tax else { return nil }
                return t / l
            }.sorted()
            return v[v.count / 2]
        }
        #expect((18...32).contains(medianTaxPerMu(.above)))
        #expect((9...16).contains(medianTaxPerMu(.below)))
        #expect(recs.contains { ($0.tax ?? 0) < 0 })
        #expect(recs.contains { !$0.vetoes.isEmpty })
        #expect(recs.contains { $0.exempt != nil })
        #expect(recs.contains { $0.emissions == nil })
    }
}
