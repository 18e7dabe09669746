"""The OpenAPI 3 description of /api/v1. tests/api/test_openapi.py checks it against the routes
and validates it, so it stays truthful."""

MONEY = {"type": "string", "pattern": r"^-?\d+\.\d{2}$", "example": "1234.50"}
ERROR = {"type": "object", "required": ["message"],
         "properties": {"message": {"type": "string"}, "field": {"type": "string"}}}
KINDS = ["shipment", "payment", "return", "rebate", "adjustment", "opening"]
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}
HASH = {"type": "string", "pattern": "^[0-9a-f]{64}$",
        "description": "sha256 of the statement's content (amounts, dates, document numbers)"}
MONTH = {"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2026-03"}


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
                 "description": "Accounts, documents, statements, periods and reconciliations. Amounts are strings with "
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
                                 "created_at": {"type": "string", "format": "date-time"},
                                 "for_account": {"type": "string",
                                                 "description": "present on a company rebate meant for this "
                                                                "dealer of the distributor"},
                                 "passes_on": {"type": "string",
                                               "description": "present on a distributor's rebate passing "
                                                              "this company payout on"}}},
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
                                                        "description": "post a shipment over the credit limit (finance)"},
                                    "for_account": {"type": "string",
                                                    "description": "rebate only: a company policy payout (兑现政策) to a "
                                                                   "general distributor meant for this dealer of it "
                                                                   "(account code)"},
                                    "passes_on": {"type": "string",
                                                  "description": "rebate only: the distributor credits its dealer the "
                                                                 "payout with this number (of a company rebate with "
                                                                 "for_account = the dealer); at most what is left of it"}}},
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
                **_reconciliation_schemas(),
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
            **_reconciliation_paths(),
            "/periods/{period}/close": {"post": {
                "summary": "Close a month (finance)",
                "parameters": [{"name": "period", "in": "path", "required": True,
                                "schema": {"type": "string", "pattern": r"^\d{4}-\d{2}$"}}],
                "responses": {"200": {"description": "Closed", "content": _json({
                    "type": "object", "properties": {"period": {"type": "string"}, "status": {"type": "string"}}})},
                              **_errors(401, 403, 422)}}},
        },
    }


# --- reconciliation (对账) ------------------------------------------------------------------------

def _reconciliation_schemas():
    dispute = {"type": "object", "required": ["id", "document", "missing", "reason", "status"], "properties": {
        "id": {"type": "integer"}, "version": {"type": "integer", "description": "the version it was raised against"},
        "document": {"type": "string", "nullable": True, "description": "the disputed document, or null for a missing one"},
        "missing": {"type": "object", "nullable": True, "properties": {
            "date": {**DATE, "nullable": True}, "amount": {**MONEY, "nullable": True},
            "ref": {"type": "string", "nullable": True}}},
        "reason": {"type": "string"}, "status": {"type": "string", "enum": ["open", "explained", "corrected"]},
        "raised_at": DATETIME, "answer": {"type": "string", "nullable": True},
        "answered_at": {**DATETIME, "nullable": True},
        "corrections": {"type": "array", "items": {"type": "string"},
                        "description": "numbers of the documents posted to correct it"}}}
    summary = {"type": "object", "required": ["account", "supplier", "period", "status", "version", "content_hash",
                                              "opening", "closing", "agreed", "issued_on", "due_on", "url"],
               "properties": {
                   "account": {"type": "string"},
                   "supplier": {"type": "string", "nullable": True,
                                "description": "the issuing distributor's code, or null for the company"},
                   "period": MONTH,
                   "status": {"type": "string", "enum": ["issued", "disputed", "confirmed", "overdue"],
                              "description": "overdue: issued and not answered by due_on"},
                   "version": {"type": "integer", "description": "each re-issue adds one"},
                   "content_hash": {**HASH, "description": "the hash of the issued version: confirm or dispute "
                                                           "with it"},
                   "opening": MONEY, "closing": MONEY,
                   "agreed": {**MONEY, "description": "closing plus the corrections agreed in disputes"},
                   "issued_on": DATE, "due_on": DATE,
                   "confirmed_at": {**DATETIME, "description": "present when confirmed"},
                   "confirmed_by": {"type": "string", "description": "present when confirmed: who signed"},
                   "confirmed_hash": {**HASH, "description": "present when confirmed"},
                   "url": {"type": "string"}}}
    money_line = {"date": DATE, "number": {"type": "string"}, "kind": {"type": "string"},
                  "debit": MONEY, "credit": MONEY}
    detail = {"allOf": [_ref("Reconciliation"), {"type": "object", "properties": {
        "changed_since_issue": {"type": "boolean",
                                "description": "the ledger moved after the issue: it must be re-issued before "
                                               "it can be answered"},
        "lines": {"type": "array", "items": {"type": "object", "properties": {**money_line, "balance": MONEY}}},
        "corrections": {"type": "array", "items": {"type": "object", "properties": money_line},
                        "description": "documents posted after the month to settle disputed lines"},
        "disputes": {"type": "array", "items": _ref("Dispute")}}}]}
    codes = {"type": "array", "items": {"type": "string"}}
    return {
        "Reconciliation": summary, "ReconciliationDetail": detail, "Dispute": dispute,
        "HashConflict": {"type": "object", "required": ["message", "current_hash"], "properties": {
            "message": {"type": "string"}, "field": {"type": "string"}, "current_hash": HASH}},
        "IssueResult": {"type": "object", "properties": {
            "issued": codes, "reissued": codes,
            "unchanged": {**codes, "description": "already issued with this content, or disputed"},
            "confirmed": {**codes, "description": "already confirmed: left alone"}}},
    }


