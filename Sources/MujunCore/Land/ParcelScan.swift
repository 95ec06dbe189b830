import Foundation

// MARK: - A compact scan of a GeoJSON FeatureCollection
//
// The parcel reader used to build a tree of objects for every feature (a class per feature,
// enums for property values, nested arrays for coordinates) and then copy it about while
// checking: for 200,000 parcels, half of the time went to reference counting and malloc.
// This scan keeps, per feature, plain values only: where each wanted property's text lies in
// the input buffer (Strings are made later, for the fields used), and the coordinates
// appended to one flat array with ring and polygon bounds. Large files are scanned on two
// threads: the second starts at a feature boundary guessed in the middle of the file and its
// result is used only when the first thread, scanning from the start, arrives exactly there as
// the start of an element of the `features` array (so a wrong guess costs time, never
// correctness).
//
// Everything the scan accepts or refuses, and every syntax message and its position, is what
// the generic scanner (`GeoJSONScanner.value()`, `skipValue()`, `coordinates()`) gives: the
// fast paths fall back to it whenever the input is not of the regular, common form.

/// A property value as scanned: no heap object, its text stays in the input buffer.
struct ScannedValue {
    enum Kind: UInt8 {
        case absent, null, yes, no, number
        /// a string without escapes: the bytes `start ..< start + count` of the buffer
        case rawString
        /// a string with escapes, decoded: `strings[start]`
        case decodedString
        /// an array or an object
        case nested
    }
    /// Byte offset of the text (number, raw string), or the index of a decoded string.
    var start = 0
    /// The number's value.
    var number = 0.0
    /// Index of the property name in the segment's `names`.
    var name: Int32 = -1
    /// Length in bytes of the text.
    var count: Int32 = 0
    var kind = Kind.absent
}

/// One feature as scanned: plain values only (no reference counting when copied).
struct ScannedFeature {
    /// The feature's `type`: `-1` none (or not a string), `-2` "Feature", `-3` the feature is
    /// not an object, else an index into `strings`.
    var type: Int32 = -1
    /// The geometry's `type`: `-1` none, `-2` "Polygon", `-3` "MultiPolygon", else an index
    /// into `strings`.
    var geometryType: Int32 = -1
    /// `"geometry": null` or absent
    var geometryMissing = true
    /// `-1` no coordinates, `-2` flat (see `depth`), else an index into `trees`.
    var coordinates: Int32 = -1
    /// Flat coordinates: 3 = an array of rings (`[[[x, y], …], …]`), 4 = an array of
    /// polygons (`[[[[x, y], …], …], …]`). Never empty arrays.
    var depth: UInt8 = 0
    /// Flat coordinates: the groups of rings (`groups`), one for depth 3, one per polygon for 4.
    var groupStart = 0
    var groupEnd = 0
}

/// The features scanned by one thread, in file order.
struct ScannedSegment {
    static let slots = 13  // ParcelImport.fields.count

    var features: [ScannedFeature] = []
    /// `slots` values per feature, by field (ParcelImport.fields order); the first property
    /// that maps to a field is kept, as before.
    var values: [ScannedValue] = []
    /// Coordinates, interleaved x, y (z and further values dropped).
    var xy: [Double] = []
    /// Pairs: ring r is `xy[rings[2r] ..< rings[2r + 1]]`.
    var rings: [Int] = []
    /// Pairs: group g is the rings `groups[2g] ..< groups[2g + 1]`.
    var groups: [Int] = []
    /// Decoded strings (escaped values, unusual types).
    var strings: [String] = []
    /// Coordinates not of the regular form, as the generic scanner reads them.
    var trees: [JSONCoordinates] = []
    /// Property names as written, and the field slot each maps to (-1: none).
    var names: [String] = []
    var nameSlots: [Int8] = []

    /// Name bytes → index in `names`.
    fileprivate var nameIndex: [[UInt8]: Int32] = [:]
    /// The raw name bytes of the previous feature's properties, by position (count -1: escaped).
    fileprivate var lastNames: [(start: Int, count: Int, index: Int32)] = []

