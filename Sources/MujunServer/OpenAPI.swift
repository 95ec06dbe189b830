/// The OpenAPI 3.0.3 description of the JSON API, served at `/openapi.json`.
/// Field names are the snake_case the API emits (the global encoder converts keys).
/// Generated once from a Python description and kept by hand since; OpenAPITests checks
/// that it parses, validates, and names every route under /api/v1.
enum OpenAPIDocument {
    static let json: String = #"""
{
 "openapi": "3.0.3",
 "security": [
  {
   "bearerAuth": []
  },
  {
   "cookieAuth": []
  }
 ],
 "info": {
  "title": "Mujun 亩均论英雄 API",
  "version": "1.0.0",
  "description": "永康市工业企业亩均效益综合评价（亩均论英雄）的数据接口。JSON 字段为 snake_case；缺失的值不输出。错误以 {error, status} 返回。除 /healthz 外均需登录：接口令牌（Authorization: Bearer …，在“账号”页生成）或浏览器会话 cookie（POST 时另需 X-CSRF-Token 头）；权限按角色，镇街账号只能看到本镇街数据。"
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
   "name": "appeals"
  },
  {
   "name": "credit"
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
    },
    "security": []
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
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
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
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
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
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
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
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
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
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
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
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
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
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
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
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
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
     },
     "303": {
      "description": "未登录时转到登录页 / redirect to /login when not signed in"
     },
     "403": {
      "description": "无此权限（HTML 页面） / not allowed"
     }
    }
   }
  },
  "/api/v1/appeals": {
   "get": {
    "operationId": "listAppeals",
    "summary": "申诉列表（按权限范围） / appeals the caller may see",
    "tags": [
     "appeals"
    ],
    "parameters": [
     {
      "name": "year",
      "in": "query",
      "required": false,
      "description": "年度 / year",
      "schema": {
       "type": "integer"
      }
     },
     {
      "name": "state",
      "in": "query",
      "required": false,
      "description": "状态 / state",
      "schema": {
       "type": "string",
       "enum": [
        "assigned",
        "accepted",
        "handling",
        "replied",
        "evaluated",
        "closed",
        "returned"
       ]
      }
     }
    ],
    "responses": {
     "200": {
      "description": "申诉",
      "content": {
       "application/json": {
        "schema": {
         "type": "array",
         "items": {
          "$ref": "#/components/schemas/Appeal"
         }
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     }
    }
   },
   "post": {
    "operationId": "fileAppeal",
    "summary": "提交申诉（企业账号，公示期内） / file an appeal",
    "tags": [
     "appeals"
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/AppealInput"
       }
      },
      "multipart/form-data": {
       "schema": {
        "type": "object",
        "properties": {
         "year": {
          "type": "integer"
         },
         "field": {
          "type": "string",
          "enum": [
           "land_mu",
           "tax",
           "value_added",
           "revenue",
           "rnd",
           "energy_tce",
           "emissions",
           "electricity",
           "employees"
          ]
         },
         "claimed_value": {
          "type": "string"
         },
         "reason": {
          "type": "string"
         },
         "attachment": {
          "type": "string",
          "format": "binary"
         }
        },
        "required": [
         "field",
         "claimed_value",
         "reason"
        ]
       }
      }
     }
    },
    "responses": {
     "201": {
      "description": "已受理登记",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Appeal"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "409": {
      "description": "不在公示期或已有未办结申诉 / outside the publicity period, or one is open",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "413": {
      "description": "附件超过 10 MB / attachment too large",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "415": {
      "description": "附件类型不支持 / attachment type not accepted",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "422": {
      "description": "该年度没有该企业的数据 / no data for the enterprise",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     }
    }
   }
  },
  "/api/v1/appeals/{id}": {
   "get": {
    "operationId": "getAppeal",
    "summary": "申诉详情与办理记录 / an appeal and its events",
    "tags": [
     "appeals"
    ],
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "description": "申诉编号 / appeal id",
      "schema": {
       "type": "integer",
       "format": "int64"
      }
     }
    ],
    "responses": {
     "200": {
      "description": "申诉",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/AppealDetail"
        }
       }
      }
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     }
    }
   }
  },
  "/api/v1/appeals/{id}/accept": {
   "post": {
    "operationId": "acceptAppeal",
    "summary": "签收申诉 / accept an appeal",
    "tags": [
     "appeals"
    ],
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "description": "申诉编号 / appeal id",
      "schema": {
       "type": "integer",
       "format": "int64"
      }
     }
    ],
    "responses": {
     "200": {
      "description": "办理后的申诉",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Appeal"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "409": {
      "description": "当前状态不允许此操作 / not allowed in the current state",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     }
    },
    "requestBody": {
     "required": false,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/NoteInput"
       }
      }
     }
    }
   }
  },
  "/api/v1/appeals/{id}/decide": {
   "post": {
    "operationId": "decideAppeal",
    "summary": "答复申诉（支持则更正数据并重新评价） / decide an appeal",
    "tags": [
     "appeals"
    ],
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "description": "申诉编号 / appeal id",
      "schema": {
       "type": "integer",
       "format": "int64"
      }
     }
    ],
    "responses": {
     "200": {
      "description": "办理后的申诉",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Appeal"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "409": {
      "description": "当前状态不允许此操作 / not allowed in the current state",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/DecideInput"
       }
      }
     }
    }
   }
  },
  "/api/v1/appeals/{id}/rate": {
   "post": {
    "operationId": "rateAppeal",
    "summary": "评价答复满意度并销号 / rate the reply and close",
    "tags": [
     "appeals"
    ],
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "description": "申诉编号 / appeal id",
      "schema": {
       "type": "integer",
       "format": "int64"
      }
     }
    ],
    "responses": {
     "200": {
      "description": "办理后的申诉",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Appeal"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "409": {
      "description": "当前状态不允许此操作 / not allowed in the current state",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/RateInput"
       }
      }
     }
    }
   }
  },
  "/api/v1/credit-list": {
   "get": {
    "operationId": "creditList",
    "summary": "亩均英雄贷名单（银行） / the bank's credit list",
    "tags": [
     "credit"
    ],
    "parameters": [
     {
      "name": "year",
      "in": "query",
      "required": false,
      "description": "正式发布的年度；缺省为最近一个 / a final year, default the latest",
      "schema": {
       "type": "integer"
      }
     }
    ],
    "responses": {
     "200": {
      "description": "名单",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/CreditList"
        }
       }
      }
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     }
    }
   }
  },
  "/api/v1/map/parcels": {
   "get": {
    "operationId": "mapParcels",
    "summary": "挂图地块（GeoJSON，CRS84）/ the map's parcels",
    "tags": [
     "land"
    ],
    "description": "The parcels of the filter as a GeoJSON FeatureCollection in CRS84 with compact properties (id, town, block, cls, low, cluster, cand, survey, area) and a summary of the filter. Without bbox every parcel is returned when there are at most `limit` (20,000); beyond that the answer has no features and bbox_required is true. Filtered to the reader's scope.",
    "parameters": [
     {
      "name": "year",
      "in": "query",
      "required": false,
      "description": "认定年度（默认最新认定年度）/ assessment year, default the latest",
      "schema": {
       "type": "integer"
      }
     },
     {
      "name": "town",
      "in": "query",
      "required": false,
      "description": "镇街 / town (a town user only ever sees its own)",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "block",
      "in": "query",
      "required": false,
      "description": "区块 / block",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "bbox",
      "in": "query",
      "required": false,
      "description": "最小经度,最小纬度,最大经度,最大纬度（CRS84）/ minLon,minLat,maxLon,maxLat",
      "schema": {
       "type": "string",
       "example": "120.0,28.85,120.1,28.95"
      }
     },
     {
      "name": "limit",
      "in": "query",
      "required": false,
      "description": "最多返回的地块数（1–20000）/ at most this many parcels",
      "schema": {
       "type": "integer",
       "minimum": 1,
       "maximum": 20000
      }
     }
    ],
    "responses": {
     "200": {
      "description": "地块 / parcels",
      "content": {
       "application/geo+json": {
        "schema": {
         "$ref": "#/components/schemas/MapParcels"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     }
    }
   }
  },
  "/api/v1/map/clusters": {
   "get": {
    "operationId": "mapClusters",
    "summary": "集中连片片区轮廓（GeoJSON，CRS84）/ cluster outlines",
    "tags": [
     "land"
    ],
    "parameters": [
     {
      "name": "year",
      "in": "query",
      "required": false,
      "description": "认定年度（默认最新认定年度）/ assessment year, default the latest",
      "schema": {
       "type": "integer"
      }
     },
     {
      "name": "candidates",
      "in": "query",
      "required": false,
      "description": "1 = 仅整治候选 / candidates only",
      "schema": {
       "type": "string",
       "enum": [
        "1",
        "0"
       ]
      }
     },
     {
      "name": "town",
      "in": "query",
      "required": false,
      "description": "镇街 / town (a town user only ever sees its own)",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "block",
      "in": "query",
      "required": false,
      "description": "区块 / block",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "bbox",
      "in": "query",
      "required": false,
      "description": "最小经度,最小纬度,最大经度,最大纬度（CRS84）/ minLon,minLat,maxLon,maxLat",
      "schema": {
       "type": "string",
       "example": "120.0,28.85,120.1,28.95"
      }
     }
    ],
    "responses": {
     "200": {
      "description": "片区轮廓 / outlines",
      "content": {
       "application/geo+json": {
        "schema": {
         "$ref": "#/components/schemas/MapClusters"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     }
    }
   }
  },
  "/api/v1/map/search": {
   "get": {
    "operationId": "mapSearch",
    "summary": "按地块编号、企业名称或信用代码搜索地块 / search parcels",
    "tags": [
     "land"
    ],
    "parameters": [
     {
      "name": "q",
      "in": "query",
      "required": true,
      "schema": {
       "type": "string",
       "maxLength": 100
      }
     },
     {
      "name": "year",
      "in": "query",
      "required": false,
      "description": "认定年度（默认最新认定年度）/ assessment year, default the latest",
      "schema": {
       "type": "integer"
      }
     }
    ],
    "responses": {
     "200": {
      "description": "匹配的地块（至多 50 个）/ matches",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/MapSearch"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     }
    }
   }
  },
  "/api/v1/parcels/{id}": {
   "get": {
    "operationId": "parcelCard",
    "summary": "地块卡片 / the parcel card",
    "tags": [
     "land"
    ],
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "description": "地块编号 / parcel id",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "year",
      "in": "query",
      "required": false,
      "description": "认定年度（默认最新认定年度）/ assessment year, default the latest",
      "schema": {
       "type": "integer"
      }
     }
    ],
    "responses": {
     "200": {
      "description": "地块 / the parcel",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/ParcelCard"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     }
    }
   }
  },
  "/api/v1/parcels/{id}/surveys": {
   "post": {
    "operationId": "submitSurvey",
    "summary": "登记现场调查（镇街，本辖区地块）/ record a field survey",
    "tags": [
     "land"
    ],
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "description": "地块编号 / parcel id",
      "schema": {
       "type": "string"
      }
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/SurveyInput"
       }
      },
      "multipart/form-data": {
       "schema": {
        "allOf": [
         {
          "$ref": "#/components/schemas/SurveyInput"
         },
         {
          "type": "object",
          "properties": {
           "photo": {
            "type": "string",
            "format": "binary",
            "description": "JPG/PNG ≤ 10 MB"
           }
          }
         }
        ]
       }
      }
     }
    },
    "responses": {
     "201": {
      "description": "已提交的调查 / the survey",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Survey"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "413": {
      "description": "照片超过 10 MB / photo too large",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "415": {
      "description": "照片不是 JPG/PNG / not a JPG or PNG",
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
  "/api/v1/surveys/{id}/review": {
   "post": {
    "operationId": "reviewSurvey",
    "summary": "复核调查：确认或退回（指挥部）/ confirm or return a survey",
    "tags": [
     "land"
    ],
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "description": "调查编号 / survey id",
      "schema": {
       "type": "integer",
       "format": "int64"
      }
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/ReviewInput"
       }
      }
     }
    },
    "responses": {
     "200": {
      "description": "复核后的调查 / the survey",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Survey"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "409": {
      "description": "已复核 / already reviewed",
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
   },
   "ResultSummary": {
    "type": "object",
    "properties": {
     "class": {
      "$ref": "#/components/schemas/EnterpriseClass"
     },
     "total_score": {
      "type": "number",
      "format": "double"
     },
     "rank": {
      "type": "integer"
     },
     "land_mu": {
      "type": "number",
      "format": "double"
     }
    }
   },
   "Appeal": {
    "type": "object",
    "properties": {
     "id": {
      "type": "integer",
      "format": "int64"
     },
     "year": {
      "type": "integer"
     },
     "credit_code": {
      "type": "string"
     },
     "enterprise_name": {
      "type": "string"
     },
     "town": {
      "type": "string"
     },
     "field": {
      "type": "string",
      "enum": [
       "land_mu",
       "tax",
       "value_added",
       "revenue",
       "rnd",
       "energy_tce",
       "emissions",
       "electricity",
       "employees"
      ]
     },
     "field_name": {
      "type": "string"
     },
     "current_value": {
      "type": "string"
     },
     "claimed_value": {
      "type": "string"
     },
     "reason": {
      "type": "string"
     },
     "attachment_name": {
      "type": "string"
     },
     "attachment_url": {
      "type": "string"
     },
     "state": {
      "type": "string",
      "enum": [
       "assigned",
       "accepted",
       "handling",
       "replied",
       "evaluated",
       "closed",
       "returned"
      ]
     },
     "state_name": {
      "type": "string"
     },
     "outcome": {
      "type": "string",
      "enum": [
       "upheld",
       "rejected"
      ]
     },
     "answer": {
      "type": "string"
     },
     "filed_by": {
      "type": "string"
     },
     "decided_by": {
      "type": "string"
     },
     "created_at": {
      "type": "string",
      "format": "date-time"
     },
     "decided_at": {
      "type": "string",
      "format": "date-time"
     },
     "rating": {
      "type": "integer"
     },
     "before": {
      "$ref": "#/components/schemas/ResultSummary"
     },
     "after": {
      "$ref": "#/components/schemas/ResultSummary"
     }
    },
    "required": [
     "id",
     "year",
     "credit_code",
     "town",
     "field",
     "field_name",
     "claimed_value",
     "reason",
     "state",
     "state_name",
     "filed_by",
     "created_at"
    ],
    "description": "申诉（公示期内企业对本企业数据提出） / an appeal against one data item during the publicity period"
   },
   "CaseEvent": {
    "type": "object",
    "properties": {
     "from_state": {
      "type": "string"
     },
     "to_state": {
      "type": "string"
     },
     "actor": {
      "type": "string"
     },
     "note": {
      "type": "string"
     },
     "at": {
      "type": "string",
      "format": "date-time"
     }
    },
    "required": [
     "to_state",
     "actor",
     "at"
    ]
   },
   "AppealDetail": {
    "type": "object",
    "properties": {
     "appeal": {
      "$ref": "#/components/schemas/Appeal"
     },
     "events": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/CaseEvent"
      }
     }
    },
    "required": [
     "appeal",
     "events"
    ]
   },
   "AppealInput": {
    "type": "object",
    "properties": {
     "year": {
      "type": "integer"
     },
     "field": {
      "type": "string",
      "enum": [
       "land_mu",
       "tax",
       "value_added",
       "revenue",
       "rnd",
       "energy_tce",
       "emissions",
       "electricity",
       "employees"
      ]
     },
     "claimed_value": {
      "oneOf": [
       {
        "type": "number"
       },
       {
        "type": "string"
       }
      ],
      "description": "数字或数字文本 / a number, or a number as text"
     },
     "reason": {
      "type": "string"
     },
     "attachment": {
      "type": "object",
      "properties": {
       "filename": {
        "type": "string"
       },
       "data": {
        "type": "string",
        "format": "byte"
       }
      },
      "required": [
       "filename",
       "data"
      ]
     }
    },
    "required": [
     "field",
     "claimed_value",
     "reason"
    ]
   },
   "DecideInput": {
    "type": "object",
    "properties": {
     "outcome": {
      "type": "string",
      "enum": [
       "upheld",
       "rejected"
      ]
     },
     "answer": {
      "type": "string"
     },
     "corrected_value": {
      "oneOf": [
       {
        "type": "number"
       },
       {
        "type": "string"
       }
      ],
      "description": "数字或数字文本 / a number, or a number as text"
     }
    },
    "required": [
     "outcome",
     "answer"
    ]
   },
   "NoteInput": {
    "type": "object",
    "properties": {
     "note": {
      "type": "string"
     }
    }
   },
   "RateInput": {
    "type": "object",
    "properties": {
     "rating": {
      "oneOf": [
       {
        "type": "number"
       },
       {
        "type": "string"
       }
      ],
      "description": "满意度 1–5 / satisfaction 1–5"
     }
    },
    "required": [
     "rating"
    ]
   },
   "CreditItem": {
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
      "type": "string"
     },
     "class": {
      "$ref": "#/components/schemas/EnterpriseClass"
     },
     "total_score": {
      "type": "number",
      "format": "double"
     },
     "credit_rate_discount": {
      "type": "number",
      "format": "double"
     },
     "credit_line_multiple": {
      "type": "number",
      "format": "double"
     }
    },
    "required": [
     "credit_code",
     "name",
     "town",
     "group",
     "group_name",
     "class",
     "total_score"
    ]
   },
   "CreditTerm": {
    "type": "object",
    "properties": {
     "class": {
      "$ref": "#/components/schemas/EnterpriseClass"
     },
     "credit_rate_discount": {
      "type": "number",
      "format": "double"
     },
     "credit_line_multiple": {
      "type": "number",
      "format": "double"
     }
    },
    "required": [
     "class"
    ]
   },
   "CreditList": {
    "type": "object",
    "properties": {
     "year": {
      "type": "integer"
     },
     "final_years": {
      "type": "array",
      "items": {
       "type": "integer"
      }
     },
     "terms": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/CreditTerm"
      }
     },
     "items": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/CreditItem"
      }
     }
    },
    "required": [
     "year",
     "final_years",
     "terms",
     "items"
    ],
    "description": "亩均英雄贷名单：正式发布年度中同意授权的 A/B 类企业 / consenting A/B enterprises of a final year"
   },
   "MapParcels": {
    "type": "object",
    "required": [
     "type",
     "features",
     "numberMatched",
     "numberReturned",
     "bbox_required",
     "summary"
    ],
    "properties": {
     "type": {
      "type": "string",
      "enum": [
       "FeatureCollection"
      ]
     },
     "year": {
      "type": "integer",
      "nullable": true
     },
     "numberMatched": {
      "type": "integer"
     },
     "numberReturned": {
      "type": "integer"
     },
     "limit": {
      "type": "integer"
     },
     "bbox_required": {
      "type": "boolean"
     },
     "truncated": {
      "type": "boolean"
     },
     "classes_visible": {
      "type": "boolean"
     },
     "summary": {
      "type": "object",
      "properties": {
       "parcels": {
        "type": "integer"
       },
       "area_mu": {
        "type": "number"
       },
       "low_count": {
        "type": "integer"
       },
       "low_area_mu": {
        "type": "number"
       },
       "clusters": {
        "type": "integer"
       },
       "candidate_clusters": {
        "type": "integer"
       },
       "candidate_area_mu": {
        "type": "number"
       },
       "surveys": {
        "type": "object",
        "additionalProperties": {
         "type": "integer"
        }
       }
      }
     },
     "features": {
      "type": "array",
      "items": {
       "type": "object",
       "properties": {
        "type": {
         "type": "string"
        },
        "id": {
         "type": "string"
        },
        "geometry": {
         "type": "object",
         "nullable": true
        },
        "properties": {
         "type": "object",
         "properties": {
          "id": {
           "type": "string"
          },
          "town": {
           "type": "string"
          },
          "block": {
           "type": "string",
           "nullable": true
          },
          "cls": {
           "type": "string",
           "nullable": true,
           "enum": [
            "A",
            "B",
            "C",
            "D",
            null
           ]
          },
          "low": {
           "type": "boolean",
           "nullable": true
          },
          "cluster": {
           "type": "integer",
           "nullable": true
          },
          "cand": {
           "type": "boolean"
          },
          "survey": {
           "type": "string",
           "enum": [
            "none",
            "submitted",
            "confirmed",
            "returned"
           ]
          },
          "area": {
           "type": "number"
          }
         }
        }
       }
      }
     }
    }
   },
   "MapClusters": {
    "type": "object",
    "properties": {
     "type": {
      "type": "string"
     },
     "year": {
      "type": "integer",
      "nullable": true
     },
     "numberReturned": {
      "type": "integer"
     },
     "features": {
      "type": "array",
      "items": {
       "type": "object",
       "properties": {
        "type": {
         "type": "string"
        },
        "id": {
         "type": "integer"
        },
        "geometry": {
         "type": "object",
         "nullable": true
        },
        "properties": {
         "type": "object",
         "properties": {
          "number": {
           "type": "integer"
          },
          "area": {
           "type": "number"
          },
          "count": {
           "type": "integer"
          },
          "cand": {
           "type": "boolean"
          },
          "low_share": {
           "type": "number"
          },
          "low_count": {
           "type": "integer"
          },
          "towns": {
           "type": "array",
           "items": {
            "type": "string"
           }
          },
          "blocks": {
           "type": "array",
           "items": {
            "type": "string"
           }
          },
          "occupants": {
           "type": "integer"
          },
          "bbox": {
           "type": "array",
           "items": {
            "type": "number"
           },
           "nullable": true
          }
         }
        }
       }
      }
     }
    }
   },
   "MapSearch": {
    "type": "object",
    "properties": {
     "query": {
      "type": "string"
     },
     "year": {
      "type": "integer",
      "nullable": true
     },
     "total": {
      "type": "integer"
     },
     "bbox": {
      "type": "array",
      "items": {
       "type": "number"
      },
      "nullable": true
     },
     "matches": {
      "type": "array",
      "items": {
       "type": "object",
       "properties": {
        "id": {
         "type": "string"
        },
        "town": {
         "type": "string"
        },
        "block": {
         "type": "string",
         "nullable": true
        },
        "names": {
         "type": "array",
         "items": {
          "type": "string"
         }
        },
        "low": {
         "type": "boolean",
         "nullable": true
        },
        "bbox": {
         "type": "array",
         "items": {
          "type": "number"
         },
         "nullable": true
        }
       }
      }
     }
    }
   },
   "Occupant": {
    "type": "object",
    "properties": {
     "credit_code": {
      "type": "string"
     },
     "name": {
      "type": "string",
      "nullable": true
     },
     "relation": {
      "type": "string",
      "enum": [
       "owned",
       "leased"
      ]
     },
     "relation_name": {
      "type": "string"
     },
     "area_mu": {
      "type": "number"
     },
     "total_area_mu": {
      "type": "number",
      "nullable": true
     },
     "tax": {
      "type": "number",
      "nullable": true
     },
     "attributed_tax": {
      "type": "number",
      "nullable": true
     },
     "cls": {
      "type": "string",
      "nullable": true
     },
     "total_score": {
      "type": "number",
      "nullable": true
     },
     "rank": {
      "type": "integer",
      "nullable": true
     },
     "link": {
      "type": "string",
      "nullable": true
     },
     "implicit": {
      "type": "boolean"
     }
    }
   },
   "Survey": {
    "type": "object",
    "properties": {
     "id": {
      "type": "integer",
      "format": "int64"
     },
     "parcel_id": {
      "type": "string"
     },
     "town": {
      "type": "string"
     },
     "state": {
      "type": "string",
      "enum": [
       "submitted",
       "confirmed",
       "returned"
      ]
     },
     "state_name": {
      "type": "string"
     },
     "actual_use": {
      "type": "string"
     },
     "occupants_seen": {
      "type": "string",
      "nullable": true
     },
     "idle": {
      "type": "boolean"
     },
     "remarks": {
      "type": "string",
      "nullable": true
     },
     "photo": {
      "type": "string",
      "nullable": true
     },
     "surveyed_by": {
      "type": "string"
     },
     "surveyed_by_name": {
      "type": "string",
      "nullable": true
     },
     "surveyed_at": {
      "type": "string",
      "format": "date-time"
     },
     "surveyed_at_text": {
      "type": "string"
     },
     "reviewed_by": {
      "type": "string",
      "nullable": true
     },
     "reviewed_by_name": {
      "type": "string",
      "nullable": true
     },
     "reviewed_at": {
      "type": "string",
      "format": "date-time",
      "nullable": true
     },
     "reviewed_at_text": {
      "type": "string",
      "nullable": true
     },
     "review_note": {
      "type": "string",
      "nullable": true
     }
    }
   },
   "ParcelCard": {
    "type": "object",
    "properties": {
     "id": {
      "type": "string"
     },
     "year": {
      "type": "integer",
      "nullable": true
     },
     "years": {
      "type": "array",
      "items": {
       "type": "integer"
      }
     },
     "town": {
      "type": "string"
     },
     "block": {
      "type": "string",
      "nullable": true
     },
     "owner_credit_code": {
      "type": "string",
      "nullable": true
     },
     "owner_name": {
      "type": "string",
      "nullable": true
     },
     "land_use": {
      "type": "string",
      "nullable": true
     },
     "far": {
      "type": "number",
      "nullable": true
     },
     "status": {
      "type": "string",
      "nullable": true
     },
     "status_name": {
      "type": "string",
      "nullable": true
     },
     "area_mu": {
      "type": "number"
     },
     "registered_mu": {
      "type": "number",
      "nullable": true
     },
     "area_difference": {
      "type": "number",
      "nullable": true
     },
     "area_mismatch": {
      "type": "boolean"
     },
     "assessed": {
      "type": "boolean"
     },
     "low_efficiency": {
      "type": "boolean",
      "nullable": true
     },
     "reasons": {
      "type": "array",
      "items": {
       "type": "object",
       "properties": {
        "kind": {
         "type": "string"
        },
        "text": {
         "type": "string"
        }
       }
      }
     },
     "tax_per_mu": {
      "type": "number",
      "nullable": true
     },
     "attributed_tax": {
      "type": "number",
      "nullable": true
     },
     "occupant_class": {
      "type": "string",
      "nullable": true
     },
     "occupants": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/Occupant"
      }
     },
     "cluster": {
      "type": "object",
      "nullable": true,
      "properties": {
       "number": {
        "type": "integer"
       },
       "area_mu": {
        "type": "number"
       },
       "count": {
        "type": "integer"
       },
       "candidate": {
        "type": "boolean"
       },
       "low_share": {
        "type": "number"
       },
       "towns": {
        "type": "array",
        "items": {
         "type": "string"
        }
       },
       "blocks": {
        "type": "array",
        "items": {
         "type": "string"
        }
       },
       "link": {
        "type": "string"
       }
      }
     },
     "survey": {
      "allOf": [
       {
        "$ref": "#/components/schemas/Survey"
       }
      ],
      "nullable": true
     },
     "survey_count": {
      "type": "integer"
     },
     "survey_state": {
      "type": "string"
     },
     "survey_state_name": {
      "type": "string"
     },
     "bbox": {
      "type": "array",
      "items": {
       "type": "number"
      },
      "nullable": true
     },
     "page": {
      "type": "string"
     },
     "can_survey": {
      "type": "boolean"
     }
    }
   },
   "SurveyInput": {
    "type": "object",
    "required": [
     "actual_use",
     "idle"
    ],
    "properties": {
     "actual_use": {
      "type": "string",
      "maxLength": 200
     },
     "occupants_seen": {
      "type": "string",
      "maxLength": 2000
     },
     "idle": {
      "type": "boolean"
     },
     "remarks": {
      "type": "string",
      "maxLength": 2000
     }
    }
   },
   "ReviewInput": {
    "type": "object",
    "required": [
     "decision"
    ],
    "properties": {
     "decision": {
      "type": "string",
      "enum": [
       "confirm",
       "return"
      ]
     },
     "note": {
      "type": "string",
      "maxLength": 2000,
      "description": "退回时必填 / required to return"
     }
    }
   }
  },
  "securitySchemes": {
   "bearerAuth": {
    "type": "http",
    "scheme": "bearer",
    "description": "接口令牌 / API token"
   },
   "cookieAuth": {
    "type": "apiKey",
    "in": "cookie",
    "name": "mujun_session",
    "description": "浏览器会话 / browser session"
   }
  },
  "responses": {
   "Unauthorized": {
    "description": "未登录或令牌无效 / sign in first, or invalid token",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "Forbidden": {
    "description": "无此权限 / not allowed for this role",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
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
