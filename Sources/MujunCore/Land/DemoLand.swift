import Foundation

/// The land of the demo city (DEMO.md, Places): industrial parcels for every demo enterprise,
/// laid out in EPSG:4549 around Yongkang (easting ≈ 503,000, northing ≈ 3,197,000),
/// deterministic for the city's seed.
///
/// Each town has an industrial area a few kilometres from the next; the named blocks (区块)
/// lie in their towns (三博区块 in 经济开发区, 烈桥区块 in 西城街道, 飞鹰区块 in 城西新区,
/// 中月区块 in 现代农业装备高新区, 下谢山区块 and 落英山区块 in 古山镇, 老茶场区块 in 花街镇).
/// Parcels are rectangles of 40–160 m sides in rows, 0–12 m apart inside a street block,
/// street blocks separated by roads of 30–45 m. The named blocks hold large street blocks,
/// contiguous renewal candidates (≥ 50 mu); elsewhere street blocks are mostly smaller.
/// Enterprises below 3 mu are tenants (租赁) in compounds: one owner parcel, about a dozen
/// tenants. Larger enterprises own one parcel or several adjacent ones. A few percent of
/// parcels are idle (闲置) or under construction (在建); registered areas match the
/// geometry to 0.01 mu except for a few that are off by more than 5 %.
public struct DemoLand: Sendable {
    public var parcels: [Parcel]
    public var landUse: [LandUse]

    /// The named blocks and their towns.
    public static let namedBlocks: [(block: String, town: String)] = [
        ("三博区块", "经济开发区"), ("烈桥区块", "西城街道"), ("飞鹰区块", "城西新区"),
        ("中月区块", "现代农业装备高新区"), ("下谢山区块", "古山镇"), ("落英山区块", "古山镇"),
        ("老茶场区块", "花街镇"),
    ]

    /// Where the demo city is centred in EPSG:4549.
    public static let centre = (x: 503_000.0, y: 3_197_000.0)

    private struct Lot {
        /// parcel areas in m² (adjacent pieces of one holding); a MultiPolygon when `multi`
        var pieces: [Double]
        var multi = false
        var owner: String?
        /// (code, relation, area mu); nil area = the whole parcel
        var uses: [(String, LandRelation, Double?)] = []
        var status: ParcelStatus = .inUse
        var above = false
    }

    private struct Placed {
        var rects: [[Double]]  // one or two rectangles (x0, y0, x1, y1)
        var lot: Lot
        var piece: Int
    }

