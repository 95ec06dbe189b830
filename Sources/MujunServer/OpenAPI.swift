/// The OpenAPI 3.0.3 description of the JSON API, served at `/openapi.json`.
/// Field names are the snake_case the API emits (the global encoder converts keys).
/// Generated once from a Python description and kept by hand since; OpenAPITests checks
/// that it parses, validates, and names every route under /api/v1.
enum OpenAPIDocument {
    static let json: String = #"""
{
 "openapi": "3.0.3",
 "info": {
  "title": "Mujun 亩均论英雄 API",
  "version": "1.0.0",
  "description": "永康市工业企业亩均效益综合评价（亩均论英雄）的数据接口。JSON 字段为 snake_case；缺失的值不输出。错误以 {error, status} 返回。"
 },
 "servers": [
  {
   "url": "/"
  }
 ],
 "tags": [
  {
   "name": "system"
  },
  {
   "name": "results"
  },
  {
   "name": "rules"
  },
  {
   "name": "evaluations"
  },
  {
   "name": "imports"
  },
  {
   "name": "export"
  }
 ],
 "paths": {
  "/healthz": {
   "get": {
    "operationId": "health",
    "summary": "健康检查 / health check",
    "tags": [
     "system"
    ],
    "responses": {
     "200": {
      "description": "数据库可用",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Health"
        }
       }
      }
     },
     "503": {
      "description": "数据库不可用",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Health"
        }
       }
      }
     }
    }
   }
  },
  "/api/v1/years": {
   "get": {
    "operationId": "listYears",
    "summary": "年度列表 / years",
    "tags": [
     "results"
    ],
    "responses": {
     "200": {
      "description": "年度",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Years"
        }
       }
      }
     }
    }
   }
  },
  "/api/v1/results": {
   "get": {
    "operationId": "listResults",
    "summary": "评价结果列表（排名） / results of a year",
    "tags": [
     "results"
    ],
    "parameters": [
     {
      "name": "year",
      "in": "query",
      "required": false,
      "description": "评价年度；缺省为最近一个已评价年度 / evaluation year, default the latest evaluated year",
      "schema": {
       "type": "integer"
      }
     },
     {
      "name": "group",
      "in": "query",
      "required": false,
      "description": "规上 above / 规下 below；缺省为全部 / group, default both",
      "schema": {
       "type": "string",
       "enum": [
        "above",
        "below",
        "规上",
        "规下"
       ]
      }
     },
     {
      "name": "town",
      "in": "query",
      "required": false,
      "description": "所属镇街，如 东城街道 / town",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "class",
      "in": "query",
      "required": false,
      "description": "最终分类，exempt = 不参评 / final class, exempt = not evaluated",
      "schema": {
       "type": "string",
       "enum": [
        "A",
        "B",
        "C",
        "D",
        "exempt"
       ]
      }
     },
     {
      "name": "q",
      "in": "query",
      "required": false,
      "description": "企业名称或统一社会信用代码的一部分 / part of a name or credit code",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "sort",
      "in": "query",
      "required": false,
      "description": "排序 / sort key",
      "schema": {
       "type": "string",
       "enum": [
        "rank",
        "total",
        "name",
        "town",
        "land",
        "tax_per_mu",
        "class"
       ],
       "default": "rank"
      }
     },
     {
      "name": "order",
      "in": "query",
      "required": false,
      "description": "升序/降序 / order",
      "schema": {
       "type": "string",
       "enum": [
        "asc",
        "desc"
       ],
       "default": "asc"
      }
     },
     {
      "name": "page",
      "in": "query",
      "required": false,
      "description": "页码 / page",
      "schema": {
       "type": "integer",
       "minimum": 1,
       "default": 1
      }
     },
     {
      "name": "per",
      "in": "query",
      "required": false,
      "description": "每页条数 / rows per page",
      "schema": {
       "type": "integer",
       "minimum": 1,
       "maximum": 10000,
       "default": 50
      }
     }
    ],
    "responses": {
     "200": {
      "description": "一页结果",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/ResultPage"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     }
    }
   }
  },
  "/api/v1/results/counts": {
   "get": {
    "operationId": "resultCounts",
    "summary": "各镇街分类统计 / class counts per town",
    "tags": [
     "results"
    ],
    "parameters": [
     {
      "name": "year",
      "in": "query",
      "required": false,
      "description": "评价年度；缺省为最近一个已评价年度 / evaluation year, default the latest evaluated year",
      "schema": {
       "type": "integer"
      }
     },
     {
      "name": "group",
      "in": "query",
      "required": false,
      "description": "规上 above / 规下 below；缺省为全部 / group, default both",
      "schema": {
       "type": "string",
       "enum": [
        "above",
        "below",
        "规上",
        "规下"
       ]
      }
     },
     {
      "name": "q",
      "in": "query",
      "required": false,
      "description": "企业名称或统一社会信用代码的一部分 / part of a name or credit code",
      "schema": {
       "type": "string"
      }
     }
    ],
    "responses": {
     "200": {
      "description": "分类统计",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Counts"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     }
    }
   }
  },
  "/api/v1/enterprises/{code}": {
   "get": {
    "operationId": "getEnterprise",
    "summary": "企业评价结果与历年记录 / one enterprise's result and history",
    "tags": [
     "results"
    ],
    "parameters": [
     {
      "name": "code",
      "in": "path",
      "required": true,
      "description": "统一社会信用代码 / credit code",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "year",
      "in": "query",
      "required": false,
      "description": "评价年度；缺省为最近一个已评价年度 / evaluation year, default the latest evaluated year",
      "schema": {
       "type": "integer"
      }
     }
    ],
    "responses": {
     "200": {
      "description": "企业结果",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Enterprise"
        }
       }
      }
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     }
    }
   }
  },
  "/api/v1/rules": {
   "get": {
    "operationId": "getRules",
    "summary": "现行评价规则 / rules in force",
    "tags": [
     "rules"
    ],
    "responses": {
     "200": {
      "description": "规则",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Rules"
        }
       }
      }
     }
    }
   }
  },
  "/api/v1/evaluations": {
   "get": {
    "operationId": "listEvaluations",
    "summary": "某年度的评价运行 / evaluation runs of a year",
    "tags": [
     "evaluations"
    ],
    "parameters": [
     {
      "name": "year",
      "in": "query",
      "required": false,
      "description": "评价年度；缺省为最近一个已评价年度 / evaluation year, default the latest evaluated year",
      "schema": {
       "type": "integer"
      }
     }
    ],
    "responses": {
     "200": {
      "description": "运行记录，新的在前",
      "content": {
       "application/json": {
        "schema": {
         "type": "array",
         "items": {
          "$ref": "#/components/schemas/RunInfo"
         }
        }
       }
      }
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     }
    }
   },
   "post": {
    "operationId": "runEvaluation",
    "summary": "按现行规则评价某年度已导入的数据 / evaluate a stored year",
    "tags": [
     "evaluations"
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/EvaluateRequest"
       }
      }
     }
    },
    "responses": {
     "200": {
      "description": "新的评价运行（成为该年度当前结果）",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Run"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "422": {
      "description": "该年度没有数据",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    }
   }
  },
  "/api/v1/imports/enterprises": {
   "post": {
    "operationId": "importEnterprises",
    "summary": "导入企业亩均数据（全部成功或全部不写入） / import annual data, all or nothing",
    "tags": [
     "imports"
    ],
    "parameters": [
     {
      "name": "year",
      "in": "query",
      "required": false,
      "description": "年度（文件中没有年度列时必填） / year, when the file has no year column",
      "schema": {
       "type": "integer"
      }
     },
     {
      "name": "filename",
      "in": "query",
      "required": false,
      "description": "原文件名，记入导入记录 / original file name",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "encoding",
      "in": "query",
      "required": false,
      "description": "CSV 编码；缺省自动识别 / CSV encoding, default auto",
      "schema": {
       "type": "string",
       "enum": [
        "utf-8",
        "utf8",
        "gb18030",
        "gbk",
        "gb2312"
       ]
      }
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "text/csv": {
       "schema": {
        "type": "string",
        "format": "binary"
       }
      },
      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
       "schema": {
        "type": "string",
        "format": "binary"
       }
      },
      "multipart/form-data": {
       "schema": {
        "type": "object",
        "properties": {
         "file": {
          "type": "string",
          "format": "binary"
         }
        },
        "required": [
         "file"
        ]
       }
      }
     }
    },
    "responses": {
     "201": {
      "description": "已导入",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/ImportSummary"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "422": {
      "description": "有错误的行（无数据写入）",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/ImportError"
        }
       }
      }
     }
    }
   }
  },
  "/export/ranking.xlsx": {
   "get": {
    "operationId": "exportRanking",
    "summary": "导出排名 Excel（全部符合条件的企业） / ranking as XLSX",
    "tags": [
     "export"
    ],
    "parameters": [
     {
      "name": "year",
      "in": "query",
      "required": false,
      "description": "评价年度；缺省为最近一个已评价年度 / evaluation year, default the latest evaluated year",
      "schema": {
       "type": "integer"
      }
     },
     {
      "name": "group",
      "in": "query",
      "required": false,
      "description": "规上 above / 规下 below；缺省为全部 / group, default both",
      "schema": {
       "type": "string",
       "enum": [
        "above",
        "below",
        "规上",
        "规下"
       ]
      }
     },
     {
      "name": "town",
      "in": "query",
      "required": false,
      "description": "所属镇街，如 东城街道 / town",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "class",
      "in": "query",
      "required": false,
      "description": "最终分类，exempt = 不参评 / final class, exempt = not evaluated",
      "schema": {
       "type": "string",
       "enum": [
        "A",
        "B",
        "C",
        "D",
        "exempt"
       ]
      }
     },
     {
      "name": "q",
      "in": "query",
      "required": false,
      "description": "企业名称或统一社会信用代码的一部分 / part of a name or credit code",
      "schema": {
       "type": "string"
      }
     }
    ],
    "responses": {
     "200": {
      "description": "XLSX 工作簿：排名、基准值、说明三个工作表",
      "headers": {
       "Content-Disposition": {
        "schema": {
         "type": "string"
        },
        "description": "attachment; filename*=UTF-8''…"
       }
      },
      "content": {
       "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
        "schema": {
         "type": "string",
         "format": "binary"
        }
       }
      }
     },
     "400": {
      "description": "参数错误（HTML 页面）"
     },
     "404": {
      "description": "尚无评价结果（HTML 页面）"
     }
    }
   }
  }
 },
 "components": {
  "schemas": {
   "Error": {
    "type": "object",
    "properties": {
     "error": {
      "type": "string"
     },
     "status": {
      "type": "string",
      "description": "HTTP status code as text"
     }
    },
    "required": [
     "error"
    ]
   },
   "Health": {
    "type": "object",
    "properties": {
     "status": {
      "type": "string",
      "enum": [
       "ok",
       "unavailable"
      ]
     },
     "database": {
      "type": "string"
     }
    },
    "required": [
     "status",
     "database"
    ]
   },
   "Years": {
    "type": "object",
    "properties": {
     "evaluated": {
      "type": "array",
      "items": {
       "type": "integer"
      }
     },
     "data": {
      "type": "array",
      "items": {
       "type": "integer"
      }
     }
    },
    "required": [
     "evaluated",
     "data"
    ],
    "description": "已评价年度与已导入数据年度，新的在前 / evaluated years and years with data, newest first"
   },
   "Indicator": {
    "type": "string",
    "enum": [
     "tax_per_mu",
     "va_per_mu",
     "va_per_energy",
     "va_per_emission",
     "labour_productivity",
     "rnd_ratio",
     "tax_per_kwh"
    ],
    "description": "指标代码 / indicator key"
   },
   "EnterpriseClass": {
    "type": "string",
    "enum": [
     "A",
     "B",
     "C",
     "D"
    ]
   },
   "EnterpriseGroup": {
    "type": "string",
    "enum": [
     "above",
     "below"
    ],
    "description": "above = 规上, below = 规下"
   },
   "ResultItem": {
    "type": "object",
    "properties": {
     "credit_code": {
      "type": "string"
     },
     "name": {
      "type": "string"
     },
     "town": {
      "type": "string"
     },
     "group": {
      "$ref": "#/components/schemas/EnterpriseGroup"
     },
     "group_name": {
      "type": "string",
      "enum": [
       "规上",
       "规下"
      ]
     },
     "evaluated": {
      "type": "boolean"
     },
     "exempt_reason": {
      "type": "string"
     },
     "land_mu": {
      "type": "number",
      "format": "double"
     },
     "tax_per_mu": {
      "type": "number",
      "format": "double"
     },
     "total_score": {
      "type": "number",
      "format": "double"
     },
     "rank": {
      "type": "integer"
     },
     "class_before_veto": {
      "$ref": "#/components/schemas/EnterpriseClass"
     },
     "class": {
      "$ref": "#/components/schemas/EnterpriseClass"
     },
     "vetoes": {
      "type": "array",
      "items": {
       "type": "string"
      }
     }
    },
    "required": [
     "credit_code",
     "name",
     "town",
     "group",
     "group_name",
     "evaluated",
     "vetoes"
    ],
    "description": "排名中的一行；缺失的字段不输出 / one ranking row; absent values are omitted"
   },
   "ResultPage": {
    "type": "object",
    "properties": {
     "year": {
      "type": "integer"
     },
     "items": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/ResultItem"
      }
     },
     "total": {
      "type": "integer"
     },
     "page": {
      "type": "integer"
     },
     "per": {
      "type": "integer"
     }
    },
    "required": [
     "year",
     "items",
     "total",
     "page",
     "per"
    ]
   },
   "Counts": {
    "type": "object",
    "properties": {
     "year": {
      "type": "integer"
     },
     "group": {
      "$ref": "#/components/schemas/EnterpriseGroup"
     },
     "by_town": {
      "type": "object",
      "additionalProperties": {
       "type": "object",
       "additionalProperties": {
        "type": "integer"
       },
       "description": "分类 A/B/C/D/exempt → 企业数"
      },
      "description": "镇街 → 分类 → 企业数"
     },
     "total": {
      "type": "object",
      "additionalProperties": {
       "type": "integer"
      },
      "description": "分类 A/B/C/D/exempt → 企业数"
     }
    },
    "required": [
     "year",
     "by_town",
     "total"
    ]
   },
   "IndicatorScore": {
    "type": "object",
    "properties": {
     "indicator": {
      "$ref": "#/components/schemas/Indicator"
     },
     "weight": {
      "type": "number",
      "format": "double"
     },
     "value": {
      "type": "number",
      "format": "double"
     },
     "benchmark": {
      "type": "number",
      "format": "double"
     },
     "score": {
      "type": "number",
      "format": "double"
     },
     "missing": {
      "type": "boolean"
     }
    },
    "required": [
     "indicator",
     "weight",
     "score",
     "missing"
    ]
   },
   "PolicyOutcome": {
    "type": "object",
    "properties": {
     "electricity_surcharge": {
      "type": "number",
      "format": "double",
      "description": "差别化电价加价 元/千瓦时"
     },
     "energy_quota_factor": {
      "type": "number",
      "format": "double",
      "description": "用能指标系数"
     },
     "credit_eligible": {
      "type": "boolean",
      "description": "亩均英雄贷"
     },
     "consecutive_years": {
      "type": "integer"
     },
     "other": {
      "type": "object",
      "additionalProperties": {
       "type": "string"
      }
     }
    },
    "required": [
     "electricity_surcharge",
     "credit_eligible",
     "consecutive_years",
     "other"
    ]
   },
   "IndicatorGap": {
    "type": "object",
    "properties": {
     "indicator": {
      "$ref": "#/components/schemas/Indicator"
     },
     "current": {
      "type": "number",
      "format": "double"
     },
     "target": {
      "type": "number",
      "format": "double"
     },
     "increase": {
      "type": "number",
      "format": "double"
     },
     "numerator_increase": {
      "type": "number",
      "format": "double"
     }
    },
    "required": [
     "indicator"
    ]
   },
   "ClassGap": {
    "type": "object",
    "properties": {
     "target": {
      "$ref": "#/components/schemas/EnterpriseClass"
     },
     "boundary": {
      "type": "number",
      "format": "double"
     },
     "points_needed": {
      "type": "number",
      "format": "double"
     },
     "indicators": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/IndicatorGap"
      }
     },
     "barred_by_veto": {
      "type": "string"
     }
    },
    "required": [
     "target",
     "boundary",
     "points_needed",
     "indicators"
    ]
   },
   "EnterpriseResult": {
    "type": "object",
    "properties": {
     "year": {
      "type": "integer"
     },
     "credit_code": {
      "type": "string"
     },
     "name": {
      "type": "string"
     },
     "town": {
      "type": "string"
     },
     "group": {
      "$ref": "#/components/schemas/EnterpriseGroup"
     },
     "industry": {
      "type": "string"
     },
     "land_mu": {
      "type": "number",
      "format": "double"
     },
     "evaluated": {
      "type": "boolean"
     },
     "exempt_reason": {
      "type": "string"
     },
     "items": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/IndicatorScore"
      }
     },
     "bonus": {
      "type": "number",
      "format": "double"
     },
     "bonus_reasons": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "total_score": {
      "type": "number",
      "format": "double"
     },
     "rank": {
      "type": "integer"
     },
     "group_size": {
      "type": "integer"
     },
     "class_before_veto": {
      "$ref": "#/components/schemas/EnterpriseClass"
     },
     "final_class": {
      "$ref": "#/components/schemas/EnterpriseClass"
     },
     "vetoes": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "reasons": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "policy": {
      "$ref": "#/components/schemas/PolicyOutcome"
     },
     "gap": {
      "$ref": "#/components/schemas/ClassGap"
     }
    },
    "required": [
     "year",
     "credit_code",
     "name",
     "town",
     "group",
     "evaluated",
     "items",
     "bonus",
     "bonus_reasons",
     "group_size",
     "vetoes",
     "reasons"
    ]
   },
   "HistoryEntry": {
    "type": "object",
    "properties": {
     "year": {
      "type": "integer"
     },
     "group": {
      "$ref": "#/components/schemas/EnterpriseGroup"
     },
     "total_score": {
      "type": "number",
      "format": "double"
     },
     "rank": {
      "type": "integer"
     },
     "group_size": {
      "type": "integer"
     },
     "final_class": {
      "$ref": "#/components/schemas/EnterpriseClass"
     },
     "exempt_reason": {
      "type": "string"
     },
     "tax_per_mu": {
      "type": "number",
      "format": "double"
     }
    },
    "required": [
     "year",
     "group"
    ]
   },
   "Enterprise": {
    "type": "object",
    "properties": {
     "result": {
      "$ref": "#/components/schemas/EnterpriseResult"
     },
     "history": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/HistoryEntry"
      }
     }
    },
    "required": [
     "result",
     "history"
    ]
   },
   "Rules": {
    "type": "object",
    "properties": {
     "yaml": {
      "type": "string"
     },
     "name": {
      "type": "string"
     },
     "weights": {
      "type": "object",
      "additionalProperties": {
       "type": "object",
       "additionalProperties": {
        "type": "number",
        "format": "double"
       }
      },
      "description": "above/below → 指标代码 → 权重"
     }
    },
    "required": [
     "yaml",
     "name",
     "weights"
    ]
   },
   "RunInfo": {
    "type": "object",
    "properties": {
     "id": {
      "type": "integer",
      "format": "int64"
     },
     "year": {
      "type": "integer"
     },
     "rules_yaml": {
      "type": "string"
     },
     "enterprises": {
      "type": "integer"
     },
     "evaluated": {
      "type": "integer"
     },
     "actor": {
      "type": "string"
     },
     "created_at": {
      "type": "string",
      "format": "date-time"
     }
    },
    "required": [
     "id",
     "year",
     "rules_yaml",
     "enterprises",
     "evaluated",
     "actor",
     "created_at"
    ]
   },
   "EvaluateRequest": {
    "type": "object",
    "properties": {
     "year": {
      "type": "integer"
     }
    },
    "required": [
     "year"
    ]
   },
   "Run": {
    "type": "object",
    "properties": {
     "id": {
      "type": "integer",
      "format": "int64"
     },
     "year": {
      "type": "integer"
     },
     "enterprises": {
      "type": "integer"
     },
     "evaluated": {
      "type": "integer"
     },
     "created_at": {
      "type": "string",
      "format": "date-time"
     },
     "class_counts": {
      "type": "object",
      "additionalProperties": {
       "type": "object",
       "additionalProperties": {
        "type": "integer"
       },
       "description": "分类 A/B/C/D/exempt → 企业数"
      },
      "description": "above/below → 分类 → 企业数"
     }
    },
    "required": [
     "id",
     "year",
     "enterprises",
     "evaluated",
     "created_at",
     "class_counts"
    ]
   },
   "ImportSummary": {
    "type": "object",
    "properties": {
     "import_id": {
      "type": "integer",
      "format": "int64"
     },
     "rows": {
      "type": "integer"
     },
     "year": {
      "type": "integer"
     }
    },
    "required": [
     "import_id",
     "rows"
    ]
   },
   "RowError": {
    "type": "object",
    "properties": {
     "row": {
      "type": "integer",
      "description": "电子表格行号，表头为第 1 行；0 = 整个文件"
     },
     "column": {
      "type": "string"
     },
     "message_zh": {
      "type": "string"
     },
     "message_en": {
      "type": "string"
     }
    },
    "required": [
     "row",
     "column",
     "message_zh",
     "message_en"
    ]
   },
   "ImportError": {
    "type": "object",
    "properties": {
     "error": {
      "type": "string"
     },
     "errors": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/RowError"
      }
     },
     "omitted": {
      "type": "integer",
      "description": "未列出的更多错误数"
     }
    },
    "required": [
     "error",
     "errors",
     "omitted"
    ]
   }
  },
  "responses": {
   "BadRequest": {
    "description": "参数错误 / bad request",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "NotFound": {
    "description": "未找到，或尚无评价结果 / not found, or nothing evaluated yet",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   }
  }
 }
}
"""#
}
