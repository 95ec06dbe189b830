import Foundation
import Testing
@testable import MujunCore

/// The seeds of the tests' random inputs, so that any failure can be repeated.
///
/// Every test that makes random input takes its seed from here: `MUJUN_TEST_SEED` when it is
/// set (decimal, or hexadecimal after `0x`), else the test's own fixed seed, else a fresh one
/// for tests that try new input on every run. The seed is printed with the test's name:
///
///     seed 7 for MujunCoreTests/FastFormatTests.swift:22 descriptionMatches() — MUJUN_TEST_SEED=7 repeats it
///
/// so `MUJUN_TEST_SEED=7 swift test --filter FastFormatTests` runs that test on the same input.
/// Tests that need two different inputs take the seed and the seed + 1.
enum TestSeed {
    static let variable = "MUJUN_TEST_SEED"

    /// A seed as written in the variable: decimal or `0x` hexadecimal; nil otherwise.
    static func parse(_ text: String) -> UInt64? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        return t.hasPrefix("0x") ? UInt64(t.dropFirst(2), radix: 16) : UInt64(t)
    }

    /// The seed set in the environment, if any; a value that is not a number stops the run.
    static let override: UInt64? = {
        guard let text = ProcessInfo.processInfo.environment[variable] else { return nil }
        guard let seed = parse(text) else { preconditionFailure("\(variable)=\(text) is not a seed (a whole number ≥ 0)") }
        return seed
    }()

    /// The seed of one test's random input (printed): ``override``, else `fixed`, else fresh.
    /// - Parameter what: which input, when a test has several.
    static func seed(_ fixed: UInt64? = nil, _ what: String = "", test: String = #function,
                     file: String = #fileID, line: Int = #line) -> UInt64 {
        let seed = override ?? fixed ?? UInt64.random(in: 0...UInt64.max)
        let which = what.isEmpty ? "" : " (\(what))"
        print("seed \(seed) for \(file):\(line) \(test)\(which) — \(variable)=\(seed) repeats it")
        return seed
    }

    /// A generator seeded with ``seed(_:_:test:file:line:)``.
    static func generator(_ fixed: UInt64? = nil, _ what: String = "", test: String = #function,
                          file: String = #fileID, line: Int = #line) -> SeededRandom {
        SeededRandom(seed: seed(fixed, what, test: test, file: file, line: line))
    }
}

@Suite struct TestSeedTests {
    @Test func seedsAreReadAsWritten() {
        #expect(TestSeed.parse("42") == 42)
        #expect(TestSeed.parse(" 0x1F ") == 31)
        #expect(TestSeed.parse("18446744073709551615") == .max)
        #expect(TestSeed.parse("-1") == nil && TestSeed.parse("seven") == nil && TestSeed.parse("") == nil)
        // the same seed, the same input
        var a = TestSeed.generator(5), b = SeededRandom(seed: TestSeed.override ?? 5)
        #expect((0..<10).map { _ in a.next() } == (0..<10).map { _ in b.next() })
    }
}
