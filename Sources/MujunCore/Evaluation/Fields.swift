import Foundation

// The one table of what an enterprise's figures and indicators are called, in which unit,
// and which indicator divides which figure by which. The import template, the evaluation,
// appeals, the exports and the pages all take names, units and fields from here.

/// A figure of an enterprise's year (企业亩均数据的数值列): its template key, Chinese name and
/// unit, and the property of ``EnterpriseRecord`` that holds it.
public enum RecordField: String, Codable, Sendable, CaseIterable, Hashable {
    case landMu = "land_mu"
    case tax
    case valueAdded = "value_added"
    case revenue
    case rnd
    case energyTce = "energy_tce"
    case emissions
    case electricity
    case employees

    /// One row of the table.
    private var row: (name: String, unit: String, shortName: String?) {
        switch self {
        case .landMu: ("用地面积", "亩", nil)
        case .tax: ("评价税收", "万元", "税收")
        case .valueAdded: ("工业增加值", "万元", nil)
        case .revenue: ("营业收入", "万元", nil)
        case .rnd: ("研发经费", "万元", nil)
        case .energyTce: ("综合能耗", "吨标煤", nil)
        case .emissions: ("排放当量", "吨", nil)
        case .electricity: ("用电量", "万千瓦时", nil)
        case .employees: ("年平均职工人数", "人", nil)
        }
    }

    /// The template key, which is also the database column and the JSON key: `land_mu`.
    public var key: String { rawValue }

    /// The Chinese name: `用地面积`.
    public var name: String { row.name }

    /// The unit: `亩`, `万元`… (`人` for the head count).
    public var unit: String { row.unit }

    /// The name in running text, e.g. `需增加税收 12.0 万元`: `税收` for 评价税收, else ``name``.
    public var shortName: String { row.shortName ?? row.name }

    /// The template's column header, name and unit: `用地面积(亩)`; the head count has no
    /// unit: `年平均职工人数`.
    public var chinese: String { isWholeNumber ? name : "\(name)(\(unit))" }

    /// Whether a negative value is allowed (only tax and value added may be negative).
    public var allowsNegative: Bool { self == .tax || self == .valueAdded }

    /// Whether the value is a whole number (the head count).
    public var isWholeNumber: Bool { self == .employees }

    /// The figure in a record (nil = missing).
    @inline(__always)
    public func value(of r: EnterpriseRecord) -> Double? {
        switch self {
        case .landMu: r.landMu
        case .tax: r.tax
        case .valueAdded: r.valueAdded
        case .revenue: r.revenue
        case .rnd: r.rnd
        case .energyTce: r.energyTce
        case .emissions: r.emissions
        case .electricity: r.electricity
        case .employees: r.employees
        }
    }

    /// Sets the figure in a record.
    public func set(_ v: Double?, on r: inout EnterpriseRecord) {
        switch self {
        case .landMu: r.landMu = v
        case .tax: r.tax = v
        case .valueAdded: r.valueAdded = v
        case .revenue: r.revenue = v
        case .rnd: r.rnd = v
        case .energyTce: r.energyTce = v
        case .emissions: r.emissions = v
        case .electricity: r.electricity = v
        case .employees: r.employees = v
        }
    }

    /// ``value(of:)`` of the record at `r`, reading the one property only (`value(of: r.pointee)`
    /// would copy the whole record and retain its strings: the in-memory evaluation of `mujun bench` took
    /// about a fifth longer that way).
    @inline(__always)
    func value(at r: UnsafePointer<EnterpriseRecord>) -> Double? {
        switch self {
        case .landMu: r.pointee.landMu
        case .tax: r.pointee.tax
        case .valueAdded: r.pointee.valueAdded
        case .revenue: r.pointee.revenue
        case .rnd: r.pointee.rnd
        case .energyTce: r.pointee.energyTce
        case .emissions: r.pointee.emissions
        case .electricity: r.pointee.electricity
        case .employees: r.pointee.employees
        }
    }
}

