import Foundation

/// Where one cell's text lies: a byte range of the file, or (a quoted cell with doubled quotes,
/// or a row handed over as strings) of the row's scratch bytes.
struct CSVCellBounds {
    var start: Int
    var end: Int
    var inScratch: Bool
}

/// One record's cells as UTF-8 bytes, without making a String of any of them: an importer that
/// reads a million rows looks at most cells only to compare them with a few known values.
/// Valid only during the call that hands it out.
///
/// ```swift
/// try table.rawRowsInParts(2, make: { _ in 0 }) { count, record, cells in
///     if cells[0].elementsEqual("登记".utf8) { count += 1 }
/// }
/// ```
struct CSVCells {
    let file: UnsafePointer<UInt8>?
    let scratch: UnsafePointer<UInt8>?
    let bounds: UnsafeBufferPointer<CSVCellBounds>

    var count: Int { bounds.count }

    /// The bytes of cell `i` (empty when the row has no such cell).
    @inline(__always) subscript(i: Int) -> UnsafeBufferPointer<UInt8> {
        guard i >= 0, i < bounds.count else { return UnsafeBufferPointer(start: nil, count: 0) }
        let b = bounds[i]
        guard b.end > b.start, let base = b.inScratch ? scratch : file else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: base + b.start, count: b.end - b.start)
    }

    /// Cell `i` as text ("" when absent).
    @inline(__always) func string(_ i: Int) -> String {
        let b = self[i]
        return b.isEmpty ? "" : String(decoding: b, as: UTF8.self)
    }

    /// Whether every cell is empty (a row the importers skip).
    var isBlank: Bool {
        for b in bounds where b.end > b.start { return false }
        return true
    }

    /// Calls `body` with `cells` (a row read as strings, e.g. from XLSX) as bytes.
    static func withStrings<R>(_ cells: [String], scratch: inout [UInt8], bounds: inout [CSVCellBounds],
                               _ body: (CSVCells) throws -> R) rethrows -> R {
        scratch.removeAll(keepingCapacity: true)
        bounds.removeAll(keepingCapacity: true)
        for c in cells {
            let start = scratch.count
            scratch.append(contentsOf: c.utf8)
            bounds.append(CSVCellBounds(start: start, end: scratch.count, inScratch: true))
        }
        return try scratch.withUnsafeBufferPointer { s in
            try bounds.withUnsafeBufferPointer { b in
                try body(CSVCells(file: nil, scratch: s.baseAddress, bounds: b))
            }
        }
    }
}

/// A record's cell bounds, in memory the parser owns (no array bookkeeping per cell).
struct CSVCellBuffer {
    private(set) var base: UnsafeMutablePointer<CSVCellBounds>
    private var capacity: Int
    var count = 0

    init(capacity: Int = 32) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }

    @inline(__always) mutating func append(_ b: CSVCellBounds) {
        if count == capacity {
            let grown = UnsafeMutablePointer<CSVCellBounds>.allocate(capacity: capacity * 2)
            grown.moveInitialize(from: base, count: count)
            base.deallocate()
            base = grown; capacity *= 2
        }
        (base + count).initialize(to: b)
        count += 1
    }

    var cells: UnsafeBufferPointer<CSVCellBounds> { UnsafeBufferPointer(start: base, count: count) }

    func free() { base.deallocate() }
}

/// RFC 4180 records over UTF-8 bytes as cell bounds (what ``CSVByteParser`` does, without Strings).
struct CSVRawParser {
    let buf: UnsafeBufferPointer<UInt8>
    let comma: UInt8
    private(set) var position: Int
    /// Records read so far (empty lines included), so the physical row of the next one relative to the start.
    private(set) var records = 0

    init(_ buf: UnsafeBufferPointer<UInt8>, start: Int, delimiter: UInt8) {
        self.buf = buf; self.position = start; self.comma = delimiter
        self.commaWord = UInt64(delimiter) &* 0x0101_0101_0101_0101
    }

    private static let quote: UInt8 = 0x22, lf: UInt8 = 0x0A, cr: UInt8 = 0x0D
    private static let lfWord: UInt64 = 0x0A0A_0A0A_0A0A_0A0A, crWord: UInt64 = 0x0D0D_0D0D_0D0D_0D0D
    /// The delimiter in every byte of a word.
    private let commaWord: UInt64

