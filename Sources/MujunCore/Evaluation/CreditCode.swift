/// The unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters from a
/// 31-character set, the last one a check character over the first 17.
public enum CreditCode {
    static let charset = Array("0123456789ABCDEFGHJKLMNPQRTUWXY")
    static let weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    static let valueOf: [Character: Int] = Dictionary(uniqueKeysWithValues: charset.enumerated().map { ($1, $0) })

    /// Upper-cases and trims a code as typed.
    public static func normalize(_ s: String) -> String {
        s.trimmingCharacters(in: .whitespaces).uppercased()
    }

    /// The check character for the first 17 characters, or nil if one is not in the set.
    public static func checkCharacter(_ first17: some Collection<Character>) -> Character? {
        guard first17.count == 17 else { return nil }
        var sum = 0
        for (c, w) in zip(first17, weights) {
            guard let v = valueOf[c] else { return nil }
            sum += v * w
        }
        return charset[(31 - sum % 31) % 31]
    }

    /// Why a code is invalid (Chinese, English), or nil when valid.
    public static func problem(_ code: String) -> (zh: String, en: String)? {
        let chars = Array(code)
        guard chars.count == 18 else {
            return ("应为 18 位，实为 \(chars.count) 位", "must have 18 characters, has \(chars.count)")
        }
        if let bad = chars.first(where: { valueOf[$0] == nil }) {
            return ("含非法字符 \"\(bad)\"", "contains the invalid character \"\(bad)\"")
        }
        let expected = checkCharacter(chars[0..<17])!
        if expected != chars[17] {
            return ("校验位错误（应为 \(expected)）", "wrong check character (expected \(expected))")
        }
        return nil
    }

    public static func isValid(_ code: String) -> Bool { problem(code) == nil }

    /// Completes 17 characters with their check character.
    public static func complete(_ first17: String) -> String {
        first17 + String(checkCharacter(Array(first17))!)
    }
}
