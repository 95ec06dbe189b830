import Foundation
import Testing
@testable import MujunCore

/// A handling history read in pieces of the file at once (and its cells as bytes) gives exactly
/// what reading it row by row gives: the same rows and row numbers, cases, events and errors.
@Suite struct CaseHistoryReaderTests {
    /// A table read row by row through `forEachRow` (as an XLSX file is): the reference.
    struct RowByRow: TableSource {
        let table: CSVTable
        var headers: [String] { table.headers }
        func forEachRow(_ body: (Int, [String]) throws -> Void) throws { try table.forEachRow(body) }
    }

    /// Random CSV text: quoted cells with commas, doubled quotes and line breaks, blank lines, CRLF.
    func randomCSV(_ rng: inout SeededRandom, rows: Int, strayQuotes: Bool) -> String {
        var out = "a,b,c,d\n"
        for r in 0..<rows {
            if r % 97 == 5 { out += "\n"; continue }
            var cells: [String] = []
            for c in 0..<4 {
                switch Int(rng.next() % 9) {
                case 0: cells.append("\"引号,内\"\"有\"\"逗号\"")
                case 1: cells.append("\"两行\n文字\(c)\"")
                case 2: cells.append("")
                case 3 where strayQuotes: cells.append("ab\"c")
                case 4:
                    // 0 to 24 bytes of letters and Chinese: a cell's end at every place in a word of eight
                    let letters = Array("abcdefgh号码".unicodeScalars)
                    var t = ""
                    while t.utf8.count < Int(rng.next() % 25) { t.unicodeScalars.append(letters[Int(rng.next() % UInt64(letters.count))]) }
                    cells.append(t)
                default: cells.append("v\(r)-\(c)-\(rng.next() % 1000)")
                }
            }
            out += cells.joined(separator: ",") + (r % 13 == 0 ? "\r\n" : "\n")
        }
        return out
    }

    func rows(_ table: CSVTable, parts: Int, pieces count: UnsafeMutablePointer<Int>? = nil) throws -> [(Int, [String])] {
        let pieces = try table.rawRowsInParts(parts, minimumPiece: 256, make: { _ in [(Int, [String])]() }) { out, record, cells in
            out.append((record, (0..<cells.count).map { cells.string($0) }))
        }
        count?.pointee = pieces.count
        return pieces.flatMap { p in p.state.map { ($0.0 + p.firstRow, $0.1) } }
    }

    func sequential(_ table: CSVTable) throws -> [(Int, [String])] {
        var out: [(Int, [String])] = []
        try table.forEachRow { out.append(($0, $1)) }
        return out
    }