    /// The high bit of each byte of `v` that is zero, and no other bit: exact, as no byte's sum
    /// carries into the next (`(b & 0x7F) + 0x7F` is at most 0xFE).
    @inline(__always) static func zeroBytes(_ v: UInt64) -> UInt64 {
        ~(((v & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7F7F_7F7F_7F7F_7F7F) | v) & 0x8080_8080_8080_8080
    }

    /// Reads the next record into `bounds` (and `scratch`); false at the end. Throws for an unclosed
    /// quote, naming the row as `firstRow` + the records before it.
    mutating func next(_ bounds: inout CSVCellBuffer, _ scratch: inout [UInt8], firstRow: Int) throws(ImportFailure) -> Bool {
        let n = buf.count
        var i = position
        if i >= n { return false }
        bounds.count = 0
        if !scratch.isEmpty { scratch.removeAll(keepingCapacity: true) }
        let quote = CSVRawParser.quote, lf = CSVRawParser.lf, cr = CSVRawParser.cr, comma = self.comma
        while true {
            if i < n && buf[i] == quote {
                i += 1
                let start = i
                var hasDoubled = false, closed = false
                while i < n {
                    if buf[i] == quote {
                        if i + 1 < n && buf[i + 1] == quote { hasDoubled = true; i += 2; continue }
                        closed = true
                        break
                    }
                    i += 1
                }
                if !closed {
                    throw ImportFailure(errors: [RowError(
                        row: firstRow + records, column: "",
                        zh: "引号没有闭合：以 \" 开头的单元格直到文件末尾都没有结束",
                        en: "unclosed quote: a cell starting with \" does not end before the end of the file")])
                }
                let end = i
                i += 1
                // text after the closing quote up to the delimiter is kept literally (as Excel does)
                let tailStart = i
                while i < n {
                    let b = buf[i]
                    if b == comma || b == lf || b == cr { break }
                    i += 1
                }
                if !hasDoubled && tailStart == i {
                    bounds.append(CSVCellBounds(start: start, end: end, inScratch: false))
                } else {
                    let s = scratch.count
                    var j = start
                    while j < end {
                        let b = buf[j]
                        scratch.append(b)
                        j += (b == quote) ? 2 : 1
                    }
                    if tailStart < i { scratch.append(contentsOf: UnsafeBufferPointer(rebasing: buf[tailStart..<i])) }
                    bounds.append(CSVCellBounds(start: s, end: scratch.count, inScratch: true))
                }
            } else {
                let start = i
                // eight bytes at a time: the first delimiter or line end among them found by its bit
                // (a cell's end in one step, however short the cell); the file's last bytes one by one
                let base = buf.baseAddress!
                var ended = false
                while i + 8 <= n {
                    let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                    let stops = CSVRawParser.zeroBytes(w ^ commaWord) | CSVRawParser.zeroBytes(w ^ CSVRawParser.lfWord)
                        | CSVRawParser.zeroBytes(w ^ CSVRawParser.crWord)
                    if stops != 0 { i += stops.trailingZeroBitCount >> 3; ended = true; break }  // little-endian: lowest address first
                    i += 8
                }
                if !ended {
                    while i < n {
                        let b = buf[i]
                        if b == comma || b == lf || b == cr { break }
                        i += 1
                    }
                }
                bounds.append(CSVCellBounds(start: start, end: i, inScratch: false))
            }
            if i >= n { break }
            let b = buf[i]
            if b == comma { i += 1; continue }
            i += 1
            if b == cr && i < n && buf[i] == lf { i += 1 }
            break
        }
        position = i
        records += 1
        return true
    }
}

extension TableReader {
    /// Every data row of `table` as ``CSVCells``, read into states made by `make(part)`: a CSV file
    /// in up to `parts` pieces at once (``CSVTable/rawRowsInParts(_:minimumPiece:make:_:)``: rows
    /// relative to each piece's `firstRow`), any other table (XLSX) row by row into one state
    /// (`firstRow` 0, rows as the table numbers them). What a million-row importer reads with.
    static func cellsInPieces<S>(_ table: any TableSource, parts: Int, minimumPiece: Int = 1 << 20, make: (Int) -> S,
                                 _ body: (inout S, Int, CSVCells) -> Void) throws(ImportFailure) -> [(state: S, firstRow: Int)] {
        if let csv = table as? CSVTable {
            return try csv.rawRowsInParts(parts, minimumPiece: minimumPiece, make: make, body)
        }
        var state = make(0)
        var scratch: [UInt8] = [], bounds: [CSVCellBounds] = []
        do {
            try table.forEachRow { row, cells in
                CSVCells.withStrings(cells, scratch: &scratch, bounds: &bounds) { body(&state, row, $0) }
            }
        } catch let f as ImportFailure {
            throw f
        } catch {
            throw ImportFailure.file(zh: "无法读取文件：\(error)", en: "cannot read the file: \(error)")
        }
        return [(state, 0)]
    }
}

extension CSVTable {
    /// Reads the data rows as ``CSVCells`` in up to `parts` consecutive pieces of the file at once,
    /// each with its own state made by `make(part)`; `body(&state, record, cells)` gets each non-blank
    /// row with its record index within the piece (physical rows, blank ones counted). Returns each
    /// piece's state with the spreadsheet row number of its first record, in file order.
    ///
    /// The file is cut after a line end outside quotes (by the quotes before it); a cut that turns out
    /// not to be a record boundary — a piece ends inside a quoted cell — makes it read the whole file
    /// again as one piece, so the rows and any error are exactly those of a sequential read.
    /// A file of less than `minimumPiece` bytes a piece is read as one.
    func rawRowsInParts<S>(_ parts: Int, minimumPiece: Int = 1 << 20, make: (Int) -> S,
                           _ body: (inout S, Int, CSVCells) -> Void) throws(ImportFailure) -> [(state: S, firstRow: Int)] {
        let result: Result<[(S, Int)], ImportFailure> = utf8.withUnsafeBufferPointer { buf in
            let cuts = parts > 1 ? CSVTable.cuts(buf, from: bodyStart, parts: parts, minimumPiece: minimumPiece) : [bodyStart, buf.count]
            if cuts.count > 2, let pieces = Self.read(buf, cuts: cuts, delimiter: delimiter, firstRow: headerRow + 1, make: make, body) {
                return .success(pieces)
            }
            do throws(ImportFailure) {
                let one = try Self.readPiece(buf, 0, from: bodyStart, to: buf.count, delimiter: delimiter,
                                             firstRow: headerRow + 1, make: make, body)
                return .success([(one.0, headerRow + 1)])
            } catch {
                return .failure(error)
            }
        }
        return try result.get().map { (state: $0.0, firstRow: $0.1) }
    }

