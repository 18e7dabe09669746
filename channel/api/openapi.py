"""The OpenAPI 3 description of /api/v1. tests/api/test_openapi.py checks it against the routes
and validates it, so it stays truthful."""

MONEY = {"type": "string", "pattern": r"^-?\d+\.\d{2}$", "example": "1234.50"}
ERROR = {"type": "object", "required": ["message"],
         "properties": {"message": {"type": "string"}, "field": {"type": "string"}}}
KINDS = ["shipment", "payment", "return", "rebate", "adjustment", "opening"]


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema):
    return {"application/json": {"schema": schema}}


def _errors(*codes):
    text = {400: "Malformed request", 401: "No valid token", 403: "Not allowed for this user",
            404: "Not found, or outside the token user's scope", 409: "External reference used with other content",
            422: "Validation failed: the message says why, field names the input"}
    return {str(c): {"description": text[c], "content": _json(_ref("Error"))} for c in codes}


def spec(server_url=""):
    code_param = {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}
    number_param = {"name": "number", "in": "path", "required": True, "schema": {"type": "string"},
                    "example": "FH-2026-000123"}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Channel API", "version": "1",
                 "description": "Accounts, documents, statements and periods. Amounts are strings with "
                                "two decimals; dates are ISO (YYYY-MM-DD). A positive balance is what the "
                                "account owes its supplier. Every call is scoped like the token's user."},
        "servers": [{"url": server_url + "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "Created with `channel tokens create USERNAME`."}},
            "schemas": {
                "Error": ERROR,
                "Account": {"type": "object", "required": ["code", "name", "kind", "region", "supplier", "credit_limit"],
                            "properties": {
                                "code": {"type": "string"}, "name": {"type": "string"},
                                "kind": {"type": "string", "enum": ["distributor", "dealer"]},
                                "region": {"type": "string"},
                                "supplier": {"type": "string", "nullable": True,
                                             "description": "The distributor's code, or null for the company"},
                                "credit_limit": MONEY, "balance": MONEY,
                                "payment_terms_days": {"type": "integer"},
                                "status": {"type": "string", "enum": ["active", "suspended"]}}},
                "Line": {"type": "object", "required": ["product", "quantity"],
                         "properties": {"product": {"type": "string"},
                                        "quantity": {"type": "integer", "minimum": 1},
                                        "unit_price": MONEY, "amount": MONEY}},
                "Document": {"type": "object",
                             "required": ["number", "kind", "account", "date", "amount", "lines", "reversal_of"],
                             "properties": {
                                 "number": {"type": "string"}, "kind": {"type": "string", "enum": KINDS},
                                 "direction": {"type": "string", "enum": ["debit", "credit"]},
                                 "account": {"type": "string"}, "date": {"type": "string", "format": "date"},
                                 "external_ref": {"type": "string", "nullable": True}, "amount": MONEY,
                                 "lines": {"type": "array", "items": _ref("Line")},
                                 "memo": {"type": "string", "nullable": True},
                                 "reason": {"type": "string", "nullable": True},
                                 "payment_method": {"type": "string", "nullable": True,
                                                    "enum": ["bank_transfer", "cash", "acceptance_bill", None]},
                                 "bank_ref": {"type": "string", "nullable": True},
                                 "reversal_of": {"type": "string", "nullable": True},
                                 "reversed_by": {"type": "string", "nullable": True},
                                 "created_at": {"type": "string", "format": "date-time"}}},
                "NewDocument": {"type": "object", "required": ["kind", "account", "date"], "additionalProperties": False,
                                "properties": {
                                    "kind": {"type": "string", "enum": KINDS}, "account": {"type": "string"},
                                    "date": {"type": "string", "format": "date"},
                                    "external_ref": {"type": "string", "maxLength": 64,
                                                     "description": "The ERP's id: posting it again returns the same document"},
                                    "lines": {"type": "array", "items": _ref("Line"),
                                              "description": "shipment and return"},
                                    "amount": {**MONEY, "description": "payment, rebate, adjustment, opening"},
                                    "direction": {"type": "string", "enum": ["debit", "credit"],
                                                  "description": "adjustment and opening"},
                                    "payment_method": {"type": "string", "enum": ["bank_transfer", "cash", "acceptance_bill"]},
                                    "bank_ref": {"type": "string"}, "memo": {"type": "string"},
                                    "reason": {"type": "string", "description": "required for adjustments"},
                                    "override_reason": {"type": "string",
                                                        "description": "post a shipment over the credit limit (finance)"}}},
                "StatementEntry": {"type": "object", "properties": {
                    "date": {"type": "string", "format": "date"}, "number": {"type": "string"},
                    "kind": {"type": "string"}, "description": {"type": "string"},
                    "debit": MONEY, "credit": MONEY, "balance": MONEY}},
                "Statement": {"type": "object", "required": ["period", "opening", "closing", "totals", "entries"],
                              "properties": {
                                  "account": {"type": "string"}, "period": {"type": "string", "example": "2026-03"},
                                  "opening": MONEY, "closing": MONEY, "closed": {"type": "boolean"},
                                  "totals": {"type": "object", "additionalProperties": MONEY},
                                  "entries": {"type": "array", "items": _ref("StatementEntry")}}},
            },
        },
        "paths": {
            "/openapi.json": {"get": {"summary": "This document", "security": [],
                                      "responses": {"200": {"description": "OpenAPI 3"}}}},
            "/accounts": {"get": {
                "summary": "Accounts in the token user's scope",
                "parameters": [{"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                               {"name": "per_page", "in": "query", "schema": {"type": "integer", "maximum": 500}}],
                "responses": {"200": {"description": "A page of accounts", "content": _json({
                    "type": "object", "properties": {"items": {"type": "array", "items": _ref("Account")},
                                                     "next": {"type": "string", "nullable": True}}})},
                              **_errors(401, 422)}}},
            "/accounts/{code}": {"get": {"summary": "One account with its balance", "parameters": [code_param],
                                         "responses": {"200": {"description": "The account", "content": _json(_ref("Account"))},
                                                       **_errors(401, 404)}}},
            "/accounts/{code}/statement": {"get": {
                "summary": "The monthly statement (对账单)",
                "parameters": [code_param, {"name": "period", "in": "query", "required": True,
                                            "schema": {"type": "string", "pattern": r"^\d{4}-\d{2}$"}}],
                "responses": {"200": {"description": "Statement", "content": _json(_ref("Statement"))},
                              **_errors(401, 404, 422)}}},
            "/documents": {"post": {
                "summary": "Post a document (idempotent on external_ref)",
                "requestBody": {"required": True, "content": _json(_ref("NewDocument"))},
                "responses": {"201": {"description": "Posted", "content": _json(_ref("Document"))},
                              "200": {"description": "Replay of an external_ref: the existing document",
                                      "content": _json(_ref("Document"))},
                              **_errors(400, 401, 403, 409, 422)}}},
            "/documents/{number}": {"get": {"summary": "One document", "parameters": [number_param],
                                            "responses": {"200": {"description": "The document", "content": _json(_ref("Document"))},
                                                          **_errors(401, 404)}}},
            "/documents/{number}/reverse": {"post": {
                "summary": "Reverse (红冲) a document",
                "parameters": [number_param],
                "requestBody": {"required": True, "content": _json({
                    "type": "object", "required": ["reason"], "additionalProperties": False,
                    "properties": {"reason": {"type": "string"}, "date": {"type": "string", "format": "date"}}})},
                "responses": {"201": {"description": "The reversal", "content": _json(_ref("Document"))},
                              **_errors(400, 401, 403, 404, 422)}}},
            "/periods/{period}/close": {"post": {
                "summary": "Close a month (finance)",
                "parameters": [{"name": "period", "in": "path", "required": True,
                                "schema": {"type": "string", "pattern": r"^\d{4}-\d{2}$"}}],
                "responses": {"200": {"description": "Closed", "content": _json({
                    "type": "object", "properties": {"period": {"type": "string"}, "status": {"type": "string"}}})},
                              **_errors(401, 403, 422)}}},
        },
    }
