import Foundation
import Testing
@testable import MujunCore

/// The fast formatters must write exactly what Foundation writes: scores and CSV numbers
/// are compared as text by users and by the cross-check with pandas.
@Suite struct FastFormatTests {
    @Test func fixed2MatchesStringFormat() {
        var rng = TestSeed.generator(99)
        var samples: [Double] = [0, -0.0, 0.005, 0.015, 0.025, 1.005, 2.675, -2.675, 123.455, 1e15, -1e-9, 99.995, 0.125, 0.375]
        for _ in 0..<200_000 {
            let scale = pow(10, Double(Int(rng.next() % 8)) - 2)
            samples.append((rng.unit() * 2 - 1) * scale)
            samples.append(Double(Int(rng.next() % 100_000)) / 1000 + 0.005)
        }
        for x in samples {
            #expect(formatScore(x) == String(format: "%.2f", x), "\(x)")
        }
    }

    @Test func descriptionMatches() {
        var rng = TestSeed.generator(7)
        var samples: [Double] = [0, 1, -1, 0.1, 1e-7, 123456789.123, 5e-324, 1.7976931348623157e308, 24.097]
        for _ in 0..<200_000 { samples.append((rng.unit() - 0.5) * pow(10, Double(Int(rng.next() % 20)) - 8)) }
        for x in samples {
            var out: [UInt8] = []
            FastFormat.appendDescription(x, to: &out)
            #expect(String(decoding: out, as: UTF8.self) == x.description, "\(x)")
        }
    }
}
