import Foundation

/// Splits index ranges over the cores for loops whose iterations are independent.
enum Parallel {
    static let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Calls `body` with consecutive ranges that together cover `0..<n`, concurrently when
    /// `n` is large enough to be worth it. `body` must only write what its range owns.
    static func chunks(_ n: Int, minimum: Int = 16_384, _ body: (Range<Int>) -> Void) {
        let parts = min(cores, n / minimum)
        if parts <= 1 { body(0..<n); return }
        perform(parts) { t in body((t * n / parts)..<((t + 1) * n / parts)) }
    }

    /// `DispatchQueue.concurrentPerform` for a body that is not `@Sendable` (the caller
    /// guarantees that the iterations touch disjoint data).
    static func perform(_ iterations: Int, _ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { body in
            let box = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: iterations) { box.value($0) }
        }
    }
}

/// A value handed to concurrent code that the caller knows uses it safely.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