    /// The arrays read while checking, without reference counting on each access.
    struct View {
        let features: UnsafeBufferPointer<ScannedFeature>
        let values: UnsafeBufferPointer<ScannedValue>
        let xy: UnsafeBufferPointer<Double>
        let rings: UnsafeBufferPointer<Int>
        let groups: UnsafeBufferPointer<Int>
    }

    func withView<T>(_ body: (View) -> T) -> T {
        features.withUnsafeBufferPointer { f in
            values.withUnsafeBufferPointer { v in
                xy.withUnsafeBufferPointer { xy in
                    rings.withUnsafeBufferPointer { r in
                        groups.withUnsafeBufferPointer { g in
                            body(View(features: f, values: v, xy: xy, rings: r, groups: g))
                        }
                    }
                }
            }
        }
    }

    mutating func reserve(features n: Int) {
        features.reserveCapacity(n)
        values.reserveCapacity(n * Self.slots)
        xy.reserveCapacity(n * 10)
        rings.reserveCapacity(n * 2)
        groups.reserveCapacity(n * 2)
    }
}

/// The top level of a GeoJSON file and its features, as scanned.
struct ScannedCollection {
    /// The file's bytes and a 0 sentinel: value texts are ranges of it.
    var bytes: InputBytes?
    var type: String?
    var crs: JSONValue?
    var featuresPresent = false
    var segments: [ScannedSegment] = []
    /// The features in file order: (segment, range of its features).
    var chunks: [(segment: Int, range: Range<Int>)] = []

    var count: Int { chunks.reduce(0) { $0 + $1.range.count } }

    func withBytes<T>(_ body: (UnsafeBufferPointer<UInt8>) -> T) -> T {
        withExtendedLifetime(bytes) { body(bytes!.buffer) }
    }
}

/// A member name as read: its raw bytes when it has no escapes, else decoded.
private enum Key {
    case raw(Int, Int)
    case decoded(String)
}

/// The second thread's work and result. The first thread never waits for work that has not
/// started: whichever of the two comes first decides (`start()` / `claim()`), so a caller on
/// a pool with no free thread (the second job queued behind it) scans alone instead of
/// waiting for ever.
private final class ScanResult: @unchecked Sendable {
    private enum State { case idle, started, claimed }
    private let lock = NSLock()
    private var state = State.idle
    private var cancelled = false
    var segment = ScannedSegment()
    var error: JSONSyntaxError?
    var end = 0
    /// Whether the first thread took the result (it has waited for it).
    var taken = false
    let done = DispatchSemaphore(value: 0)

    /// The second thread, before it reads anything: whether it may run.
    func start() -> Bool {
        lock.lock(); defer { lock.unlock() }
        if state == .idle { state = .started; return true }
        return false
    }

    /// The first thread: true when the second thread has started (then its result, or its
    /// end, is signalled on `done`); false when it had not, and now never will.
    func claim() -> Bool {
        lock.lock(); defer { lock.unlock() }
        if state == .idle { state = .claimed }
        return state == .started
    }

    /// The second thread's work is no longer wanted.
    func cancel() { lock.lock(); cancelled = true; lock.unlock() }
    var isCancelled: Bool { lock.lock(); defer { lock.unlock() }; return cancelled }
}

/// The input buffer handed to the second thread (read only; kept alive by the caller until the
/// second thread has finished).
private struct SharedBuffer: @unchecked Sendable {
    let buffer: UnsafeBufferPointer<UInt8>
}

/// The bytes of a GeoJSON file followed by a 0 byte (the scanner's sentinel, not part of the
/// JSON), read only; the memory is released with the object.
final class InputBytes: @unchecked Sendable {
    /// The file and the 0 byte.
    let buffer: UnsafeBufferPointer<UInt8>
    private let unmap: Int  // mapped length, 0 when allocated

