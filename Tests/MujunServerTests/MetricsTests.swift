import Foundation
import Testing
import Vapor
import VaporTesting
import MujunCore
@testable import MujunStore
@testable import MujunServer

/// `/metrics` (issue 12, part 6): what it counts, its format, who may read it.
@Suite("Metrics: /metrics in the Prometheus text format")
struct MetricsTests {
    /// `name{labels} value` lines of a scrape, by name and labels.
    static func samples(_ text: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let cut = line.lastIndex(of: " "), let v = Double(line[line.index(after: cut)...]) else { continue }
            out[String(line[..<cut])] = v
        }
        return out
    }

    @Test("the admin reads every request counted by route pattern and status, with a histogram that adds up; others may not")
    func countsAndAccess() async throws {
        try await TestApp.with { app in
            let admin = try await TestAuth.session(app, .admin)
            let hq = try await TestAuth.hq(app)
            for _ in 0..<3 { try await app.testing().test(.GET, "/ranking", headers: hq.headers) { #expect($0.status == .ok) } }
            try await app.testing().test(.GET, "/api/v1/cases/999999", headers: hq.headers) { #expect($0.status == .notFound) }
            try await app.testing().test(.GET, "/no/such/page", headers: hq.headers) { #expect($0.status == .notFound) }
            // who may read it
            try await app.testing().test(.GET, "/metrics") { #expect($0.status == .unauthorized) }
            try await app.testing().test(.GET, "/metrics", headers: hq.headers) { #expect($0.status == .forbidden) }
            var text = ""
            try await app.testing().test(.GET, "/metrics", headers: admin.headers) { res in
                #expect(res.status == .ok)
                #expect(res.headers.first(name: .contentType) == "text/plain; version=0.0.4; charset=utf-8")
                #expect(res.headers.first(name: "X-Request-Id")?.isEmpty == false)
                text = res.body.string
            }
            let s = Self.samples(text)
            #expect(s["mujun_http_requests_total{route=\"/ranking\",method=\"GET\",status=\"200\"}"] == 3)
            #expect(s["mujun_http_requests_total{route=\"/api/v1/cases/:id\",method=\"GET\",status=\"404\"}"] == 1)
            #expect(s["mujun_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"}"] == 1)
            #expect(s["mujun_http_requests_total{route=\"/metrics\",method=\"GET\",status=\"401\"}"] == 1)
            #expect(s["mujun_http_requests_total{route=\"/metrics\",method=\"GET\",status=\"403\"}"] == 1)
            // the histogram: cumulative buckets ending at the count, which is every status of the route
            let route = "route=\"/ranking\",method=\"GET\""
            let buckets = Metrics.buckets.map { s["mujun_http_request_duration_seconds_bucket{\(route),le=\"\(Metrics.number($0))\"}"] }
            #expect(buckets.allSatisfy { $0 != nil })
            let values = buckets.compactMap { $0 }
            #expect(values == values.sorted())
            #expect(s["mujun_http_request_duration_seconds_bucket{\(route),le=\"+Inf\"}"] == 3)
            #expect(s["mujun_http_request_duration_seconds_count{\(route)}"] == 3)
            #expect((s["mujun_http_request_duration_seconds_sum{\(route)}"] ?? 0) > 0)
            #expect(s["mujun_db_up"] == 1)
            #expect((s["mujun_db_pool_connections_max"] ?? 0) >= 1)
            #expect((s["process_resident_memory_bytes"] ?? 0) > 1_000_000)
            #expect(s["mujun_http_requests_in_flight"] == 0)
        }
    }

    @Test("MUJUN_METRICS_ALLOW: addresses and IPv4 ranges, nothing else")
    func addressRanges() {
        let r = AddressRanges("127.0.0.2, 10.8.0.0/16,::1 192.168.1.7/32")
        #expect(r.contains("127.0.0.2") && r.contains("::1") && r.contains("10.8.255.1") && r.contains("192.168.1.7"))
        #expect(!r.contains("127.0.0.3") && !r.contains("10.9.0.1") && !r.contains("192.168.1.8") && !r.contains("unknown"))
        #expect(AddressRanges("0.0.0.0/0").contains("203.0.113.9"))
        #expect(!AddressRanges("").contains("127.0.0.1"))
        #expect(!AddressRanges("10.8.0.0/40").contains("10.8.0.1"), "a bad prefix length is no range")
    }
}
