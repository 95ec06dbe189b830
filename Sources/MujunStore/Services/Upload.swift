import Foundation

/// An uploaded file as the services take it: its name as sent and its bytes.
public struct UploadedFile: Sendable {
    public var filename: String
    public var data: Data
    public init(filename: String, data: Data) { self.filename = filename; self.data = data }
}

/// Checks of an uploaded file shared by the forms that take one (an appeal's attachment, a
/// survey's photo): its size, its type by name and by content, and a safe file name.
public enum UploadCheck {
    public enum Problem: Error { case tooLarge, wrongType }

    /// The kind of a file from its first bytes: "pdf", "jpg" or "png"; nil for anything else.
    public static func contentKind(_ d: Data) -> String? {
        let b = [UInt8](d.prefix(8))
        if b.starts(with: [0x25, 0x50, 0x44, 0x46]) { return "pdf" }
        if b.starts(with: [0xFF, 0xD8, 0xFF]) { return "jpg" }
        if b.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "png" }
        return nil
    }

    /// The file's own name without any folder, control characters or quotes, at most 120
    /// characters (the end kept, with the extension).
    public static func cleanName(_ raw: String) -> String {
        var name = raw.replacingOccurrences(of: "\\", with: "/")
        name = String(name.split(separator: "/").last ?? "")
        name = String(name.unicodeScalars.filter { $0.value >= 0x20 && $0 != "\"" && $0.value != 0x7F }.map(Character.init))
            .trimmingCharacters(in: .whitespaces)
        if name.count > 120 { name = String(name.suffix(120)) }
        return name
    }

    /// The cleaned name and bytes of `file`, nil when none was sent (or it is empty). Its
    /// content must be one of `kinds` ("pdf", "jpg", "png") and its name's extension must say
    /// the same ("jpeg" for "jpg" too); a name left empty or hidden becomes `fallbackStem` +
    /// extension.
    public static func check(_ file: UploadedFile?, maxBytes: Int, kinds: Set<String>, fallbackStem: String) throws(Problem) -> UploadedFile? {
        guard let file, !file.data.isEmpty else { return nil }
        guard file.data.count <= maxBytes else { throw .tooLarge }
        var name = cleanName(file.filename)
        let ext = URL(fileURLWithPath: name).pathExtension.lowercased()
        guard let kind = contentKind(file.data), kinds.contains(kind), kind == ext || (kind == "jpg" && ext == "jpeg") else {
            throw .wrongType
        }
        if name.isEmpty || name.hasPrefix(".") { name = fallbackStem + "." + ext }
        return UploadedFile(filename: name, data: file.data)
    }
}
