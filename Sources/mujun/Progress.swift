import Foundation

/// A progress bar on standard error, shown only when standard error is a terminal.
final class ProgressBar {
    let label: String
    var total: Int
    let enabled: Bool
    private var last = Date.distantPast
    private let start = Date()

    init(_ label: String, total: Int) {
        self.label = label
        self.total = max(total, 1)
        enabled = isatty(2) == 1 && ProcessInfo.processInfo.environment["MUJUN_NO_PROGRESS"] == nil
    }

    func update(_ done: Int) {
        guard enabled else { return }
        let now = Date()
        guard now.timeIntervalSince(last) > 0.1 || done >= total else { return }
        last = now
        let fraction = min(Double(done) / Double(total), 1)
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let line = String(format: "\r%@ %@ %3.0f%%  %@ 行  %.1fs", label, bar, fraction * 100,
                          done.formatted(), now.timeIntervalSince(start))
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish(_ done: Int) {
        guard enabled else { return }
        total = max(done, 1)
        last = .distantPast
        update(done)
        FileHandle.standardError.write(Data("\n".utf8))
    }

    /// Rough number of lines of a file (for the bar's total).
    static func estimateRows(_ url: URL) -> Int {
        guard let data = try? Data(contentsOf: url, options: .alwaysMapped) else { return 1 }
        if data.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return max(data.count / 60, 1) }
        return data.withUnsafeBytes { raw in
            var n = 0
            for b in raw.bindMemory(to: UInt8.self) where b == 0x0A { n += 1 }
            return max(n - 1, 1)
        }
    }
}