def _reconciliation_paths():
    path = [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}},
            {"name": "period", "in": "path", "required": True, "schema": MONTH}]
    conflict = {"409": {"description": "The statement changed (a new version, or the ledger moved since the "
                                       "issue): nothing was recorded; current_hash is what it says now",
                        "content": _json(_ref("HashConflict"))}}
    signed_by = {"type": "string", "maxLength": 100,
                 "description": "a supplier recording its dealer's answer: who signed for the dealer"}
    missing = {"type": "object", "additionalProperties": False, "properties": {
        "date": DATE, "amount": MONEY, "ref": {"type": "string", "maxLength": 64}}}
    line = {"type": "object", "required": ["reason"], "additionalProperties": False,
            "description": "either document or missing",
            "properties": {"document": {"type": "string", "description": "a document number on the statement"},
                           "missing": missing, "reason": {"type": "string", "maxLength": 1000}}}
    return {
        "/reconciliations": {"get": {
            "summary": "Monthly reconciliations (对账) in the token user's scope",
            "parameters": [
                {"name": "period", "in": "query", "schema": MONTH},
                {"name": "status", "in": "query",
                 "schema": {"type": "string", "enum": ["issued", "disputed", "confirmed", "overdue"]},
                 "description": "as shown: issued excludes the overdue ones"},
                {"name": "account", "in": "query", "schema": {"type": "string"}}],
            "responses": {"200": {"description": "Newest month first", "content": _json({
                "type": "object", "properties": {"reconciliations": {"type": "array",
                                                                     "items": _ref("Reconciliation")}}})},
                          **_errors(401, 403, 422)}}},
        "/reconciliations/issue": {"post": {
            "summary": "Issue (or re-issue where the content changed) a closed month's statements",
            "description": "Finance issues the company's accounts (general distributors and directly supplied "
                           "dealers), a distributor its dealers. Without accounts: every such account with a "
                           "balance or a movement in the month. Confirmed statements are left alone.",
            "requestBody": {"required": True, "content": _json({
                "type": "object", "required": ["period"], "additionalProperties": False,
                "properties": {"period": MONTH, "accounts": {"type": "array", "items": {"type": "string"},
                                                             "minItems": 1}}})},
            "responses": {"200": {"description": "Account codes by outcome", "content": _json(_ref("IssueResult"))},
                          **_errors(400, 401, 403, 404, 422)}}},
        "/reconciliations/{code}/{period}": {"get": {
            "summary": "One reconciliation: its statement lines, corrections and disputed lines",
            "parameters": path,
            "responses": {"200": {"description": "The reconciliation", "content": _json(_ref("ReconciliationDetail"))},
                          **_errors(401, 404)}}},
        "/reconciliations/{code}/{period}/confirm": {"post": {
            "summary": "Confirm the balance of the statement as shown (its content_hash)",
            "parameters": path,
            "requestBody": {"required": True, "content": _json({
                "type": "object", "required": ["hash"], "additionalProperties": False,
                "properties": {"hash": HASH, "signed_by": signed_by}})},
            "responses": {"200": {"description": "Confirmed", "content": _json(_ref("Reconciliation"))},
                          **_errors(400, 401, 403, 404, 422), **conflict}}},
        "/reconciliations/{code}/{period}/dispute": {"post": {
            "summary": "Dispute lines of the statement, or name documents it misses",
            "description": "Attachments (PDF, JPEG, PNG) cannot be sent through the API: upload them on the "
                           "statement's page.",
            "parameters": path,
            "requestBody": {"required": True, "content": _json({
                "type": "object", "required": ["hash", "lines"], "additionalProperties": False,
                "properties": {"hash": HASH, "lines": {"type": "array", "items": line, "minItems": 1},
                               "note": {"type": "string", "maxLength": 2000}, "signed_by": signed_by}})},
            "responses": {"201": {"description": "Disputed: the new disputed lines", "content": _json({
                "type": "object", "properties": {"reconciliation": _ref("Reconciliation"),
                                                 "disputes": {"type": "array", "items": _ref("Dispute")}}})},
                          **_errors(400, 401, 403, 404, 422), **conflict}}},
        "/disputes/{dispute_id}/answer": {"post": {
            "summary": "Answer a disputed line: explain it, or correct it through the ledger",
            "description": "reverse (红冲 the disputed document) and adjustment post in the open month of date "
                           "(default today) and need the right to keep the account's ledger. When no line is "
                           "left open the statement is re-issued: a new version and content_hash.",
            "parameters": [{"name": "dispute_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "requestBody": {"required": True, "content": _json({
                "type": "object", "required": ["message"], "additionalProperties": False,
                "properties": {"message": {"type": "string", "maxLength": 2000},
                               "reverse": {"type": "boolean"},
                               "adjustment": {"type": "object", "required": ["amount", "direction"],
                                              "additionalProperties": False,
                                              "properties": {"amount": MONEY,
                                                             "direction": {"type": "string",
                                                                           "enum": ["debit", "credit"],
                                                                           "description": "debit: the account "
                                                                                          "owes more"}}},
                               "date": DATE}})},
            "responses": {"200": {"description": "Answered", "content": _json({
                "type": "object", "properties": {"dispute": _ref("Dispute"),
                                                 "reconciliation": _ref("Reconciliation")}})},
                          **_errors(400, 401, 403, 404, 422)}}},
    }