    /// A copy of `data` and the 0 byte.
    init(copying data: Data) {
        let p = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: data.count + 1)
        _ = data.copyBytes(to: p)
        p[data.count] = 0
        buffer = UnsafeBufferPointer(p)
        unmap = 0
    }

    private init(mapped: UnsafeRawPointer, count: Int, length: Int) {
        buffer = UnsafeBufferPointer(start: mapped.assumingMemoryBound(to: UInt8.self), count: count + 1)
        unmap = length
    }

    /// A regular file mapped (its pages taken straight from the page cache, populated at
    /// once: no copy, no page fault per 4 KiB). The byte after the end is the 0 the system
    /// fills the rest of the last page with; nil when there is no such byte (a size that is a
    /// multiple of the page size), when the file is empty or not a regular file, or when it
    /// cannot be opened or mapped: the caller then reads it as before, with the same messages.
    static func mapping(path: String) -> InputBytes? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        let size = Int(st.st_size)
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard size > 0, page > 0, size % page != 0 else { return nil }
        #if os(Linux)
        let flags = MAP_PRIVATE | MAP_POPULATE
        #else
        let flags = MAP_PRIVATE
        #endif
        guard let p = mmap(nil, size, PROT_READ, flags, fd, 0), p != MAP_FAILED else { return nil }
        return InputBytes(mapped: UnsafeRawPointer(p), count: size, length: size)
    }

    deinit {
        if unmap > 0 {
            munmap(UnsafeMutableRawPointer(mutating: buffer.baseAddress!), unmap)
        } else {
            UnsafeMutableBufferPointer(mutating: buffer).deallocate()
        }
    }
}

extension GeoJSONScanner {
    /// Scans a whole GeoJSON file (a trailing 0 byte added here), on two threads when large.
    static func scan(_ data: Data, parallel: Bool = true, startSecond: Bool = true) throws(JSONSyntaxError) -> ScannedCollection {
        try scan(bytes: InputBytes(copying: data), parallel: parallel, startSecond: startSecond)
    }

    /// Scans a whole GeoJSON file given with a trailing 0 byte (not part of the JSON).
    /// - Parameter startSecond: for tests: false leaves the second thread's job unstarted, as
    ///   on a pool with no free thread.
    static func scan(bytes input: InputBytes, parallel: Bool = true, startSecond: Bool = true) throws(JSONSyntaxError) -> ScannedCollection {
        let bytes = input.buffer
        // A UTF-8 byte-order mark is tolerated.
        let start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        let r: Result<ScannedCollection, JSONSyntaxError> = withExtendedLifetime(input) { () -> Result<ScannedCollection, JSONSyntaxError> in
            let buf = bytes
            let split = parallel ? splitGuess(buf, from: start) : nil
            let second = ScanResult()
            if let split, startSecond {
                let shared = SharedBuffer(buffer: buf)
                DispatchQueue.global(qos: .userInitiated).async {
                    guard second.start() else { return }  // the first thread went on alone
                    var s = GeoJSONScanner(shared.buffer)
                    s.i = split
                    s.depth = 2  // inside the top-level object and its features array
                    var seg = ScannedSegment()
                    seg.reserve(features: (shared.buffer.count - split) / 300)
                    do throws(JSONSyntaxError) {
                        second.end = try s.featureElements(into: &seg, cancel: second)
                    } catch {
                        second.error = error
                    }
                    second.segment = seg
                    second.done.signal()
                }
            }
            var s = GeoJSONScanner(buf)
            s.i = start
            let result: Result<ScannedCollection, JSONSyntaxError>
            do throws(JSONSyntaxError) {
                result = .success(try s.scanDocument(join: split.map { ($0, second) }, expected: (split ?? buf.count) / 300))
            } catch {
                result = .failure(error)
            }
            if split != nil && !second.taken && second.claim() {
                second.cancel()
                second.done.wait()  // the buffer must outlive the second thread
            }
            return result
        }
        var fc = try r.get()
        fc.bytes = input
        return fc
    }

    /// A `{` in the second half of the file preceded (white space aside) by `,`: probably the
    /// start of a feature. Nil for small files or when none is found near the middle.
    private static func splitGuess(_ b: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        let n = b.count - 1
        guard n - start >= 2_000_000 else { return nil }
        var k = start + (n - start) / 2
        let limit = min(n, k + 4_000_000)
        while k < limit {
            if b[k] == UInt8(ascii: "{") {
                var j = k - 1
                while j > start, b[j] == 0x20 || b[j] == 0x0A || b[j] == 0x0D || b[j] == 0x09 { j -= 1 }
                if b[j] == UInt8(ascii: ",") { return k }
            }
            k += 1
        }
        return nil
    }

    // MARK: Structure