    public init(city: DemoCity) {
        var rng = SeededRandom(seed: city.seed &* 0x9E37_79B9 &+ 0x4C41_4E44)
        let records = city.records(year: 2025, latestYear: 2025)
        let towns = DemoCity.townWeights.map(\.0)
        var members: [String: [Int]] = [:]
        for (i, r) in records.enumerated() { if let l = r.landMu, l > 0 { members[r.town, default: []].append(i) } }

        var allParcels: [Parcel] = []
        var allUses: [LandUse] = []
        // the parcels' dates from a generator of their own, so the layout stays what it was
        var dates = SeededRandom(seed: city.seed &* 0x9E37_79B9 &+ 0x4441_5445)
        // Lay out each town in local coordinates, then place the towns on a grid.
        var layouts: [(town: String, number: Int, placed: [(Placed, String?)], size: (w: Double, h: Double))] = []
        for (t, town) in towns.enumerated() {
            let idx = members[town] ?? []
            let tenants = idx.filter { records[$0].group == .below && records[$0].landMu! < 3 }
            var regular = idx.filter { !(records[$0].group == .below && records[$0].landMu! < 3) }
            var lots: [Lot] = []
            // Compounds: an owner (a small 规下 enterprise) and about a dozen tenants.
            var ownerPool = regular.filter { records[$0].group == .below && (4...15).contains(records[$0].landMu!) }
            var k = 0
            while k < tenants.count {
                let size = min(tenants.count - k, 8 + Int(rng.next() % 7))
                var group = Array(tenants[k..<(k + size)])
                k += size
                if (1...3).contains(tenants.count - k) { group += tenants[k...]; k = tenants.count }
                var lot = Lot(pieces: [])
                var area = 0.0
                if !ownerPool.isEmpty, !rng.chance(0.15) {
                    let o = ownerPool.removeFirst()
                    regular.removeAll { $0 == o }
                    lot.owner = records[o].creditCode
                    lot.uses.append((records[o].creditCode, .owned, records[o].landMu!))
                    area += records[o].landMu!
                }
                for g in group {
                    lot.uses.append((records[g].creditCode, .leased, records[g].landMu!))
                    area += records[g].landMu!
                }
                let m2 = min(area * 1.15 * Projection.squareMetresPerMu, 25_000)
                lot.pieces = [max(m2, 6_000)]
                lots.append(lot)
            }
            for e in regular {
                let r = records[e]
                let m2 = r.landMu! * Projection.squareMetresPerMu
                let n = max(1, Int((m2 / rng.unit().scaled(18_000, 24_000)).rounded(.up)))
                var lot = Lot(pieces: Array(repeating: max(m2 / Double(n), 1_700), count: n))
                lot.owner = r.creditCode
                lot.above = r.group == .above
                lot.uses = [(r.creditCode, .owned, nil)]
                if r.exempt == "新供地未满3年" { lot.status = .underConstruction }
                if n == 2, rng.chance(0.08) { lot.multi = true }  // one parcel in two parts across a lane
                lots.append(lot)
            }
            // Idle parcels with no occupant, some held by an enterprise that does not use them.
            let idleCount = max(1, lots.count * 3 / 100)
            for _ in 0..<idleCount {
                var lot = Lot(pieces: [rng.unit().scaled(2_500, 16_000)])
                lot.status = .idle
                if !idx.isEmpty, rng.chance(0.5) { lot.owner = records[rng.pick(idx)].creditCode }
                lots.append(lot)
            }
            // Shuffle deterministically so compounds, idle land and big firms mix.
            for i in stride(from: lots.count - 1, to: 0, by: -1) { lots.swapAt(i, Int(rng.next() % UInt64(i + 1))) }

            // Street blocks: the named 区块 first, with large blocks, then the rest.
            let named = Self.namedBlocks.filter { $0.town == town }.map(\.block)
            var groups: [(block: String?, lots: [Lot])] = []
            var cursor = 0
            for b in named {
                let share = named.count > 1 ? 0.25 : 0.35
                let take = Int(Double(lots.count) * share)
                var taken = 0
                while taken < take && cursor < lots.count {
                    let target = rng.unit().scaled(60, 260)
                    var g: [Lot] = []
                    var mu = 0.0
                    while mu < target && cursor < lots.count && taken < take {
                        g.append(lots[cursor]); mu += lots[cursor].pieces.reduce(0, +) / Projection.squareMetresPerMu
                        cursor += 1; taken += 1
                    }
                    groups.append((b, g))
                }
            }
            while cursor < lots.count {
                let target = rng.chance(0.06) ? rng.unit().scaled(50, 120) : rng.unit().scaled(8, 42)
                var g: [Lot] = []
                var mu = 0.0
                while cursor < lots.count && (g.isEmpty || mu + lots[cursor].pieces.reduce(0, +) / Projection.squareMetresPerMu <= target) {
                    g.append(lots[cursor]); mu += lots[cursor].pieces.reduce(0, +) / Projection.squareMetresPerMu
                    cursor += 1
                }
                groups.append((nil, g))
            }

            // Lay the street blocks in rows separated by roads.
            let totalM2 = lots.reduce(0) { $0 + $1.pieces.reduce(0, +) }
            let zoneWidth = max(800, (totalM2 * 2.2).squareRoot())
            var placed: [(Placed, String?)] = []
            var bx = 0.0, by = 0.0, rowH = 0.0
            for g in groups {
                let blockM2 = g.lots.reduce(0) { $0 + $1.pieces.reduce(0, +) }
                let width = min(max(blockM2.squareRoot() * rng.unit().scaled(1.0, 1.5), 170), 700)
                var local: [Placed] = []
                var x = 0.0, y = 0.0, lineH = 0.0
                var depth = rng.unit().scaled(60, 120)
                var maxX = 0.0
                for lot in g.lots {
                    // the pieces of one holding stay side by side
                    var rects: [[Double]] = []
                    var lx = x
                    var dims: [(Double, Double)] = []
                    for a in lot.pieces {
                        let d = min(max(depth, a / 160, 40), a / 40, 160)
                        dims.append((a / d, d))
                    }
                    let lotWidth = dims.reduce(0) { $0 + $1.0 } + Double(dims.count - 1) * 6
                    if x > 0 && x + lotWidth > width {
                        x = 0; y += lineH + gapInside(&rng); lineH = 0
                        depth = rng.unit().scaled(60, 120)
                        lx = 0
                    }
                    for (w, d) in dims {
                        rects.append([lx, y, lx + w, y + d])
                        lineH = max(lineH, d)
                        lx += w + (lot.multi ? 6 : gapInside(&rng))
                    }
                    maxX = max(maxX, lx)
                    x = lx
                    if lot.multi {
                        local.append(Placed(rects: rects, lot: lot, piece: 0))
                    } else {
                        for (i, r) in rects.enumerated() { local.append(Placed(rects: [r], lot: lot, piece: i)) }
                    }
                }
                let blockH = y + lineH
                if bx > 0 && bx + maxX > zoneWidth {
                    bx = 0; by += rowH + rng.unit().scaled(30, 45); rowH = 0
                }
                for var p in local {
                    p.rects = p.rects.map { [$0[0] + bx, $0[1] + by, $0[2] + bx, $0[3] + by] }
                    placed.append((p, g.block))
                }
                bx += maxX + rng.unit().scaled(30, 45)
                rowH = max(rowH, blockH)
            }
            layouts.append((town, t + 1, placed, (zoneWidth, by + rowH)))
        }

        // Towns on a grid of 5 columns, 1.5 km apart, centred on Yongkang.
        let columns = 5
        var colWidth = [Double](repeating: 0, count: columns)
        var rowHeight = [Double](repeating: 0, count: (layouts.count + columns - 1) / columns)
        for (i, l) in layouts.enumerated() {
            colWidth[i % columns] = max(colWidth[i % columns], l.size.w)
            rowHeight[i / columns] = max(rowHeight[i / columns], l.size.h)
        }
        let spacing = 1_500.0
        let totalW = colWidth.reduce(0, +) + spacing * Double(columns - 1)
        let totalH = rowHeight.reduce(0, +) + spacing * Double(rowHeight.count - 1)
        for (i, l) in layouts.enumerated() {
            let c = i % columns, r = i / columns
            let ox = Self.centre.x - totalW / 2 + colWidth[..<c].reduce(0, +) + spacing * Double(c)
            let oy = Self.centre.y + totalH / 2 - rowHeight[...r].reduce(0, +) - spacing * Double(r)
            var seq = 0
            for (p, block) in l.placed {
                seq += 1
                let id = String(format: "330784-%02d-%05d", l.number, seq)
                let polygons: [[[Double]]] = p.rects.map { r in
                    let x0 = cm(r[0] + ox), y0 = cm(r[1] + oy), x1 = cm(r[2] + ox), y1 = cm(r[3] + oy)
                    return [[x0, y0, x1, y0, x1, y1, x0, y1, x0, y0]]
                }
                let wkb = polygons.count == 1 ? WKB.polygon(polygons[0]) : WKB.multiPolygon(polygons)
                let areaMu = Projection.mu(squareMetres: WKB.area(polygons))
                var bbox = BBox(minX: polygons[0][0][0], minY: polygons[0][0][1], maxX: polygons[0][0][4], maxY: polygons[0][0][5])
                for q in polygons.dropFirst() { bbox = bbox.union(BBox(minX: q[0][0], minY: q[0][1], maxX: q[0][4], maxY: q[0][5])) }
                var registered = (areaMu * 100).rounded() / 100
                if rng.chance(0.03) { registered = ((registered * (rng.chance(0.5) ? 1 : -1) * rng.unit().scaled(0.07, 0.25) + registered) * 100).rounded() / 100 }
                var status = p.lot.status
                if status == .inUse && p.piece > 0 && rng.chance(0.12) { status = .idle }  // part of a holding unused
                let far: Double?
                switch status {
                case .underConstruction: far = nil
                case .idle: far = rng.chance(0.5) ? nil : (rng.unit().scaled(0.3, 0.9) * 100).rounded() / 100
                case .inUse:
                    far = rng.chance(0.1) ? nil
                        : (rng.logNormal(median: p.lot.above ? 1.8 : 1.45, sigma: 0.35) * 100).rounded() / 100
                }
                var parcel = Parcel(
                    parcelID: id, town: l.town, block: block, ownerCreditCode: p.lot.owner,
                    registeredMu: registered, landUse: "工业用地", far: far, status: status,
                    geometry: wkb, bbox: bbox, areaMu: areaMu)
                Self.date(&parcel, &dates)
                allParcels.append(parcel)
                for (code, relation, area) in p.lot.uses {
                    allUses.append(LandUse(parcelID: id, creditCode: code, relation: relation,
                                           areaMu: area ?? (areaMu * 100).rounded() / 100))
                }
            }
        }
        parcels = allParcels
        landUse = allUses
    }

