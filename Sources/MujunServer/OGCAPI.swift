import Vapor
import MujunCore

extension RouteAccess {
    /// OGC API - Features at /ogc.
    static let ogcRoutes: [(HTTPMethod, String, Requirement)] = []
}