    /// The whole document, as `document()` reads it, with the features in compact form.
    private mutating func scanDocument(join: (Int, ScanResult)?, expected: Int) throws(JSONSyntaxError) -> ScannedCollection {
        skipSpace()
        guard peek == UInt8(ascii: "{") else {
            if i >= end { throw fail("文件为空", "the file is empty") }
            throw fail("顶层应为 JSON 对象（GeoJSON FeatureCollection）", "the top level must be a JSON object (a GeoJSON FeatureCollection)")
        }
        var fc = ScannedCollection()
        var seg = ScannedSegment()
        seg.reserve(features: expected)
        var joinedAt: Int?  // features of the first thread before the second thread's
        var joinOpen = join != nil
        var second = ScannedSegment()
        try object { (s: inout GeoJSONScanner, key: String) throws(JSONSyntaxError) in
            switch key {
            case "type": fc.type = try s.stringOrSkip()
            case "crs": fc.crs = try s.value()
            case "features":
                fc.featuresPresent = true
                s.skipSpace()
                guard s.peek == UInt8(ascii: "[") else { try s.skipValue(); return }
                // `array { feature() }`, written out so that the second thread's features can be
                // taken over at the split point.
                try s.expect(UInt8(ascii: "["))
                s.depth += 1
                defer { s.depth -= 1 }
                if s.depth > 64 { throw s.fail("嵌套过深", "nesting too deep") }
                s.skipSpace()
                if s.peek == UInt8(ascii: "]") { s.i += 1; return }
                while true {
                    s.skipSpace()
                    if joinOpen, let (at, result) = join, s.i == at, s.depth == 2 {
                        joinOpen = false
                        if result.claim() {  // the second thread has started: take its features
                            result.taken = true
                            result.done.wait()
                            if let e = result.error { throw e }
                            joinedAt = seg.features.count
                            swap(&second, &result.segment)
                            s.i = result.end
                            return  // the second thread read up to and including the closing "]"
                        }
                        // it had not started (no free thread): go on alone
                    }
                    try s.scanFeature(into: &seg)
                    s.skipSpace()
                    if s.peek == UInt8(ascii: ",") { s.i += 1; continue }
                    if s.peek == UInt8(ascii: "]") { s.i += 1; return }
                    throw s.fail("应为 , 或 ]", "\",\" or \"]\" was expected")
                }
            default: try s.skipValue()
            }
        }
        skipSpace()
        if i < end { throw fail("JSON 结束后还有多余内容", "unexpected content after the end of the JSON") }
        let n = seg.features.count
        if let k = joinedAt {
            // the first thread's features before the split, the second thread's, the rest
            fc.chunks = [(0, 0..<k), (1, 0..<second.features.count), (0, k..<n)].filter { !$0.range.isEmpty }
            fc.segments = [seg, second]
        } else {
            fc.chunks = n > 0 ? [(0, 0..<n)] : []
            fc.segments = [seg]
        }
        return fc
    }

    /// The second thread: elements of the features array from a guessed element start to the
    /// closing `]`; returns the position after it.
    fileprivate mutating func featureElements(into seg: inout ScannedSegment, cancel: ScanResult) throws(JSONSyntaxError) -> Int {
        var n = 0
        while true {
            skipSpace()
            try scanFeature(into: &seg)
            skipSpace()
            if peek == UInt8(ascii: ",") {
                i += 1
                n += 1
                if n & 1023 == 0 && cancel.isCancelled { throw fail("", "") }  // not wanted any more: the result is dropped
                continue
            }
            if peek == UInt8(ascii: "]") { i += 1; depth -= 1; return i }
            throw fail("应为 , 或 ]", "\",\" or \"]\" was expected")
        }
    }

    /// A member name (positioned at its opening quote), raw when it has no escapes.
    private mutating func key() throws(JSONSyntaxError) -> Key {
        let q = i
        var k = i + 1
        while true {
            let c = b[k]
            if c == UInt8(ascii: "\"") { i = k + 1; return .raw(q + 1, k - q - 1) }
            if c == UInt8(ascii: "\\") || c < 0x20 { break }  // also the 0 sentinel at the end
            k += 1
        }
        i = q
        return .decoded(try string())
    }

