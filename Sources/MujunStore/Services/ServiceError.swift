import Foundation

/// A refusal by a service, with what kind of refusal it is and a message in Chinese and
/// English. The server answers each kind with its HTTP status (400, 403, 404, 409, 413, 415,
/// 422); the command-line tool prints the message.
public struct ServiceError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// the input is wrong (400)
        case invalid
        /// the caller may not do this (403)
        case forbidden
        /// no such thing within the caller's scope (404)
        case notFound
        /// the record is not in a state that allows it (409)
        case conflict
        /// an upload is too large (413)
        case tooLarge
        /// an upload's type is not accepted (415)
        case unsupportedType
        /// the request is well formed but cannot be done with the data there is (422)
        case unprocessable
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) { self.kind = kind; self.message = message }

    public var description: String { message }

    static func notFound(_ message: String) -> ServiceError { ServiceError(.notFound, message) }
    static func invalid(_ message: String) -> ServiceError { ServiceError(.invalid, message) }
    static func conflict(_ message: String) -> ServiceError { ServiceError(.conflict, message) }
}
