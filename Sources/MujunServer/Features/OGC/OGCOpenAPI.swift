import Foundation
import Vapor
import MujunCore
import MujunStore

// MARK: - OpenAPI 3.0 definition of /ogc

enum OGCOpenAPI {
    static func document(root: String) -> [String: Any] {
        func ref(_ s: String) -> [String: Any] { ["$ref": s] }
        func param(_ name: String) -> [String: Any] { ref("#/components/parameters/\(name)") }
        func jsonResponse(_ description: String, _ schema: String, type: String = OGC.json) -> [String: Any] {
            ["description": description, "content": [type: ["schema": ref("#/components/schemas/\(schema)")]]]
        }
        let errors: [String: Any] = [
            "400": ref("#/components/responses/BadRequest"),
            "401": ref("#/components/responses/Unauthorized"),
            "403": ref("#/components/responses/Forbidden"),
            "404": ref("#/components/responses/NotFound"),
            "500": ref("#/components/responses/ServerError"),
        ]
        func get(_ id: String, _ summary: String, _ params: [String], _ ok: [String: Any], tag: String = "Capabilities") -> [String: Any] {
            ["get": ["operationId": id, "summary": summary, "tags": [tag], "parameters": params.map(param),
                     "responses": errors.merging(["200": ok]) { a, _ in a }]]
        }
        var paths: [String: Any] = [
            "/": get("getLandingPage", "起始页 / landing page", ["f"], jsonResponse("起始页 / the landing page", "LandingPage")),
            "/api": get("getAPI", "本 OpenAPI 定义 / this API definition", ["f"],
                        ["description": "OpenAPI 3.0 定义", "content": [OGC.openAPI: ["schema": ["type": "object"]]]]),
            "/api.html": ["get": ["operationId": "getAPIDocumentation", "summary": "接口说明页 / API documentation", "tags": ["Capabilities"],
                                  "responses": errors.merging(["200": ["description": "HTML", "content": ["text/html": ["schema": ["type": "string"]]]]]) { a, _ in a }]],
            "/conformance": get("getConformance", "符合的标准类 / conformance classes", ["f"], jsonResponse("conformsTo", "Conformance")),
            "/collections": get("getCollections", "数据集合 / the collections", ["f"], jsonResponse("集合列表", "Collections")),
        ]
        for c in OGCCollection.allCases {
            let n = c.rawValue
            let itemParams = ["bbox", "bbox-crs", "crs", "limit", "offset", "year", "datetime", "f"] + c.extraParameters
            paths["/collections/\(n)"] = get("describe_\(n)", "\(c.title)：集合说明 / describe \(n)", ["f"],
                                             jsonResponse("集合说明", "Collection"), tag: n)
            paths["/collections/\(n)/schema"] = get("schema_\(n)", "\(c.title)：要素的 JSON Schema", ["f"],
                                                    ["description": "JSON Schema", "content": [OGC.schemaJSON: ["schema": ["type": "object"]]]], tag: n)
            var items = get("getFeatures_\(n)", "\(c.title)：要素 / fetch features of \(n)", itemParams,
                            ["description": "GeoJSON 要素集合；响应头 Content-Crs 给出坐标参考系",
                             "headers": ["Content-Crs": ref("#/components/headers/ContentCrs")],
                             "content": [OGC.geoJSON: ["schema": ref("#/components/schemas/FeatureCollectionGeoJSON")]]], tag: n)
            if var g = items["get"] as? [String: Any] { g["description"] = c.description; items["get"] = g }
            paths["/collections/\(n)/items"] = items
            paths["/collections/\(n)/items/{featureId}"] = get("getFeature_\(n)", "\(c.title)：单个要素 / fetch one feature",
                ["featureId", "crs", "year", "datetime", "f"],
                ["description": "GeoJSON 要素", "headers": ["Content-Crs": ref("#/components/headers/ContentCrs")],
                 "content": [OGC.geoJSON: ["schema": ref("#/components/schemas/FeatureGeoJSON")]]], tag: n)
        }
        let crsURIs = OGC.crsList.map(\.uri)
        let parameters: [String: Any] = [
            "f": ["name": "f", "in": "query", "required": false, "description": "格式：只提供 json（亦接受 geojson）/ format",
                  "schema": ["type": "string", "enum": ["json", "geojson"]], "style": "form", "explode": false],
            "bbox": ["name": "bbox", "in": "query", "required": false, "style": "form", "explode": false,
                     "description": "范围 minx,miny,maxx,maxy，按 bbox-crs 的轴序（默认 CRS84：经度,纬度）；按地块外包框相交筛选 / bounding box in bbox-crs",
                     "schema": ["type": "array", "minItems": 4, "maxItems": 6, "items": ["type": "number"]]],
            "bbox-crs": ["name": "bbox-crs", "in": "query", "required": false, "description": "bbox 的坐标参考系，默认 CRS84",
                         "schema": ["type": "string", "format": "uri", "enum": crsURIs, "default": CRSName.crs84.uri], "style": "form", "explode": false],
            "crs": ["name": "crs", "in": "query", "required": false, "description": "输出坐标参考系，默认 CRS84；坐标按该坐标系 EPSG 定义的轴序",
                    "schema": ["type": "string", "format": "uri", "enum": crsURIs, "default": CRSName.crs84.uri], "style": "form", "explode": false],
            "limit": ["name": "limit", "in": "query", "required": false, "style": "form", "explode": false,
                      "description": "每页要素数，默认 \(OGC.defaultLimit)，最大 \(OGC.maxLimit)（更大的值按 \(OGC.maxLimit) 处理）",
                      "schema": ["type": "integer", "minimum": 1, "maximum": OGC.maxLimit, "default": OGC.defaultLimit]],
            "offset": ["name": "offset", "in": "query", "required": false, "style": "form", "explode": false,
                       "description": "跳过的要素数（分页，见 next 链接）", "schema": ["type": "integer", "minimum": 0, "default": 0]],
            "year": ["name": "year", "in": "query", "required": false, "style": "form", "explode": false,
                     "description": "评价年度，默认最近一次用地评价的年度", "schema": ["type": "integer"]],
            "datetime": ["name": "datetime", "in": "query", "required": false, "style": "form", "explode": false,
                         "description": "RFC 3339 时刻或区间（.. 表示开放）：选取其中最近的评价年度", "schema": ["type": "string"]],
            "town": ["name": "town", "in": "query", "required": false, "style": "form", "explode": false,
                     "description": "所属镇街", "schema": ["type": "string"]],
            "block": ["name": "block", "in": "query", "required": false, "style": "form", "explode": false,
                      "description": "区块，如 中月区块", "schema": ["type": "string"]],
            "featureId": ["name": "featureId", "in": "path", "required": true,
                          "description": "地块编号（parcels）或集中连片编号（clusters）", "schema": ["type": "string"]],
        ]
        let link: [String: Any] = ["type": "object", "required": ["href", "rel"], "properties": [
            "href": ["type": "string"], "rel": ["type": "string"], "type": ["type": "string"], "title": ["type": "string"]]]
        let links: [String: Any] = ["type": "array", "items": ref("#/components/schemas/Link")]
        let schemas: [String: Any] = [
            "Link": link,
            "Exception": ["type": "object", "required": ["code"], "properties": [
                "code": ["type": "string"], "description": ["type": "string"], "status": ["type": "integer"]]],
            "LandingPage": ["type": "object", "required": ["links"], "properties": [
                "title": ["type": "string"], "description": ["type": "string"], "links": links]],
            "Conformance": ["type": "object", "required": ["conformsTo"], "properties": [
                "conformsTo": ["type": "array", "items": ["type": "string"]], "links": links]],
            "Collection": ["type": "object", "required": ["id", "links"], "properties": [
                "id": ["type": "string"], "title": ["type": "string"], "description": ["type": "string"], "links": links,
                "extent": ["type": "object"], "itemType": ["type": "string"],
                "crs": ["type": "array", "items": ["type": "string"]], "storageCrs": ["type": "string"]]],
            "Collections": ["type": "object", "required": ["links", "collections"], "properties": [
                "links": links, "collections": ["type": "array", "items": ref("#/components/schemas/Collection")],
                "crs": ["type": "array", "items": ["type": "string"]]]],
            "FeatureGeoJSON": ["type": "object", "required": ["type", "geometry", "properties"], "properties": [
                "type": ["type": "string", "enum": ["Feature"]],
                "id": ["oneOf": [["type": "string"], ["type": "integer"]]],
                "geometry": ["type": "object", "nullable": true],
                "properties": ["type": "object", "nullable": true], "links": links]],
            "FeatureCollectionGeoJSON": ["type": "object", "required": ["type", "features"], "properties": [
                "type": ["type": "string", "enum": ["FeatureCollection"]],
                "features": ["type": "array", "items": ref("#/components/schemas/FeatureGeoJSON")],
                "links": links, "timeStamp": ["type": "string", "format": "date-time"],
                "numberMatched": ["type": "integer", "minimum": 0], "numberReturned": ["type": "integer", "minimum": 0]]],
        ]
        func errorResponse(_ d: String) -> [String: Any] {
            ["description": d, "content": [OGC.json: ["schema": ref("#/components/schemas/Exception")]]]
        }
        return [
            "openapi": "3.0.3",
            "info": ["title": "亩均 Mujun 工业用地 OGC API - Features", "version": "1.0.0",
                     "description": "工业用地地块与集中连片区块（OGC API - Features 第 1、2 部分）。数据按用户的管辖范围过滤；GIS 软件用 API 令牌访问（mujun user token 登录名）。",
                     "license": ["name": "内部数据，仅限授权使用 / internal data"]],
            "servers": [["url": root]],
            "tags": [["name": "Capabilities"], ["name": "parcels", "description": OGCCollection.parcels.title],
                     ["name": "clusters", "description": OGCCollection.clusters.title]],
            "security": [["bearerAuth": [String]()]],
            "paths": paths,
            "components": [
                "securitySchemes": ["bearerAuth": ["type": "http", "scheme": "bearer", "description": "API 令牌：mujun user token 登录名"]],
                "parameters": parameters,
                "schemas": schemas,
                "headers": ["ContentCrs": ["description": "坐标的坐标参考系，如 <http://www.opengis.net/def/crs/OGC/1.3/CRS84>",
                                           "schema": ["type": "string"]]],
                "responses": [
                    "BadRequest": errorResponse("参数无效或未知 / invalid or unknown parameter"),
                    "Unauthorized": errorResponse("未登录或令牌无效 / no or invalid token"),
                    "Forbidden": errorResponse("角色无权查看用地 / the role may not view land"),
                    "NotFound": errorResponse("没有该集合或要素 / no such collection or feature"),
                    "ServerError": errorResponse("服务器内部错误 / server error"),
                ],
            ],
        ]
    }
}