    @inline(__always) private func bytesEqual(_ start: Int, _ count: Int, _ word: StaticString) -> Bool {
        guard count == word.utf8CodeUnitCount else { return false }
        let w = word.utf8Start
        for k in 0..<count where b[start + k] != w[k] { return false }
        return true
    }

    private func keyIs(_ key: Key, _ word: StaticString) -> Bool {
        switch key {
        case .raw(let s, let n): return bytesEqual(s, n, word)
        case .decoded(let d): return d == word.description
        }
    }

    /// `stringOrSkip()` for a type member: -1 when not a string, `known` codes for the given
    /// words (raw or decoded), else an index into `strings`.
    private mutating func typeCode(_ seg: inout ScannedSegment, _ words: [(StaticString, Int32)]) throws(JSONSyntaxError) -> Int32 {
        skipSpace()
        guard peek == UInt8(ascii: "\"") else { try skipValue(); return -1 }
        let k = try key()
        for (w, code) in words where keyIs(k, w) { return code }
        switch k {
        case .raw(let s, let n): seg.strings.append(String(decoding: UnsafeBufferPointer(rebasing: b[s..<(s + n)]), as: UTF8.self))
        case .decoded(let d): seg.strings.append(d)
        }
        return Int32(seg.strings.count - 1)
    }

    /// One element of the features array, as `feature(number:)` reads it.
    fileprivate mutating func scanFeature(into seg: inout ScannedSegment) throws(JSONSyntaxError) {
        var f = ScannedFeature()
        let v0 = seg.values.count
        for _ in 0..<ScannedSegment.slots { seg.values.append(ScannedValue()) }
        skipSpace()
        guard peek == UInt8(ascii: "{") else {
            try skipValue()
            f.type = -3
            seg.features.append(f)
            return
        }
        // object { … }
        try expect(UInt8(ascii: "{"))
        depth += 1
        if depth > 64 { throw fail("嵌套过深", "nesting too deep") }
        skipSpace()
        if peek == UInt8(ascii: "}") { i += 1 } else {
            while true {
                skipSpace()
                guard peek == UInt8(ascii: "\"") else { throw fail("应为带引号的成员名", "a quoted member name was expected") }
                let k = try key()
                skipSpace()
                try expect(UInt8(ascii: ":"))
                skipSpace()
                if keyIs(k, "type") {
                    f.type = try typeCode(&seg, [("Feature", -2)])
                } else if keyIs(k, "properties") {
                    skipSpace()
                    if peek == UInt8(ascii: "{") { try scanProperties(&seg, v0) } else { try skipValue() }
                } else if keyIs(k, "geometry") {
                    skipSpace()
                    if peek == UInt8(ascii: "{") {
                        f.geometryMissing = false
                        try scanGeometry(&f, &seg)
                    } else {
                        try skipValue()
                    }
                } else {
                    try skipValue()
                }
                skipSpace()
                if peek == UInt8(ascii: ",") { i += 1; continue }
                if peek == UInt8(ascii: "}") { i += 1; break }
                throw fail("应为 , 或 }", "\",\" or \"}\" was expected")
            }
        }
        depth -= 1
        seg.features.append(f)
    }

    /// The geometry object (at its `{`), as `feature(number:)` reads it.
    private mutating func scanGeometry(_ f: inout ScannedFeature, _ seg: inout ScannedSegment) throws(JSONSyntaxError) {
        try expect(UInt8(ascii: "{"))
        depth += 1
        if depth > 64 { throw fail("嵌套过深", "nesting too deep") }
        skipSpace()
        if peek == UInt8(ascii: "}") { i += 1; depth -= 1; return }
        while true {
            skipSpace()
            guard peek == UInt8(ascii: "\"") else { throw fail("应为带引号的成员名", "a quoted member name was expected") }
            let k = try key()
            skipSpace()
            try expect(UInt8(ascii: ":"))
            skipSpace()
            if keyIs(k, "type") {
                f.geometryType = try typeCode(&seg, [("Polygon", -2), ("MultiPolygon", -3)])
            } else if keyIs(k, "coordinates") {
                skipSpace()
                if peek == UInt8(ascii: "[") {
                    if let (depth, g0, g1) = flatCoordinates(&seg) {
                        f.coordinates = -2; f.depth = depth; f.groupStart = g0; f.groupEnd = g1
                    } else {
                        seg.trees.append(try coordinates())
                        f.coordinates = Int32(seg.trees.count - 1)
                    }
                } else {
                    try skipValue()
                    seg.trees.append(.malformed("coordinates 不是数组", "coordinates is not an array"))
                    f.coordinates = Int32(seg.trees.count - 1)
                }
            } else {
                try skipValue()
            }
            skipSpace()
            if peek == UInt8(ascii: ",") { i += 1; continue }
            if peek == UInt8(ascii: "}") { i += 1; break }
            throw fail("应为 , 或 }", "\",\" or \"}\" was expected")
        }
        depth -= 1
    }

