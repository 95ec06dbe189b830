import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Crypto
import CCrypt
import NIOPosix

/// The key that session and API-token hashes are made with: from `MUJUN_SECRET`, or generated
/// once into a file (default data/secret.key, mode 0600). Never in the repository. The
/// database keeps only `hash(token)`, so a copy of it does not let anyone sign in.
///
/// ```swift
/// let key = try SecretKey.load(secret: nil, file: "data/secret.key")
/// let stored = key.hash("mj_…")      // what api_tokens.token_hash holds
/// ```
public struct SecretKey: Sendable {
    let key: SymmetricKey

    public init(secret: String) { key = SymmetricKey(data: SHA256.hash(data: Data(secret.utf8))) }
    init(bytes: [UInt8]) { key = SymmetricKey(data: bytes) }

    /// `secret` (or MUJUN_SECRET) when given, else the key kept in `file`, created when missing.
    /// Several instances started at once against one file agree on one key: the file is created
    /// exclusively (`O_EXCL`) by one of them, and the others read what it wrote.
    public static func load(secret: String?, file: String) throws -> SecretKey {
        if let s = secret ?? ProcessInfo.processInfo.environment["MUJUN_SECRET"], !s.isEmpty { return SecretKey(secret: s) }
        let url = URL(fileURLWithPath: file)
        func stored() -> SecretKey? {
            guard let text = try? String(contentsOf: url, encoding: .utf8),
                  let bytes = Tokens.bytes(hex: text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count >= 32 else { return nil }
            return SecretKey(bytes: bytes)
        }
        if let key = stored() { return key }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        if fd < 0 {
            // another process is creating it: wait for what it writes (a second at most)
            for _ in 0..<100 {
                if let key = stored() { return key }
                usleep(10_000)
            }
            throw ServiceError(.unprocessable, "密钥文件 \(url.path) 无法读取 / the secret file \(url.path) cannot be read")
        }
        let bytes = Tokens.randomBytes(32)
        let text = Array(Tokens.hex(bytes).utf8)
        let written = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == text.count, synced else {
            throw ServiceError(.unprocessable, "无法写入密钥文件 \(url.path) / cannot write the secret file \(url.path)")
        }
        return SecretKey(bytes: bytes)
    }

    /// HMAC-SHA256 of a token, hex.
    public func hash(_ token: String) -> String {
        Tokens.hex(Array(HMAC<SHA256>.authenticationCode(for: Data(token.utf8), using: key)))
    }
}

/// Random tokens and their text forms.
public enum Tokens {
    public static func randomBytes(_ n: Int) -> [UInt8] {
        var g = SystemRandomNumberGenerator()
        return (0..<n).map { _ in UInt8.random(in: 0...255, using: &g) }
    }

    /// A random URL-safe token of `bytes` random bytes.
    public static func random(_ bytes: Int = 32) -> String {
        Data(randomBytes(bytes)).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        var s = ""
        s.reserveCapacity(bytes.count * 2)
        for b in bytes { s.append(digits[Int(b >> 4)]); s.append(digits[Int(b & 15)]) }
        return s
    }

    public static func bytes(hex: String) -> [UInt8]? {
        guard hex.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 2)
            guard let b = UInt8(hex[i..<j], radix: 16) else { return nil }
            out.append(b)
            i = j
        }
        return out
    }

    /// Constant-time comparison of two secrets.
    public static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var d: UInt8 = 0
        for i in 0..<x.count { d |= x[i] ^ y[i] }
        return d == 0
    }
}

/// bcrypt password hashes (`$2b$`, libxcrypt's `crypt_r`), computed on a thread pool: a hash
/// takes about a quarter of a second at cost 12 and must not hold up other requests. Hashes
/// made by Vapor's Bcrypt (`$2b$`) verify here too.
public struct PasswordHasher: Sendable {
    public var cost: Int

    public init(cost: Int = 12) { self.cost = cost }

    /// A new hash of `password`.
    public func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { try Self.hashNow(password, cost: cost) }
    }

    /// Whether `password` matches `hash`.
    public func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Self.verifyNow(password, hash: hash) }
    }

    /// A verification against a fixed hash of the same cost: the time a real check takes, so
    /// that the answer to an unknown user name does not tell that it is unknown.
    public func spendVerificationTime(_ password: String) async {
        let dummy = "$2b$\(String(format: "%02d", cost))$abcdefghijklmnopqrstuuFf5MhYnSvUZ8N8PVLnV.y0zsCt6pk6fe"
        _ = try? await verify(password, hash: dummy)
    }

    static func hashNow(_ password: String, cost: Int) throws -> String {
        var salt = [CChar](repeating: 0, count: Int(CRYPT_GENSALT_OUTPUT_SIZE))
        guard crypt_gensalt_rn("$2b$", UInt(cost), nil, 0, &salt, Int32(salt.count)) != nil else {
            throw ServiceError(.unprocessable, "无法生成密码盐 / cannot make a password salt")
        }
        var data = crypt_data()
        guard let out = crypt_r(password, salt, &data), out.pointee != 0x2A /* "*": failure */ else {
            throw ServiceError(.unprocessable, "无法计算密码散列 / cannot hash the password")
        }
        return String(cString: out)
    }

    static func verifyNow(_ password: String, hash: String) -> Bool {
        guard hash.hasPrefix("$2") else { return false }
        var data = crypt_data()
        guard let out = crypt_r(password, hash, &data) else { return false }
        return Tokens.equal(String(cString: out), hash)
    }
}