    /// A parcel's dates (批准、供地、约定开工/竣工、投产), consistent with its status, as of the
    /// demo's latest year (2025): most in-use parcels supplied and operating for years; under
    /// construction, supplied in 2022–2024, a fifth of them past the agreed completion (建而未投);
    /// idle ones supplied and never started (供而未用), approved and never supplied (批而未供), or
    /// operated once (用而未尽); one parcel in ten without dates (the file gives none).
    static func date(_ p: inout Parcel, _ rng: inout SeededRandom) {
        func day(_ from: Int, _ to: Int) -> CalendarDate {  // a day in the years from…to
            let a = CalendarDate(year: from, month: 1, day: 1)!.dayNumber, b = CalendarDate(year: to, month: 12, day: 31)!.dayNumber
            return CalendarDate(dayNumber: a + Int(rng.next() % UInt64(b - a + 1)))
        }
        func later(_ d: CalendarDate, _ lo: Int, _ hi: Int) -> CalendarDate { d.adding(days: lo + Int(rng.next() % UInt64(hi - lo + 1))) }
        if rng.chance(0.1) { return }
        switch p.status {
        case .underConstruction:
            let late = rng.chance(0.2)  // past the agreed completion by the end of 2025
            let approved = late ? day(2022, 2023) : day(2022, 2024), supplied = later(approved, 30, 200)
            p.approvedOn = approved; p.suppliedOn = supplied
            p.startBy = later(supplied, 90, 180)
            p.finishBy = late ? later(p.startBy!, 200, 300) : later(p.startBy!, 900, 1200)
        case .idle:
            let u = rng.unit()
            if u < 0.2 {
                p.approvedOn = day(2021, 2024)
            } else if u < 0.65 {
                let approved = day(2017, 2022), supplied = later(approved, 30, 300)
                p.approvedOn = approved; p.suppliedOn = supplied
                p.startBy = later(supplied, 90, 365); p.finishBy = later(p.startBy!, 540, 900)
            } else {
                let approved = day(2004, 2014), supplied = later(approved, 30, 300)
                p.approvedOn = approved; p.suppliedOn = supplied
                p.startBy = later(supplied, 90, 365); p.finishBy = later(p.startBy!, 540, 730)
                p.operatingSince = later(p.finishBy!, 0, 180)
            }
        case .inUse, nil:
            let approved = day(2003, 2019), supplied = later(approved, 30, 300)
            p.approvedOn = approved; p.suppliedOn = supplied
            p.startBy = later(supplied, 90, 365); p.finishBy = later(p.startBy!, 540, 730)
            p.operatingSince = later(p.finishBy!, -60, 180)
        }
    }

    /// The parcels as a GeoJSON FeatureCollection with the template's Chinese property names
    /// and a `crs` member naming `crs` (default EPSG:4549), readable by ``ParcelImport`` and GDAL.
    public func geoJSON(crs: CRSName = .working) throws(ProjectionError) -> Data {
        try ParcelGeoJSON.featureCollection(parcels, crs: crs, name: "mujun_demo_parcels")
    }

    /// The land-use relations (用地关系) as a UTF-8 CSV in the template's Chinese headers.
    public func landUseCSV() -> Data {
        var s = "地块编号,统一社会信用代码,关系,面积(亩)\n"
        for u in landUse {
            s += "\(u.parcelID),\(u.creditCode),\(u.relation.chinese),\(u.areaMu.map { String(format: "%.2f", $0) } ?? "")\n"
        }
        return Data(s.utf8)
    }
}

private func gapInside(_ rng: inout SeededRandom) -> Double {
    rng.chance(0.3) ? 0 : rng.unit().scaled(2, 12)
}

private func cm(_ v: Double) -> Double { (v * 100).rounded() / 100 }

private extension Double {
    /// Maps a value in [0, 1) to [lo, hi).
    func scaled(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * self }
}