    /// The properties object (at its `{`), as `value()` reads it; the first property that maps
    /// to each field is kept.
    private mutating func scanProperties(_ seg: inout ScannedSegment, _ v0: Int) throws(JSONSyntaxError) {
        for k in v0..<(v0 + ScannedSegment.slots) { seg.values[k] = ScannedValue() }
        try expect(UInt8(ascii: "{"))
        depth += 1
        if depth > 64 { throw fail("嵌套过深", "nesting too deep") }
        skipSpace()
        if peek == UInt8(ascii: "}") { i += 1; depth -= 1; return }
        var m = 0
        while true {
            skipSpace()
            guard peek == UInt8(ascii: "\"") else { throw fail("应为带引号的成员名", "a quoted member name was expected") }
            let name = try nameIndex(&seg, position: m)
            m += 1
            skipSpace()
            try expect(UInt8(ascii: ":"))
            skipSpace()
            var v = try propertyValue(&seg)
            let slot = Int(seg.nameSlots[Int(name)])
            if slot >= 0 && seg.values[v0 + slot].kind == .absent {
                v.name = name
                seg.values[v0 + slot] = v
            }
            skipSpace()
            if peek == UInt8(ascii: ",") { i += 1; continue }
            if peek == UInt8(ascii: "}") { i += 1; break }
            throw fail("应为 , 或 }", "\",\" or \"}\" was expected")
        }
        depth -= 1
    }

    /// The index in `names` of the property name at the opening quote; names usually come in
    /// the same order in every feature, so the previous feature's name at this position is
    /// tried first.
    private mutating func nameIndex(_ seg: inout ScannedSegment, position m: Int) throws(JSONSyntaxError) -> Int32 {
        let k = try key()
        let bytes: [UInt8]
        var raw = (start: 0, count: -1)
        switch k {
        case .raw(let s, let n):
            if m < seg.lastNames.count {
                let last = seg.lastNames[m]
                if last.count == n && memcmp(b.baseAddress! + s, b.baseAddress! + last.start, n) == 0 {
                    return last.index
                }
            }
            raw = (s, n)
            bytes = Array(UnsafeBufferPointer(rebasing: b[s..<(s + n)]))
        case .decoded(let d):
            bytes = Array(d.utf8)
        }
        let index: Int32
        if let known = seg.nameIndex[bytes] {
            index = known
        } else {
            let name = String(decoding: bytes, as: UTF8.self)
            let slot = ParcelImport.fieldKey(name).flatMap { key in ParcelImport.fields.firstIndex { $0.key == key } }
            seg.names.append(name)
            seg.nameSlots.append(Int8(slot ?? -1))
            index = Int32(seg.names.count - 1)
            seg.nameIndex[bytes] = index
        }
        let entry = (start: raw.start, count: raw.count, index: index)
        if m < seg.lastNames.count { seg.lastNames[m] = entry } else { seg.lastNames.append(entry) }
        return index
    }