    @Test func piecesGiveTheRowsOfOneRead() throws {
        var rng = TestSeed.generator(11)
        for stray in [false, true] {
            var csv = randomCSV(&rng, rows: 3000, strayQuotes: stray)
            if stray { csv.removeLast() }  // a file whose last line has no line end
            let table = try CSVTable(data: Data(csv.utf8))
            let expected = try sequential(table)
            for parts in [2, 3, 7] {
                var pieces = 0
                let got = try rows(table, parts: parts, pieces: &pieces)
                // without stray quotes every cut is a record boundary, so the file is read in pieces
                if !stray { #expect(pieces == parts) }
                #expect(got.count == expected.count, "parts \(parts), stray quotes \(stray)")
                #expect(zip(got, expected).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }, "parts \(parts), stray quotes \(stray)")
            }
        }
    }

    @Test func anUnclosedQuoteIsNamedAtItsRowWhateverThePieces() throws {
        var rng = TestSeed.generator(12)
        let csv = randomCSV(&rng, rows: 2000, strayQuotes: false) + "x,\"never closed,y\n" + String(repeating: "p,q,r,s\n", count: 500)
        let table = try CSVTable(data: Data(csv.utf8))
        var sequentialRow = 0
        do { _ = try sequential(table) } catch let f as ImportFailure { sequentialRow = f.errors.first?.row ?? 0 }
        #expect(sequentialRow > 2000)
        do {
            _ = try rows(table, parts: 4)
            Issue.record("an unclosed quote was read")
        } catch let f as ImportFailure {
            #expect(f.errors.first?.row == sequentialRow)
        }
    }

    /// The demo city's history, several times over under other refs, with `bad` rows spoilt.
    func history(copies: Int, bad: [Int] = []) -> String {
        let demo = DemoCases(today: CalendarDate("2026-06-30")!, seed: 3).historyCSV()
        var lines = demo.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        let header = lines.removeFirst()
        var out = [header]
        for k in 0..<copies {
            // the ref is the first cell (quoted or not): a copy's refs get a prefix
            out += lines.map { $0.hasPrefix("\"") ? "\"C\(k)-" + $0.dropFirst() : "C\(k)-" + $0 }
        }
        for row in bad where row - 1 < out.count {
            out[row - 1] = out[row - 1].replacingOccurrences(of: ",20", with: ",19")  // a date before 1900 … or a bad order
        }
        return out.joined(separator: "\n") + "\n"
    }

    func same(_ a: CaseHistory, _ b: CaseHistory) -> Bool {
        guard a.cases.count == b.cases.count, a.rowCount == b.rowCount, a.firstDate == b.firstDate, a.lastDate == b.lastDate else {
            return false
        }
        return zip(a.cases, b.cases).allSatisfy {
            $0.type == $1.type && $0.ref == $1.ref && $0.title == $1.title && $0.events == $1.events && $0.rows == $1.rows
                && $0.parcelID == $1.parcelID && $0.creditCode == $1.creditCode
        }
    }

    @Test func aHistoryReadInPiecesIsTheHistoryReadRowByRow() throws {
        let table = try CSVTable(data: Data(history(copies: 4).utf8))
        let asOf = CalendarDate("2026-03-31")!
        let reference = try CaseHistory(table: RowByRow(table: table))
        #expect(reference.cases.count > 1000)
        for (parts, caseParts) in [(2, 1), (3, 5), (7, 2)] {
            let h = try CaseHistory(table: table, types: .default, calendar: .shipped, snapshotAt: asOf, minimumPiece: 4096,
                                    parts: parts, caseParts: caseParts)
            #expect(same(h, reference), "parts \(parts)")
            #expect(h.pieces == parts)
            // the snapshot kept while checking is the replay as of its date
            let from = CalendarDate("2025-01-01")!, to = CalendarDate("2026-12-31")!
            let kept = Bulletin(history: h, from: from, to: to, asOf: asOf)
            let replayed = Bulletin(history: reference, from: from, to: to, asOf: asOf)
            #expect(kept.cases == replayed.cases && kept.rows == replayed.rows && !kept.cases.isEmpty)
            #expect(kept.csv() == replayed.csv() && kept.casesCSV() == replayed.casesCSV())
            // cases.csv written in ranges at once is the same bytes
            #expect(kept.casesCSVBytes(parts: parts) == Array(replayed.casesCSV().utf8))
            // read only as of the date (the events left where they were read): the same bulletin
            let only = try CaseHistory(table: table, types: .default, calendar: .shipped, snapshotAt: asOf, keepEvents: false,
                                       minimumPiece: 4096, parts: parts, caseParts: caseParts)
            #expect(!only.keepsEvents && only.cases.allSatisfy { $0.events.isEmpty && $0.rows.isEmpty })
            #expect(only.cases.map(\.ref) == reference.cases.map(\.ref) && only.cases.map(\.title) == reference.cases.map(\.title))
            let onlyBulletin = Bulletin(history: only, from: from, to: to, asOf: asOf)
            #expect(onlyBulletin.cases == replayed.cases && onlyBulletin.rows == replayed.rows)
            #expect(onlyBulletin.csv() == replayed.csv() && onlyBulletin.casesCSV() == replayed.casesCSV())
        }
    }

    @Test func byteKeysAreNumberedOnceEachWhateverTheirLength() {
        var rng = TestSeed.generator(31)
        var table = ByteKeyTable()
        var numbers: [String: Int] = [:]
        // keys of 0 to 40 bytes (some sharing their first 16), under two tags, each asked for several times
        let keys = (0..<6000).map { i -> (String, Int) in
            let length = Int(rng.next() % 41)
            let base = i % 3 == 0 ? "0123456789abcdef" : ""
            let text = base + "k\(rng.next() % 2500)-" + String(repeating: "号", count: 14)
            return (String(decoding: Array(text.utf8.prefix(length)), as: UTF8.self), Int(rng.next() % 2))
        }
        for (text, tag) in keys {
            var t = text
            let (k, new) = t.withUTF8 { table.index(of: $0, tag: tag) }
            let id = "\(tag)|\(text)"
            if let known = numbers[id] {
                #expect(!new && k == known, "\(id)")
            } else {
                #expect(new && k == numbers.count, "\(id)")
                numbers[id] = k
            }
        }
        #expect(table.count == numbers.count && numbers.count > 1000)
    }

    @Test func aPermutationMovesEveryElementToItsPlace() {
        var rng = TestSeed.generator(29)
        for n in [0, 1, 2, 7, 1000] {
            let values = (0..<n).map { "值\($0)-" + String(repeating: "x", count: Int(rng.next() % 40)) }
            var order = Array(0..<n)
            for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            var a = values
            Bulletin.permute(&a, by: order)
            #expect(a == order.map { values[$0] }, "n \(n)")
        }
    }

    @Test func badRowsAreNamedAlikeInPiecesAndRowByRow() throws {
        var rng = TestSeed.generator(13)
        let text = history(copies: 3)
        let lineCount = text.split(separator: "\n").count
        let bad = (0..<40).map { _ in 2 + Int(rng.next() % UInt64(lineCount - 1)) }.sorted()
        let table = try CSVTable(data: Data(history(copies: 3, bad: bad).utf8))
        var reference: [RowError] = []
        do { _ = try CaseHistory(table: RowByRow(table: table)) } catch { reference = error.errors }
        #expect(!reference.isEmpty)
        do {
            _ = try CaseHistory(table: table, types: .default, calendar: .shipped, snapshotAt: nil, minimumPiece: 4096, parts: 3)
            Issue.record("a spoilt history was read")
        } catch {
            #expect(error.errors == reference)
        }
        // read only as of a date, every bad row is named alike (rows after the date too)
        do {
            _ = try CaseHistory(table: table, types: .default, calendar: .shipped, snapshotAt: CalendarDate("2025-01-31")!,
                                keepEvents: false, minimumPiece: 4096, parts: 3, caseParts: 4)
            Issue.record("a spoilt history was read")
        } catch {
            #expect(error.errors == reference)
        }
    }

    @Test func cellsNeedTrimmingExactlyWhenTheyHaveSpaceAtAnEnd() {
        for (text, needs) in [("abc", false), (" abc", true), ("abc\t", true), ("住建局", false), ("\u{3000}住建局", true),
                              ("住建局\u{3000}", true), ("住建局\u{A0}", true), ("", false), ("号", false), ("\u{FEFF}x", true)] {
            var s = text
            #expect(s.withUTF8 { CaseHistory.needsTrim($0) } == needs, "\(text.unicodeScalars.map(\.value))")
            if !needs { #expect(CaseHistory.trimmed(text) == text) }
        }
    }
}