    /// The pieces read at once, or nil when a cut was not a record boundary (or a piece has an error).
    private static func read<S>(_ buf: UnsafeBufferPointer<UInt8>, cuts: [Int], delimiter: UInt8, firstRow: Int,
                                make: (Int) -> S, _ body: (inout S, Int, CSVCells) -> Void) -> [(S, Int)]? {
        let n = cuts.count - 1
        var states = [(S, Int)?](repeating: nil, count: n)
        states.withUnsafeMutableBufferPointer { out in
            let out = UncheckedSendable(out)
            Parallel.perform(n) { k in
                out.value[k] = try? readPiece(buf, k, from: cuts[k], to: cuts[k + 1], delimiter: delimiter, firstRow: 0, make: make, body)
            }
        }
        var result: [(S, Int)] = []
        var row = firstRow
        for s in states {
            guard let (state, records) = s else { return nil }
            result.append((state, row))
            row += records
        }
        return result
    }

    /// One piece: its state and how many records it holds.
    private static func readPiece<S>(_ buf: UnsafeBufferPointer<UInt8>, _ part: Int, from: Int, to: Int, delimiter: UInt8,
                                     firstRow: Int, make: (Int) -> S,
                                     _ body: (inout S, Int, CSVCells) -> Void) throws(ImportFailure) -> (S, Int) {
        var state = make(part)
        var parser = CSVRawParser(UnsafeBufferPointer(rebasing: buf[0..<to]), start: from, delimiter: delimiter)
        var bounds = CSVCellBuffer()
        defer { bounds.free() }
        var scratch: [UInt8] = []
        while true {
            let record = parser.records
            guard try parser.next(&bounds, &scratch, firstRow: firstRow) else { break }
            if scratch.isEmpty {
                let cells = CSVCells(file: buf.baseAddress, scratch: nil, bounds: bounds.cells)
                if !cells.isBlank { body(&state, record, cells) }
            } else {
                scratch.withUnsafeBufferPointer { s in
                    let cells = CSVCells(file: buf.baseAddress, scratch: s.baseAddress, bounds: bounds.cells)
                    if !cells.isBlank { body(&state, record, cells) }
                }
            }
        }
        return (state, parser.records)
    }

    /// Offsets that cut `buf[from...]` into about `parts` equal pieces after line ends that the count
    /// of quotes before them puts outside quoted cells (first `from`, last `buf.count`).
    static func cuts(_ buf: UnsafeBufferPointer<UInt8>, from: Int, parts: Int, minimumPiece: Int) -> [Int] {
        let n = buf.count
        guard n - from >= parts * minimumPiece, let base = buf.baseAddress else { return [from, n] }  // small files: one piece
        // the quotes between one target and the next, counted in all the ranges at once
        let targets = (0...parts).map { from + (n - from) * $0 / parts }
        var quotes = [Int](repeating: 0, count: parts - 1)
        quotes.withUnsafeMutableBufferPointer { out in
            let out = UncheckedSendable(out)
            Parallel.perform(parts - 1) { k in out.value[k] = countQuotes(base, targets[k], targets[k + 1]) }
        }
        var cuts = [from]
        var before = 0  // quotes in [from, targets[k])
        for k in 1..<parts {
            before += quotes[k - 1]
            // the first line feed outside quotes from the target on
            var i = targets[k], inQuotes = before % 2 == 1
            while i < n {
                let b = base[i]
                i += 1
                if b == 0x22 { inQuotes.toggle() } else if b == 0x0A && !inQuotes { break }
            }
            if i >= n { break }
            if i > cuts.last! { cuts.append(i) }
        }
        cuts.append(n)
        return cuts
    }

    /// The quotes in `base[lo..<hi]`, eight bytes at a time.
    private static func countQuotes(_ base: UnsafePointer<UInt8>, _ lo: Int, _ hi: Int) -> Int {
        var i = lo, quotes = 0
        while i + 8 <= hi {
            let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
            quotes += CSVRawParser.zeroBytes(w ^ 0x2222_2222_2222_2222).nonzeroBitCount  // a bit for every quote
            i += 8
        }
        while i < hi { if base[i] == 0x22 { quotes += 1 }; i += 1 }
        return quotes
    }
}