    /// A property value, as `value()` reads it, without making objects for the usual kinds.
    private mutating func propertyValue(_ seg: inout ScannedSegment) throws(JSONSyntaxError) -> ScannedValue {
        var v = ScannedValue()
        skipSpace()
        switch peek {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            _ = try value()
            v.kind = .nested
        case UInt8(ascii: "\""):
            let q = i
            var k = i + 1
            while true {
                let c = b[k]
                if c == UInt8(ascii: "\"") {
                    if k - q - 1 <= Int(Int32.max) {
                        i = k + 1
                        v.kind = .rawString; v.start = q + 1; v.count = Int32(k - q - 1)
                        return v
                    }
                    break
                }
                if c == UInt8(ascii: "\\") || c < 0x20 { break }
                k += 1
            }
            i = q
            seg.strings.append(try string())
            v.kind = .decodedString; v.start = seg.strings.count - 1
        case UInt8(ascii: "t"):
            try literal("true"); v.kind = .yes
        case UInt8(ascii: "f"):
            try literal("false"); v.kind = .no
        case UInt8(ascii: "n"):
            try literal("null"); v.kind = .null
        default:
            guard isNumberStart(peek) else {
                if i >= end { throw fail("文件意外结束", "unexpected end of file") }
                throw fail("无效的 JSON 值", "invalid JSON value")
            }
            let s = i
            v.number = try numberValue()
            if i - s > Int(Int32.max) {  // absurd, but kept exact
                i = s
                let (x, text) = try number()
                seg.strings.append(text)
                v.number = x; v.kind = .number; v.start = -1 - (seg.strings.count - 1)
                return v
            }
            v.kind = .number; v.start = s; v.count = Int32(i - s)
        }
        return v
    }

    // MARK: Coordinates

    /// Coordinates of the regular form (positions of two or more numbers at one depth, 3 or 4,
    /// no empty arrays) straight into the flat arrays: (depth, groups). Nil, with the position
    /// and the arrays as they were, for anything else, which `coordinates()` then reads.
    private mutating func flatCoordinates(_ seg: inout ScannedSegment) -> (UInt8, Int, Int)? {
        let start = i
        guard depth + 4 <= 64 else { return nil }
        // the depth of the positions: the `[`s before the first number
        var levels = 0
        while peek == UInt8(ascii: "[") {
            levels += 1
            i += 1
            skipSpace()
        }
        guard levels == 3 || levels == 4, isNumberStart(peek) else { i = start; return nil }
        i = start
        let xy0 = seg.xy.count, rings0 = seg.rings.count, groups0 = seg.groups.count
        if flatArray(&seg, level: 1, leaf: levels) {
            return (UInt8(levels), groups0 / 2, seg.groups.count / 2)
        }
        i = start
        seg.xy.removeLast(seg.xy.count - xy0)
        seg.rings.removeLast(seg.rings.count - rings0)
        seg.groups.removeLast(seg.groups.count - groups0)
        return nil
    }

    /// An array at `level` (the coordinates array is level 1, positions are level `leaf`),
    /// positioned at its `[`.
    private mutating func flatArray(_ seg: inout ScannedSegment, level: Int, leaf: Int) -> Bool {
        i += 1
        skipSpace()
        if level == leaf - 1 {
            // a ring: positions
            let s = seg.xy.count
            while true {
                guard peek == UInt8(ascii: "[") else { return false }
                i += 1
                skipSpace()
                guard isNumberStart(peek), let x = try? numberValue() else { return false }
                skipSpace()
                guard peek == UInt8(ascii: ",") else { return false }
                i += 1
                skipSpace()
                guard isNumberStart(peek), let y = try? numberValue() else { return false }
                skipSpace()
                while peek == UInt8(ascii: ",") {
                    i += 1
                    skipSpace()
                    guard isNumberStart(peek), (try? numberValue()) != nil else { return false }
                    skipSpace()
                }
                guard peek == UInt8(ascii: "]") else { return false }
                i += 1
                seg.xy.append(x)
                seg.xy.append(y)
                skipSpace()
                if peek == UInt8(ascii: ",") { i += 1; skipSpace(); continue }
                if peek == UInt8(ascii: "]") { i += 1; break }
                return false
            }
            seg.rings.append(s)
            seg.rings.append(seg.xy.count)
            return true
        }
        let r0 = seg.rings.count / 2
        while true {
            guard peek == UInt8(ascii: "["), flatArray(&seg, level: level + 1, leaf: leaf) else { return false }
            skipSpace()
            if peek == UInt8(ascii: ",") { i += 1; skipSpace(); continue }
            if peek == UInt8(ascii: "]") { i += 1; break }
            return false
        }
        if level == leaf - 2 {
            seg.groups.append(r0)
            seg.groups.append(seg.rings.count / 2)
        }
        return true
    }
}
