import Vapor
import MujunCore

extension RouteAccess {
    /// The battle map, parcels, clusters and surveys.
    static let landRoutes: [(HTTPMethod, String, Requirement)] = []
}