extension EnterpriseRecord {
    /// A figure by its ``RecordField``: `record[.tax]`.
    public subscript(_ field: RecordField) -> Double? {
        get { field.value(of: self) }
        set { field.set(newValue, on: &self) }
    }
}

/// The figures an appeal (申诉) can dispute: every figure of the template.
public typealias AppealField = RecordField

/// The per-mu indicators of EVALUATION.md §2: each is one figure divided by another.
public enum Indicator: String, Codable, Sendable, CaseIterable, Hashable {
    /// 亩均税收
    case taxPerMu = "tax_per_mu"
    /// 亩均增加值
    case vaPerMu = "va_per_mu"
    /// 单位能耗增加值
    case vaPerEnergy = "va_per_energy"
    /// 单位排放增加值
    case vaPerEmission = "va_per_emission"
    /// 全员劳动生产率
    case labourProductivity = "labour_productivity"
    /// 研发经费占营业收入比重
    case rndRatio = "rnd_ratio"
    /// 单位电耗税收
    case taxPerKwh = "tax_per_kwh"

    /// One row of the table: the Chinese name, numerator ÷ denominator.
    private var row: (chinese: String, numerator: RecordField, denominator: RecordField) {
        switch self {
        case .taxPerMu: ("亩均税收", .tax, .landMu)
        case .vaPerMu: ("亩均增加值", .valueAdded, .landMu)
        case .vaPerEnergy: ("单位能耗增加值", .valueAdded, .energyTce)
        case .vaPerEmission: ("单位排放增加值", .valueAdded, .emissions)
        case .labourProductivity: ("全员劳动生产率", .valueAdded, .employees)
        case .rndRatio: ("研发经费占营业收入比重", .rnd, .revenue)
        case .taxPerKwh: ("单位电耗税收", .tax, .electricity)
        }
    }

    /// The Chinese name: `亩均税收`.
    public var chinese: String { row.chinese }

    /// The figure divided.
    public var numeratorField: RecordField { row.numerator }

    /// The figure divided by.
    public var denominatorField: RecordField { row.denominator }

    /// Whether it divides like figures (研发经费 by 营业收入, both 万元): a share, without unit,
    /// which pages show as a percentage.
    public var isRatio: Bool { numeratorField.unit == denominatorField.unit }

    /// The unit, from the figures' units: `万元/亩`; `比值` for a ratio.
    public var unit: String { isRatio ? "比值" : "\(numeratorField.unit)/\(denominatorField.unit)" }

    /// How it is computed, in Chinese: `评价税收 ÷ 用地面积`.
    public var formula: String { "\(numeratorField.name) ÷ \(denominatorField.name)" }

    /// The template keys of numerator and denominator: `("tax", "land_mu")`.
    public var fields: (numerator: String, denominator: String) { (numeratorField.key, denominatorField.key) }

    /// The numerator figure of a record (nil = missing).
    public func numerator(_ r: EnterpriseRecord) -> Double? { numeratorField.value(of: r) }

    /// The denominator figure of a record (nil = missing).
    public func denominator(_ r: EnterpriseRecord) -> Double? { denominatorField.value(of: r) }

    /// The value, or nil when missing: numerator or denominator absent, or denominator 0.
    public func value(_ r: EnterpriseRecord) -> Double? {
        guard let n = numerator(r), let d = denominator(r), d != 0 else { return nil }
        return n / d
    }

    /// ``numerator(_:)`` of the record at `r`, reading the one property only.
    @inline(__always)
    func numerator(at r: UnsafePointer<EnterpriseRecord>) -> Double? { numeratorField.value(at: r) }

    /// ``denominator(_:)`` of the record at `r`.
    @inline(__always)
    func denominator(at r: UnsafePointer<EnterpriseRecord>) -> Double? { denominatorField.value(at: r) }

    /// ``value(_:)`` of the record at `r`.
    @inline(__always)
    func value(at r: UnsafePointer<EnterpriseRecord>) -> Double? {
        guard let n = numerator(at: r), let d = denominator(at: r), d != 0 else { return nil }
        return n / d
    }
}
