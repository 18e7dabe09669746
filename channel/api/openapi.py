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
                 "description": "Accounts, documents, statements, periods, reconciliations, expense "
                                "claims, ten-day plans, monthly meetings and promotions. Amounts are strings with two decimals; dates are ISO (YYYY-MM-DD). "
                                "A positive balance is what the account owes its supplier. Every call is scoped like the token's user."},
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
                **_expense_schemas(),
                **_plan_schemas(),
                **_meeting_schemas(),
                **_promotion_schemas(),
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
            **_expense_paths(),
            **_plan_paths(),
            **_meeting_paths(),
            **_promotion_paths(),
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


# --- expense claims (报销) ------------------------------------------------------------------------

EXPENSE_STATUSES = ["draft", "submitted", "second_approval", "approved", "paid"]
EXPENSE_CATEGORIES = ["travel", "accommodation", "local_transport", "meal", "supplement", "misc",
                      "entertainment", "other"]
EXPENSE_ACTIONS = ["submit", "approve", "reject", "pay"]


def _expense_schemas():
    person = {"type": "object", "nullable": True, "properties": {
        "username": {"type": "string"}, "name": {"type": "string"}}}
    nullable_money = {**MONEY, "nullable": True}
    claim = {"type": "object",
             "required": ["id", "number", "status", "version", "month", "title", "claimant", "region", "claimed"],
             "properties": {
                 "id": {"type": "integer"}, "number": {"type": "string", "example": "BX202603-00012"},
                 "status": {"type": "string", "enum": EXPENSE_STATUSES},
                 "version": {"type": "integer", "description": "each transition adds one: send it back with an "
                                                               "action to be told (409) when the claim moved"},
                 "month": MONTH, "title": {"type": "string"}, "claimant": person,
                 "region": {"type": "string", "description": "region code"},
                 "budget_region": {"type": "string", "description": "the top region whose budget the claim uses"},
                 "claimed": MONEY,
                 "approved": {**nullable_money, "description": "what finance pays, once finally approved"},
                 "paid": nullable_money, "submitted_at": {**DATETIME, "nullable": True},
                 "first_approver": person, "second_approver": person,
                 "approver": {**person, "description": "who gave the final approval"},
                 "approved_at": {**DATETIME, "nullable": True}, "paid_on": {**DATE, "nullable": True},
                 "payment_ref": {"type": "string", "nullable": True}, "paid_by": person,
                 "created_at": DATETIME, "url": {"type": "string"}}}
    receipt = {"type": "object", "properties": {
        "id": {"type": "integer"}, "filename": {"type": "string"},
        "mime": {"type": "string", "enum": ["application/pdf", "image/jpeg", "image/png"]},
        "size": {"type": "integer"}, "sha256": {"type": "string"}, "uploaded_at": DATETIME,
        "duplicate_of": {"type": "array", "items": {"type": "string"},
                         "description": "numbers of other claims holding the same file"}}}
    line = {"type": "object", "required": ["id", "date", "category", "amount"], "properties": {
        "id": {"type": "integer"}, "date": DATE, "category": {"type": "string", "enum": EXPENSE_CATEGORIES},
        "description": {"type": "string"}, "account": {"type": "string", "nullable": True,
                                                       "description": "the account visited (code)"},
        "amount": {**MONEY, "description": "claimed"},
        "approved_amount": {**nullable_money, "description": "null until approved; below amount when cut"},
        "cut_reason": {"type": "string", "nullable": True}, "nights": {"type": "integer"},
        "city_tier": {"type": "integer", "nullable": True, "enum": [1, 2, 3, None]},
        "flag": {"type": "string", "nullable": True, "enum": ["over_day_cap", "over_night_cap", None],
                 "description": "over a policy cap"},
        "receipts": {"type": "array", "items": receipt, "description": "metadata only: the files are "
                                                                       "shown on the claim's page"}}}
    event = {"type": "object", "properties": {
        "seq": {"type": "integer"}, "action": {"type": "string", "enum": EXPENSE_ACTIONS},
        "from": {"type": "string", "enum": EXPENSE_STATUSES}, "to": {"type": "string", "enum": EXPENSE_STATUSES},
        "by": person, "at": DATETIME, "comment": {"type": "string", "nullable": True},
        "override_reason": {"type": "string", "nullable": True,
                            "description": "why it was approved over the budget"},
        "amount": nullable_money}}
    budget = {"type": "object", "properties": {
        "category": {"type": "string", "enum": ["total", *EXPENSE_CATEGORIES]},
        "budget": {**nullable_money, "description": "null: no budget set"},
        "approved": {**MONEY, "description": "approved so far (paid included), this claim excluded"},
        "pending": {**MONEY, "description": "other claims waiting for an approval"},
        "this_claim": MONEY, "left_after": {**nullable_money, "description": "after approving this claim"},
        "over": {"type": "boolean", "description": "approving needs override_reason"},
        "over_with_pending": {"type": "boolean"}}}
    detail = {"allOf": [_ref("ExpenseClaim"), {"type": "object", "properties": {
        "lines": {"type": "array", "items": line},
        "flags": {"type": "object", "properties": {
            "lines": {"type": "integer", "description": "lines over a policy cap"},
            "duplicate_receipts": {"type": "integer"}, "over_budget": {"type": "boolean"}}},
        "history": {"type": "array", "items": event},
        "actions": {"type": "array", "items": {"type": "string", "enum": EXPENSE_ACTIONS},
                    "description": "what the token's user may do now"},
        "budget": {"type": "array", "items": budget,
                   "description": "present when the token's user may approve the claim: the region's budget "
                                  "for the month, in total and per category of the claim"}}}]}
    return {
        "ExpenseClaim": claim, "ExpenseClaimDetail": detail,
        "ExpenseError": {"type": "object", "required": ["message"], "properties": {
            "code": {"type": "string", "description": "the expense rule that refused (e.g. own_claim, "
                                                      "not_your_region, already_paid, stale)"},
            "message": {"type": "string"}, "field": {"type": "string"},
            "current_version": {"type": "integer", "description": "409 only"},
            "status": {"type": "string", "description": "409 only: the claim's status now"}}},
    }


def _expense_paths():
    path = [{"name": "claim_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    version = {"type": "integer", "description": "the claim's version the client saw (optional): a claim "
                                                 "that moved since answers 409"}
    refused = {"422": {"description": "Invalid input, or an expense rule refused: code names it",
                       "content": _json(_ref("ExpenseError"))}}
    stale = {"409": {"description": "The claim changed since `version`: nothing was recorded",
                     "content": _json(_ref("ExpenseError"))}}
    done = {"200": {"description": "The claim after the action", "content": _json(_ref("ExpenseClaimDetail"))}}
    line = {"type": "object", "required": ["date", "category", "amount"], "additionalProperties": False,
            "properties": {
                "date": {**DATE, "description": "in the claim's month, not in the future"},
                "category": {"type": "string", "enum": EXPENSE_CATEGORIES}, "amount": MONEY,
                "description": {"type": "string", "maxLength": 200},
                "account": {"type": "string", "description": "the account visited (code), one the claimant sees"},
                "nights": {"type": "integer", "minimum": 1, "description": "accommodation"},
                "city_tier": {"type": "integer", "enum": [1, 2, 3], "description": "accommodation: required"}}}
    cut = {"type": "object", "required": ["line", "approved_amount"], "additionalProperties": False,
           "properties": {"line": {"type": "integer", "description": "the line's id"},
                          "approved_amount": {**MONEY, "description": "at most the claimed amount; 0.00 allowed"},
                          "reason": {"type": "string", "maxLength": 200, "description": "required below the claim"}}}
    return {
        "/expenses": {
            "get": {
                "summary": "Expense claims (报销) in the token user's scope, newest month first",
                "description": "Field staff see their own; a supervisor their own and their regions'; finance and "
                               "admin all. Distributors have none (403).",
                "parameters": [
                    {"name": "status", "in": "query", "schema": {"type": "string", "enum": EXPENSE_STATUSES}},
                    {"name": "month", "in": "query", "schema": MONTH},
                    {"name": "region", "in": "query", "schema": {"type": "string"},
                     "description": "region code; its sub-regions included"},
                    {"name": "claimant", "in": "query", "schema": {"type": "string"}, "description": "username"},
                    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                    {"name": "per_page", "in": "query", "schema": {"type": "integer", "maximum": 500}}],
                "responses": {"200": {"description": "A page of claims", "content": _json({
                    "type": "object", "properties": {"items": {"type": "array", "items": _ref("ExpenseClaim")},
                                                     "next": {"type": "string", "nullable": True}}})},
                              **_errors(401, 403, 422)}},
            "post": {
                "summary": "Create a draft claim with its lines (field staff, supervisors)",
                "description": "Receipts are uploaded on the claim's page. Not idempotent: a retry creates "
                               "another draft.",
                "requestBody": {"required": True, "content": _json({
                    "type": "object", "required": ["month", "title"], "additionalProperties": False,
                    "properties": {"month": MONTH, "title": {"type": "string", "maxLength": 200},
                                   "region": {"type": "string", "description": "region code (default: the "
                                                                               "claimant's first)"},
                                   "lines": {"type": "array", "items": line}}})},
                "responses": {"201": {"description": "The draft", "content": _json(_ref("ExpenseClaimDetail"))},
                              **_errors(400, 401, 403), **refused}}},
        "/expenses/{claim_id}": {"get": {
            "summary": "One claim: lines, receipts (metadata), flags, history; the budget use for its approver",
            "parameters": path,
            "responses": {"200": {"description": "The claim", "content": _json(_ref("ExpenseClaimDetail"))},
                          **_errors(401, 404)}}},
        "/expenses/{claim_id}/submit": {"post": {
            "summary": "Submit a draft for approval (its claimant)",
            "parameters": path,
            "requestBody": {"required": True, "content": _json({
                "type": "object", "additionalProperties": False, "properties": {"version": version}})},
            "responses": {**done, **_errors(400, 401, 403, 404), **refused, **stale}}},
        "/expenses/{claim_id}/approve": {"post": {
            "summary": "Approve (a supervisor of the region; above the second-approval amount then a manager "
                       "or admin)",
            "description": "Nobody approves their own claim. Over the region's budget (total or a category's) "
                           "the approval needs override_reason, which is audited.",
            "parameters": path,
            "requestBody": {"required": True, "content": _json({
                "type": "object", "additionalProperties": False,
                "properties": {"version": version, "cuts": {"type": "array", "items": cut},
                               "override_reason": {"type": "string", "maxLength": 2000},
                               "comment": {"type": "string", "maxLength": 2000}}})},
            "responses": {**done, **_errors(400, 401, 403, 404), **refused, **stale}}},
        "/expenses/{claim_id}/reject": {"post": {
            "summary": "Return the claim to its owner as a draft, with a comment",
            "parameters": path,
            "requestBody": {"required": True, "content": _json({
                "type": "object", "required": ["comment"], "additionalProperties": False,
                "properties": {"version": version, "comment": {"type": "string", "maxLength": 2000}}})},
            "responses": {**done, **_errors(400, 401, 403, 404), **refused, **stale}}},
        "/expenses/{claim_id}/pay": {"post": {
            "summary": "Pay the approved amount (finance); a paid claim never changes again",
            "parameters": path,
            "requestBody": {"required": True, "content": _json({
                "type": "object", "required": ["paid_on", "reference"], "additionalProperties": False,
                "properties": {"version": version, "paid_on": {**DATE, "description": "not in the future"},
                               "reference": {"type": "string", "maxLength": 64}}})},
            "responses": {**done, **_errors(400, 401, 403, 404), **refused, **stale}}},
    }


# --- ten-day plans (旬计划) -------------------------------------------------------------------------

TENDAY = {"type": "string", "pattern": r"^\d{4}-\d{2}-[123]$", "example": "2026-03-2",
          "description": "a ten-day period: N = 1 for days 1-10 (上旬), 2 for 11-20 (中旬), 3 for 21 to the "
                         "month's end (下旬)"}
PLAN_STATUSES = ["draft", "submitted", "approved"]
PLAN_ACTIONS = ["submit", "approve", "send_back", "change"]
PCT = {"type": "string", "nullable": True, "pattern": r"^-?\d+\.\d$", "example": "87.5",
       "description": "actual as a percentage of plan (one decimal); null when nothing was planned"}


def _plan_schemas():
    person = {"type": "object", "nullable": True, "properties": {
        "username": {"type": "string"}, "name": {"type": "string"}}}
    line = {"type": "object", "properties": {
        "product": {"type": "string"}, "quantity": {"type": "integer"}, "unit_price": MONEY, "amount": MONEY}}
    stock = {"type": "object", "properties": {
        "product": {"type": "string"}, "stock": {"type": "integer", "description": "on hand at the account"},
        "sellout": {"type": "integer", "description": "sold by the account last period"}}}
    content = {"lines": {"type": "array", "items": line}, "stock": {"type": "array", "items": stock},
               "payment": MONEY, "payment_on": {**DATE, "nullable": True},
               "competitor_notes": {"type": "string"}, "problems": {"type": "string"}}
    summary = {"type": "object", "required": ["account", "period", "status", "locked", "version", "shipment",
                                              "payment", "url"],
               "properties": {
                   "account": {"type": "string"}, "account_name": {"type": "string"}, "region": {"type": "string"},
                   "period": TENDAY, "start": DATE, "end": DATE,
                   "status": {"type": "string", "enum": PLAN_STATUSES},
                   "locked": {"type": "boolean", "description": "approved and its period has started: only a "
                                                                "supervisor changes it, with a reason"},
                   "version": {"type": "integer", "description": "each change after the lock adds one"},
                   "quantity": {"type": "integer", "description": "planned, all lines"},
                   "shipment": {**MONEY, "description": "planned shipment amount"},
                   "payment": {**MONEY, "description": "planned payment"}, "payment_on": {**DATE, "nullable": True},
                   "drafted_by": person, "submitted_at": {**DATETIME, "nullable": True},
                   "approved_by": person, "approved_at": {**DATETIME, "nullable": True},
                   "updated_at": DATETIME, "url": {"type": "string"}}}
    figures = {"type": "object", "properties": {
        "quantity": {"type": "integer", "description": "actual: of the planned products only"},
        "shipment": MONEY, "payment": MONEY}}
    achievement = {"quantity_pct": PCT, "shipment_pct": PCT, "payment_pct": PCT,
                   "gap": {**MONEY, "description": "planned less actual shipment (negative: above plan)"},
                   "needs_variance_note": {"type": "boolean",
                                           "description": "the period is over and shipment or payment is below "
                                                          "the threshold: a variance note is asked for"}}
    detail = {"allOf": [_ref("Plan"), {"type": "object", "properties": {
        **content,
        "variance_note": {"type": "string", "nullable": True, "description": "why below plan"},
        "variance_by": person,
        "history": {"type": "array", "items": {"type": "object", "properties": {
            "seq": {"type": "integer"}, "action": {"type": "string", "enum": PLAN_ACTIONS},
            "from": {"type": "string", "enum": PLAN_STATUSES}, "to": {"type": "string", "enum": PLAN_STATUSES},
            "by": person, "at": DATETIME, "comment": {"type": "string", "nullable": True}}}},
        "versions": {"type": "array", "description": "earlier figures, kept by each change after the lock",
                     "items": {"type": "object", "properties": {
                         "version": {"type": "integer", "description": "the version the change made"},
                         "reason": {"type": "string"}, "by": person, "at": DATETIME,
                         "replaced": {"type": "object", "properties": content,
                                      "description": "the figures of the version before"}}}},
        "actual": {"type": "object", "description": "from the ledger so far: shipments net of returns and "
                                                    "reversals, payments, dated in the period",
                   "properties": {**figures["properties"], "lines": {"type": "array", "items": {
                       "type": "object", "properties": {"product": {"type": "string"},
                                                        "quantity": {"type": "integer"}}}}}},
        "achievement": {"type": "object", "properties": achievement},
        "actions": {"type": "array", "items": {"type": "string", "enum": [
            "edit", "submit", "approve", "send-back", "change", "variance-note"]},
                    "description": "what the token's user may do now (edit: PUT)"}}}]}
    row = {"type": "object", "properties": {
        "account": {"type": "string"}, "account_name": {"type": "string"}, "region": {"type": "string"},
        "status": {"type": "string", "enum": [*PLAN_STATUSES, "locked", "none"],
                   "description": "locked: approved and its period has started; none: no plan"},
        "plan": figures, "actual": figures, **achievement,
        "variance_note": {"type": "string", "nullable": True},
        "url": {"type": "string", "nullable": True}}}
    group = {"accounts": {"type": "integer", "description": "accounts with a plan or a movement"},
             "planned": {"type": "integer", "description": "accounts with a plan"},
             "plan": figures, "actual": figures, **{k: v for k, v in achievement.items() if k != "needs_variance_note"}}
    return {
        "Plan": summary, "PlanDetail": detail,
        "PlanActual": {"type": "object", "properties": {
            "period": TENDAY, "start": DATE, "end": DATE,
            "finished": {"type": "boolean", "description": "the period is over"},
            "threshold_pct": {"type": "integer", "description": "below it a variance note is asked for"},
            "accounts": {"type": "array", "items": row,
                         "description": "the accounts furthest below plan first"},
            "regions": {"type": "array", "description": "the regions of the scope in tree order, each with its "
                                                        "sub-regions rolled in (none for a distributor)",
                        "items": {"type": "object", "properties": {
                            "region": {"type": "string"}, "name": {"type": "string"},
                            "depth": {"type": "integer", "description": "1 for the top region shown"},
                            **group}}},
            "reps": {"type": "array", "description": "the field staff of the scope: the accounts of their "
                                                     "region (reps of one region share them)",
                     "items": {"type": "object", "properties": {"rep": person, **group}}},
            "total": {"type": "object", "properties": group}}},
        "PlanError": {"type": "object", "required": ["message"], "properties": {
            "code": {"type": "string", "description": "the plan rule that refused (e.g. not_a_draft, locked, "
                                                      "period_over, reason_required, stale)"},
            "message": {"type": "string"}, "field": {"type": "string"},
            "current_version": {"type": "integer", "description": "409 only"},
            "status": {"type": "string", "description": "409 only: the plan's status now"}}},
    }


def _plan_paths():
    path = [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"},
             "description": "the account's code"},
            {"name": "period", "in": "path", "required": True, "schema": TENDAY}]
    version = {"type": "integer", "description": "the plan's version the client saw (optional): a plan that "
                                                 "moved since answers 409"}
    line = {"type": "object", "required": ["product", "quantity"], "additionalProperties": False,
            "properties": {"product": {"type": "string"}, "quantity": {"type": "integer", "minimum": 1},
                           "unit_price": {**MONEY, "description": "default: the product's list price"}}}
    stock = {"type": "object", "required": ["product"], "additionalProperties": False,
             "properties": {"product": {"type": "string"}, "stock": {"type": "integer", "minimum": 0},
                            "sellout": {"type": "integer", "minimum": 0}}}
    content = {"lines": {"type": "array", "items": line, "maxItems": 200},
               "stock": {"type": "array", "items": stock, "maxItems": 200},
               "payment": {**MONEY, "description": "planned payment (default 0.00)"},
               "payment_on": {**DATE, "description": "in the period; required with a payment"},
               "competitor_notes": {"type": "string", "maxLength": 2000},
               "problems": {"type": "string", "maxLength": 2000}}
    refused = {"422": {"description": "Invalid input, or a plan rule refused: code names it",
                       "content": _json(_ref("PlanError"))},
               "403": {"description": "Not allowed for this user (code not_your_plan or needs_supervisor when a "
                                      "plan rule says so)", "content": _json(_ref("PlanError"))}}
    stale = {"409": {"description": "The plan changed since `version`: nothing was recorded",
                     "content": _json(_ref("PlanError"))}}
    done = {"200": {"description": "The plan after the action", "content": _json(_ref("PlanDetail"))}}

    def action(summary, properties, required=(), description=None):
        body = {"type": "object", "additionalProperties": False, "properties": properties}
        if required:
            body["required"] = list(required)
        op = {"summary": summary, "parameters": path,
              "requestBody": {"required": True, "content": _json(body)},
              "responses": {**done, **_errors(400, 401, 404), **refused, **stale}}
        if description:
            op["description"] = description
        return {"post": op}

    return {
        "/plans": {"get": {
            "summary": "Ten-day plans (旬计划) of the accounts in the token user's scope, newest period first",
            "parameters": [
                {"name": "period", "in": "query", "schema": TENDAY},
                {"name": "status", "in": "query", "schema": {"type": "string", "enum": [*PLAN_STATUSES, "locked"]},
                 "description": "approved includes the locked ones; locked: approved and its period started"},
                {"name": "region", "in": "query", "schema": {"type": "string"},
                 "description": "region code; its sub-regions included"},
                {"name": "account", "in": "query", "schema": {"type": "string"}},
                {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                {"name": "per_page", "in": "query", "schema": {"type": "integer", "maximum": 500}}],
            "responses": {"200": {"description": "A page of plans", "content": _json({
                "type": "object", "properties": {"items": {"type": "array", "items": _ref("Plan")},
                                                 "next": {"type": "string", "nullable": True}}})},
                          **_errors(401, 422)}}},
        "/plans/actual": {"get": {
            "summary": "Plan versus actual per account for a period (and the totals)",
            "description": "Every active account of the scope (status none: no plan), and any other with a plan "
                           "or a movement in the period. Actual figures come from the ledger.",
            "parameters": [{"name": "period", "in": "query", "required": True, "schema": TENDAY},
                           {"name": "region", "in": "query", "schema": {"type": "string"},
                            "description": "region code; its sub-regions included"}],
            "responses": {"200": {"description": "Figures", "content": _json(_ref("PlanActual"))},
                          **_errors(401, 422)}}},
        "/plans/{code}/{period}": {
            "get": {
                "summary": "One plan: lines, stock notes, payment, history, earlier versions and the actual "
                           "figures so far",
                "parameters": path,
                "responses": {"200": {"description": "The plan", "content": _json(_ref("PlanDetail"))},
                              **_errors(401, 404)}},
            "put": {
                "summary": "Create the account's plan for the period, or replace its content",
                "description": "The account's field staff (or the distributor, for its own account) edit a draft; "
                               "a supervisor a draft or a submitted plan. An approved plan is sent back first; "
                               "once locked it changes through change. Absent lists are empty.",
                "parameters": path,
                "requestBody": {"required": True, "content": _json({
                    "type": "object", "additionalProperties": False,
                    "properties": {**content, "version": version}})},
                "responses": {"201": {"description": "Created", "content": _json(_ref("PlanDetail"))},
                              **done, **_errors(400, 401, 404), **refused, **stale}}},
        "/plans/{code}/{period}/submit": action(
            "Submit a draft for approval (its field staff or distributor)", {"version": version}),
        "/plans/{code}/{period}/approve": action(
            "Approve a submitted plan (a supervisor of the account's region, or admin)",
            {"version": version, "comment": {"type": "string", "maxLength": 2000}}),
        "/plans/{code}/{period}/send-back": action(
            "Send a submitted plan, or an approved one before its period starts, back as a draft",
            {"version": version, "comment": {"type": "string", "maxLength": 2000}}, required=["comment"]),
        "/plans/{code}/{period}/change": action(
            "Change a locked plan's figures (a supervisor, with a reason); the earlier version is kept",
            {**content, "reason": {"type": "string", "maxLength": 2000}, "version": version}, required=["reason"],
            description="The body is the plan's whole new content, as for PUT."),
        "/plans/{code}/{period}/variance-note": action(
            "Write (or clear, with an empty note) why the account fell below plan, once the period has begun",
            {"note": {"type": "string", "nullable": True, "maxLength": 2000}}, required=["note"]),
    }


# --- monthly meetings (月度经销商会议) and their action items ----------------------------------------

MEETING_STATUSES = ["planned", "held", "published"]
AGENDA_KINDS = ["market", "policy", "other"]
MEETING_ACTIONS = ["edit", "agenda", "targets", "items", "hold", "publish"]
TIME = {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d$", "example": "09:30",
        "description": "HH:MM, the business time zone"}
PERSON = {"type": "object", "nullable": True, "properties": {
    "username": {"type": "string"}, "name": {"type": "string"}}}


def _refusal_schema(area, examples):
    return {"type": "object", "required": ["message"], "properties": {
        "code": {"type": "string", "description": f"the {area} rule that refused (e.g. {examples})"},
        "message": {"type": "string"}, "field": {"type": "string"},
        "current_version": {"type": "integer", "description": "409 after a stale version only"},
        "status": {"type": "string", "description": "409 after a stale version only: the status now"}}}


def _meeting_schemas():
    summary = {"type": "object", "required": ["id", "region", "month", "date", "place", "title", "status", "version",
                                              "url"],
               "properties": {
                   "id": {"type": "integer"}, "region": {"type": "string", "description": "region code"},
                   "region_name": {"type": "string"},
                   "month": {**MONTH, "description": "the month of its date: the month whose targets it sets"},
                   "date": DATE, "time": {**TIME, "nullable": True}, "place": {"type": "string"},
                   "title": {"type": "string"}, "status": {"type": "string", "enum": MEETING_STATUSES,
                                                           "description": "published: the minutes (会议纪要)"},
                   "version": {"type": "integer", "description": "each change adds one: send it back with a "
                                                                 "write to be told (409) when the meeting moved"},
                   "held_by": PERSON, "held_at": {**DATETIME, "nullable": True},
                   "published_by": PERSON, "published_at": {**DATETIME, "nullable": True},
                   "url": {"type": "string"}}}
    item = {"type": "object", "required": ["id", "number", "meeting", "title", "owner", "status", "version"],
            "properties": {
                "id": {"type": "integer"}, "number": {"type": "string", "example": "M12-3"},
                "meeting": {"type": "integer", "description": "the meeting's id"},
                "title": {"type": "string"}, "detail": {"type": "string", "nullable": True},
                "account": {"type": "string", "nullable": True, "description": "the account that raised it"},
                "owner": PERSON, "due_on": {**DATE, "nullable": True},
                "status": {"type": "string", "enum": ["open", "done"]},
                "overdue": {"type": "boolean", "description": "open and past its due date"},
                "version": {"type": "integer"}, "resolution": {"type": "string", "nullable": True},
                "resolved_by": PERSON, "resolved_at": {**DATETIME, "nullable": True},
                "created_at": DATETIME, "url": {"type": "string"}}}
    attendee = {"type": "object", "properties": {
        "attended": {"type": "boolean", "description": "marked when the meeting was held"}}}
    detail = {"allOf": [_ref("Meeting"), {"type": "object", "properties": {
        "summary": {"type": "string", "nullable": True, "description": "the chair's summary in the minutes"},
        "accounts": {"type": "array", "description": "the accounts invited", "items": {
            "allOf": [attendee, {"type": "object", "properties": {
                "code": {"type": "string"}, "name": {"type": "string"}}}]}},
        "staff": {"type": "array", "description": "the staff invited", "items": {
            "allOf": [attendee, {"type": "object", "properties": {
                "username": {"type": "string"}, "name": {"type": "string"}}}]}},
        "agenda": {"type": "array", "items": {"type": "object", "properties": {
            "seq": {"type": "integer"}, "kind": {"type": "string", "enum": AGENDA_KINDS},
            "title": {"type": "string"}, "body": {"type": "string", "nullable": True},
            "promotion": {"type": "string", "nullable": True,
                          "description": "a policy item's promotion (code)"}}}},
        "targets": {"type": "array", "description": "each account's targets for the month (目标任务)",
                    "items": {"type": "object", "properties": {
                        "account": {"type": "string"}, "shipment": MONEY, "payment": MONEY}}},
        "targets_total": {"type": "object", "properties": {"shipment": MONEY, "payment": MONEY}},
        "action_items": {"type": "array", "items": _ref("ActionItem"),
                         "description": "the problems raised at this meeting"},
        "carried_over": {"type": "array", "description": "the open items of the region's earlier meetings the "
                                                         "agenda starts with: as they stood when the meeting was "
                                                         "held, or as they stand for a planned one",
                         "items": {"type": "object", "properties": {
                             "id": {"type": "integer"}, "number": {"type": "string"},
                             "title": {"type": "string"}, "owner": {"type": "string"},
                             "due_on": {**DATE, "nullable": True}, "raised_on": DATE,
                             "status": {"type": "string"}, "overdue": {"type": "boolean"}}}},
        "actions": {"type": "array", "items": {"type": "string", "enum": MEETING_ACTIONS},
                    "description": "what the token's user may do now (edit: PUT)"}}}]}
    return {
        "Meeting": summary, "MeetingDetail": detail, "ActionItem": item,
        "MeetingError": _refusal_schema("meeting", "already_published, not_yet, target_set_elsewhere, stale"),
    }


def _meeting_paths():
    path = [{"name": "meeting_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    item_path = [{"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    version = {"type": "integer", "description": "the version the client saw (optional): one that moved since "
                                                 "answers 409"}
    refused = {"422": {"description": "Invalid input, or a meeting rule refused: code names it",
                       "content": _json(_ref("MeetingError"))},
               "403": {"description": "Not allowed for this user (code not_your_region when the region is "
                                      "another supervisor's)", "content": _json(_ref("MeetingError"))}}
    stale = {"409": {"description": "Changed since `version`: nothing was recorded",
                     "content": _json(_ref("MeetingError"))}}
    done = {"200": {"description": "The meeting after the action", "content": _json(_ref("MeetingDetail"))}}
    item_done = {"200": {"description": "The action item after the action", "content": _json(_ref("ActionItem"))}}
    codes = {"type": "array", "items": {"type": "string"}, "maxItems": 500}
    details = {"date": DATE, "time": TIME, "place": {"type": "string", "maxLength": 200},
               "title": {"type": "string", "maxLength": 200},
               "accounts": {**codes, "description": "account codes: active accounts of the region (and its "
                                                    "sub-regions)"},
               "staff": {**codes, "description": "usernames: the region's supervisors and field staff"}}

    def action(summary, properties, required=(), description=None, responses=None):
        body = {"type": "object", "additionalProperties": False, "properties": properties}
        if required:
            body["required"] = list(required)
        op = {"summary": summary, "parameters": path,
              "requestBody": {"required": True, "content": _json(body)},
              "responses": {**(responses or done), **_errors(400, 401, 404), **refused, **stale}}
        if description:
            op["description"] = description
        return {"post": op}

    def item_action(summary, properties, required=()):
        body = {"type": "object", "additionalProperties": False, "properties": properties}
        if required:
            body["required"] = list(required)
        return {"summary": summary, "parameters": item_path,
                "requestBody": {"required": True, "content": _json(body)},
                "responses": {**item_done, **_errors(400, 401, 404), **refused, **stale}}

    return {
        "/meetings": {
            "get": {
                "summary": "Monthly distributor meetings (月度经销商会议) the token's user sees, newest first",
                "description": "Staff see their regions' meetings; a distributor the published minutes of "
                               "meetings its account (or a dealer of it) was invited to.",
                "parameters": [
                    {"name": "month", "in": "query", "schema": MONTH},
                    {"name": "region", "in": "query", "schema": {"type": "string"},
                     "description": "region code; its sub-regions included"},
                    {"name": "status", "in": "query", "schema": {"type": "string", "enum": MEETING_STATUSES}},
                    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                    {"name": "per_page", "in": "query", "schema": {"type": "integer", "maximum": 500}}],
                "responses": {"200": {"description": "A page of meetings", "content": _json({
                    "type": "object", "properties": {"items": {"type": "array", "items": _ref("Meeting")},
                                                     "next": {"type": "string", "nullable": True}}})},
                              **_errors(401, 422)}},
            "post": {
                "summary": "Schedule a meeting (a supervisor of the region, or admin)",
                "requestBody": {"required": True, "content": _json({
                    "type": "object", "required": ["region", "date", "place", "title"],
                    "additionalProperties": False,
                    "properties": {"region": {"type": "string", "description": "region code"}, **details}})},
                "responses": {"201": {"description": "The planned meeting", "content": _json(_ref("MeetingDetail"))},
                              **_errors(400, 401), **refused}}},
        "/meetings/{meeting_id}": {
            "get": {
                "summary": "One meeting: attendees, agenda, targets, action items, the open items carried over",
                "description": "A distributor sees the targets and action items of its own accounts (itself and "
                               "its dealers) and the items raised for no account.",
                "parameters": path,
                "responses": {"200": {"description": "The meeting", "content": _json(_ref("MeetingDetail"))},
                              **_errors(401, 404)}},
            "put": {
                "summary": "Change a meeting's details, invitees and summary until its minutes are published",
                "description": "Fields left out keep their value; the date changes only while planned.",
                "parameters": path,
                "requestBody": {"required": True, "content": _json({
                    "type": "object", "required": ["date", "place", "title"], "additionalProperties": False,
                    "properties": {**details, "time": {**TIME, "nullable": True},
                                   "summary": {"type": "string", "nullable": True, "maxLength": 4000},
                                   "version": version}})},
                "responses": {**done, **_errors(400, 401, 404), **refused, **stale}}},
        "/meetings/{meeting_id}/hold": action(
            "Mark a planned meeting held (from its date on), with who attended",
            {"version": version,
             "attended_accounts": {**codes, "description": "invited account codes"},
             "attended_staff": {**codes, "description": "invited usernames"}},
            description="The open items of earlier meetings reviewed are kept with the meeting."),
        "/meetings/{meeting_id}/publish": action(
            "Publish the minutes (会议纪要) of a held meeting: it no longer changes; the invited accounts read them",
            {"version": version}),
        "/meetings/{meeting_id}/agenda": action(
            "Add an agenda item: market information, a policy (with its promotion) or another point",
            {"version": version, "kind": {"type": "string", "enum": AGENDA_KINDS},
             "title": {"type": "string", "maxLength": 200}, "body": {"type": "string", "maxLength": 4000},
             "promotion": {"type": "string", "description": "policy only: the promotion's code"}},
            required=["kind", "title"],
            responses={"201": {"description": "The meeting with the item", "content": _json(_ref("MeetingDetail"))}}),
        "/meetings/{meeting_id}/targets": action(
            "Set the month's shipment and payment targets of invited accounts",
            {"version": version, "targets": {"type": "array", "minItems": 1, "maxItems": 500, "items": {
                "type": "object", "required": ["account"], "additionalProperties": False, "properties": {
                    "account": {"type": "string"},
                    "shipment": {**MONEY, "description": "0.00 or more; with payment null: the target is removed"},
                    "payment": {**MONEY, "description": "0.00 or more"}}}}},
            required=["targets"],
            description="An account has one target a month: one set at another meeting of the month is refused "
                        "(target_set_elsewhere). Accounts not listed keep their targets. The plan pages measure "
                        "the month against them."),
        "/meetings/{meeting_id}/items": action(
            "Raise an action item (a problem raised at the meeting) with its owner and due date",
            {"version": version, "title": {"type": "string", "maxLength": 200},
             "detail": {"type": "string", "maxLength": 4000},
             "owner": {"type": "string", "description": "username of an active member of staff"},
             "due_on": {**DATE, "description": "not before the meeting"},
             "account": {"type": "string", "description": "the invited account that raised it"}},
            required=["title", "owner"],
            responses={"201": {"description": "The action item", "content": _json(_ref("ActionItem"))}}),
        "/action-items": {"get": {
            "summary": "Action items the token's user owns or sees (of meetings they see), earliest due first",
            "description": "A distributor: the items of its own accounts and those raised for no account.",
            "parameters": [
                {"name": "status", "in": "query", "schema": {"type": "string", "enum": ["open", "done", "overdue"]},
                 "description": "overdue: open and past its due date"},
                {"name": "mine", "in": "query", "schema": {"type": "string", "enum": ["true", "false"]},
                 "description": "true: only those the user owns"},
                {"name": "meeting", "in": "query", "schema": {"type": "integer"}},
                {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                {"name": "per_page", "in": "query", "schema": {"type": "integer", "maximum": 500}}],
            "responses": {"200": {"description": "A page of action items", "content": _json({
                "type": "object", "properties": {"items": {"type": "array", "items": _ref("ActionItem")},
                                                 "next": {"type": "string", "nullable": True}}})},
                          **_errors(401, 422)}}},
        "/action-items/{item_id}": {
            "get": {"summary": "One action item", "parameters": item_path,
                    "responses": {"200": {"description": "The action item", "content": _json(_ref("ActionItem"))},
                                  **_errors(401, 404)}},
            "put": item_action(
                "Re-assign or re-schedule an open item (its owner or the region's supervisor; also after the "
                "minutes)",
                {"version": version, "owner": {"type": "string", "description": "username"},
                 "due_on": {**DATE, "nullable": True}}, required=["owner"])},
        "/action-items/{item_id}/resolve": {"post": item_action(
            "Resolve an open item, saying how", {"version": version, "resolution": {"type": "string",
                                                                                  "maxLength": 4000}},
            required=["resolution"])},
        "/action-items/{item_id}/reopen": {"post": item_action(
            "Reopen a resolved item, saying why", {"version": version, "reason": {"type": "string",
                                                                                "maxLength": 4000}},
            required=["reason"])},
    }


# --- promotions (促销活动 / 铺货) ---------------------------------------------------------------------

PROMOTION_STATUSES = ["draft", "published", "running", "ended", "settled"]
PROMOTION_KINDS = ["per_unit", "percent", "per_outlet", "display_fee"]
PROMOTION_ACTIONS = ["edit", "publish", "enrolments", "reports", "settle"]
RATE = {"type": "string", "pattern": r"^\d+(\.\d{1,2})?$", "example": "2.00",
        "description": "per_unit: yuan per unit shipped; per_outlet: yuan per outlet stocked; display_fee: the "
                       "fee in yuan; percent: a percentage of the net shipment amount (\"1.50\" = 1.5 %, at "
                       "most 100)"}


def _promotion_schemas():
    region = {"type": "object", "properties": {"region": {"type": "string"}, "name": {"type": "string"},
                                               "budget": MONEY}}
    promotion = {"type": "object",
                 "required": ["code", "name", "kind", "rate", "starts_on", "ends_on", "status", "version", "url"],
                 "properties": {
                     "code": {"type": "string"}, "name": {"type": "string"},
                     "description": {"type": "string", "nullable": True},
                     "kind": {"type": "string", "enum": PROMOTION_KINDS}, "rate": RATE,
                     "min_quantity": {"type": "integer", "description": "per_unit and percent: the net quantity "
                                                                        "an account must reach to earn anything"},
                     "cap": {**MONEY, "nullable": True, "description": "the most one account earns"},
                     "starts_on": DATE, "ends_on": DATE,
                     "status": {"type": "string", "enum": PROMOTION_STATUSES,
                                "description": "running and ended follow the dates of a published promotion"},
                     "version": {"type": "integer"},
                     "products": {"type": "array", "items": {"type": "string"}},
                     "regions": {"type": "array", "items": region,
                                 "description": "the regions it runs in (with their sub-regions), each with a "
                                                "budget"},
                     "budget": {**MONEY, "description": "all regions together"},
                     "published_by": PERSON, "published_at": {**DATETIME, "nullable": True},
                     "settled_by": PERSON, "settled_at": {**DATETIME, "nullable": True},
                     "url": {"type": "string"}}}
    detail = {"allOf": [_ref("Promotion"), {"type": "object", "properties": {
        "enrolments": {"type": "integer", "description": "accounts enrolled that the user sees"},
        "reports_pending": {"type": "integer", "description": "execution reports waiting for a verdict"},
        "actions": {"type": "array", "items": {"type": "string", "enum": PROMOTION_ACTIONS},
                    "description": "what the token's user may do now (edit: PUT; enrolments, reports: POST)"}}}]}
    pct = {"type": "string", "nullable": True, "pattern": r"^-?\d+\.\d$",
           "description": "of the target (one decimal); null without a target"}
    enrolment = {"type": "object", "properties": {
        "account": {"type": "string"}, "account_name": {"type": "string"},
        "region": {"type": "string", "description": "the promotion's region it counts under"},
        "target_qty": {"type": "integer"}, "target_outlets": {"type": "integer"},
        "enrolled_by": PERSON, "enrolled_at": DATETIME,
        "reports": {"type": "integer"}, "pending": {"type": "integer", "description": "reports waiting"},
        "reported_outlets": {"type": "integer", "description": "not rejected"},
        "verified_outlets": {"type": "integer"},
        "net_qty": {"type": "integer", "description": "the promotion's products shipped in the period, net of "
                                                      "returns and reversals (the ledger)"},
        "net_shipment": MONEY, "qty_pct": pct, "outlets_pct": pct}}
    report = {"type": "object", "properties": {
        "id": {"type": "integer"}, "promotion": {"type": "string"}, "account": {"type": "string"},
        "executed_on": DATE, "outlets": {"type": "integer", "description": "outlets stocked"},
        "note": {"type": "string", "nullable": True},
        "status": {"type": "string", "enum": ["submitted", "verified", "rejected"]}, "version": {"type": "integer"},
        "reported_by": PERSON, "reported_at": DATETIME, "checked_by": PERSON,
        "checked_at": {**DATETIME, "nullable": True}, "reject_reason": {"type": "string", "nullable": True},
        "photos": {"type": "array", "description": "metadata only: the photos are shown on the promotion's pages",
                   "items": {"type": "object", "properties": {"filename": {"type": "string"},
                                                              "sha256": {"type": "string"}}}}}}
    hidden = "null for a distributor (it sees its own accounts only)"
    settlement = {"type": "object", "properties": {
        "promotion": {"type": "string"}, "status": {"type": "string", "enum": PROMOTION_STATUSES},
        "version": {"type": "integer"}, "kind": {"type": "string", "enum": PROMOTION_KINDS}, "rate": RATE,
        "min_quantity": {"type": "integer"}, "cap": {**MONEY, "nullable": True},
        "regions": {"type": "array", "items": {"type": "object", "properties": {
            "region": {"type": "string"}, "name": {"type": "string"},
            "short": {"type": "boolean", "description": "the rewards exceed the budget: it is shared pro rata to "
                                                        "what each account earned (largest remainder, to the fen)"},
            "budget": {**MONEY, "nullable": True, "description": hidden},
            "earned": {**MONEY, "nullable": True, "description": "the rewards by the rules and the cap; " + hidden},
            "paid": {**MONEY, "nullable": True, "description": "within the budget; " + hidden},
            "left": {**MONEY, "nullable": True, "description": "budget less paid; " + hidden},
            "settled": {"type": "boolean"}, "posted_on": {**DATE, "nullable": True},
            "approved_by": PERSON, "approved_at": {**DATETIME, "nullable": True},
            "accounts": {"type": "array", "items": {"type": "object", "properties": {
                "account": {"type": "string"}, "account_name": {"type": "string"},
                "paid_through": {"type": "string", "nullable": True,
                                 "description": "a dealer's general distributor: the rebate is credited to it, "
                                                "for the dealer"},
                "net_qty": {"type": "integer"}, "net_shipment": MONEY, "verified_outlets": {"type": "integer"},
                "verified": {"type": "boolean"}, "earned": MONEY, "paid": MONEY,
                "document": {"type": "string", "nullable": True,
                             "description": "the rebate document, once settled and paid"}}}}}}},
        "total": {"type": "object", "nullable": True, "description": hidden,
                  "properties": {"budget": MONEY, "earned": MONEY, "paid": MONEY}}}}
    return {
        "Promotion": promotion, "PromotionDetail": detail, "Enrolment": enrolment, "ExecutionReport": report,
        "PromotionSettlement": settlement,
        "PromotionError": _refusal_schema("promotion", "terms_fixed, not_open_for_enrolment, own_report, "
                                                       "already_settled, stale"),
    }


def _promotion_paths():
    code = [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"},
             "description": "the promotion's code"}]
    enrolment_path = [*code, {"name": "account_code", "in": "path", "required": True, "schema": {"type": "string"}}]
    report_path = [{"name": "report_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    version = {"type": "integer", "description": "the version the client saw (optional): one that moved since "
                                                 "answers 409"}
    refused = {"422": {"description": "Invalid input, or a promotion rule refused: code names it",
                       "content": _json(_ref("PromotionError"))},
               "403": {"description": "Not allowed for this user (code not_allowed, not_your_region or own_report "
                                      "when a promotion rule says so)", "content": _json(_ref("PromotionError"))}}
    stale = {"409": {"description": "Changed since `version`: nothing was recorded",
                     "content": _json(_ref("PromotionError"))}}
    count = {"type": "integer", "minimum": 0}
    fields = {
        "code": {"type": "string", "maxLength": 32, "description": "kept in capitals"},
        "name": {"type": "string", "maxLength": 200}, "description": {"type": "string", "maxLength": 4000},
        "kind": {"type": "string", "enum": PROMOTION_KINDS}, "rate": RATE, "min_quantity": count,
        "cap": {**MONEY, "nullable": True, "description": "per account (none: no cap)"},
        "starts_on": DATE, "ends_on": DATE,
        "products": {"type": "array", "minItems": 1, "items": {"type": "string"}, "description": "product codes"},
        "regions": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["region", "budget"], "additionalProperties": False,
            "properties": {"region": {"type": "string"}, "budget": {**MONEY, "description": "0.00 or more"}}},
            "description": "regions (not one inside another) with their budgets"}}
    required = ["code", "name", "kind", "rate", "starts_on", "ends_on", "products", "regions"]
    detail = {"200": {"description": "The promotion after the action", "content": _json(_ref("PromotionDetail"))}}
    enrolment = {"description": "The enrolment with its progress", "content": _json(_ref("Enrolment"))}
    report = {"description": "The execution report", "content": _json(_ref("ExecutionReport"))}
    return {
        "/promotions": {
            "get": {
                "summary": "Promotions (促销活动) the token's user sees, the latest start first",
                "description": "Head office sees every promotion; staff the published ones running in their "
                               "regions; a distributor the published ones its account or a dealer of it is "
                               "enrolled in.",
                "parameters": [
                    {"name": "status", "in": "query", "schema": {"type": "string", "enum": PROMOTION_STATUSES}},
                    {"name": "kind", "in": "query", "schema": {"type": "string", "enum": PROMOTION_KINDS}},
                    {"name": "region", "in": "query", "schema": {"type": "string"},
                     "description": "region code: promotions running in it (of it, above it or below it)"},
                    {"name": "month", "in": "query", "schema": MONTH, "description": "overlapping the month"},
                    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                    {"name": "per_page", "in": "query", "schema": {"type": "integer", "maximum": 500}}],
                "responses": {"200": {"description": "A page of promotions", "content": _json({
                    "type": "object", "properties": {"items": {"type": "array", "items": _ref("Promotion")},
                                                     "next": {"type": "string", "nullable": True}}})},
                              **_errors(401, 422)}},
            "post": {
                "summary": "Set up a promotion as a draft (finance or admin)",
                "requestBody": {"required": True, "content": _json({
                    "type": "object", "required": required, "additionalProperties": False, "properties": fields})},
                "responses": {"201": {"description": "The draft", "content": _json(_ref("PromotionDetail"))},
                              **_errors(400, 401), **refused}}},
        "/promotions/{code}": {
            "get": {"summary": "One promotion", "parameters": code,
                    "responses": {"200": {"description": "The promotion", "content": _json(_ref("PromotionDetail"))},
                                  **_errors(401, 404)}},
            "put": {
                "summary": "Change a promotion (finance or admin): a draft freely; once published only the name, "
                           "the description and the budgets (the other fields as they are)",
                "parameters": code,
                "requestBody": {"required": True, "content": _json({
                    "type": "object", "required": required, "additionalProperties": False,
                    "properties": {**fields, "version": version}})},
                "responses": {**detail, **_errors(400, 401, 404), **refused, **stale}}},
        "/promotions/{code}/publish": {"post": {
            "summary": "Publish a draft (finance or admin): it runs from its first day; its terms are fixed",
            "parameters": code,
            "requestBody": {"required": True, "content": _json({
                "type": "object", "additionalProperties": False, "properties": {"version": version}})},
            "responses": {**detail, **_errors(400, 401, 404), **refused, **stale}}},
        "/promotions/{code}/enrolments": {
            "get": {
                "summary": "The accounts enrolled that the user sees, with their rollout progress",
                "parameters": code,
                "responses": {"200": {"description": "Enrolments", "content": _json({
                    "type": "object", "properties": {"promotion": {"type": "string"},
                                                     "items": {"type": "array", "items": _ref("Enrolment")}}})},
                              **_errors(401, 404)}},
            "post": {
                "summary": "Enrol an account with its targets (a supervisor of its region, or admin) while the "
                           "promotion is published or running",
                "parameters": code,
                "requestBody": {"required": True, "content": _json({
                    "type": "object", "required": ["account"], "additionalProperties": False,
                    "properties": {"account": {"type": "string"}, "target_qty": count, "target_outlets": count}})},
                "responses": {"201": enrolment, **_errors(400, 401, 404), **refused}}},
        "/promotions/{code}/enrolments/{account_code}": {
            "put": {
                "summary": "Change an enrolled account's targets (fields left out keep their value)",
                "parameters": enrolment_path,
                "requestBody": {"required": True, "content": _json({
                    "type": "object", "additionalProperties": False,
                    "properties": {"target_qty": count, "target_outlets": count}})},
                "responses": {"200": enrolment, **_errors(400, 401, 404), **refused}},
            "delete": {
                "summary": "Withdraw an account without execution reports",
                "parameters": enrolment_path,
                "responses": {"204": {"description": "Withdrawn"}, **_errors(401, 404), **refused}}},
        "/promotions/{code}/reports": {
            "get": {
                "summary": "Execution reports of the enrolments the user sees, by date",
                "parameters": [*code,
                               {"name": "status", "in": "query",
                                "schema": {"type": "string", "enum": ["submitted", "verified", "rejected"]}},
                               {"name": "account", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": {"description": "Reports", "content": _json({
                    "type": "object", "properties": {"promotion": {"type": "string"},
                                                     "items": {"type": "array", "items": _ref("ExecutionReport")}}})},
                              **_errors(401, 404, 422)}},
            "post": {
                "summary": "Report execution at an enrolled account (field staff or a supervisor of its region)",
                "description": "Photos cannot be sent through the API: add them on the promotion's pages.",
                "parameters": code,
                "requestBody": {"required": True, "content": _json({
                    "type": "object", "required": ["account", "executed_on", "outlets"], "additionalProperties": False,
                    "properties": {"account": {"type": "string"},
                                   "executed_on": {**DATE, "description": "within the period, not in the future"},
                                   "outlets": {**count, "description": "outlets stocked"},
                                   "note": {"type": "string", "maxLength": 4000}}})},
                "responses": {"201": report, **_errors(400, 401, 404), **refused}}},
        "/execution-reports/{report_id}/verify": {"post": {
            "summary": "Verify an execution report (a supervisor of the account's region; never one's own)",
            "parameters": report_path,
            "requestBody": {"required": True, "content": _json({
                "type": "object", "additionalProperties": False, "properties": {"version": version}})},
            "responses": {"200": report, **_errors(400, 401, 404), **refused, **stale}}},
        "/execution-reports/{report_id}/reject": {"post": {
            "summary": "Reject an execution report, with the reason",
            "parameters": report_path,
            "requestBody": {"required": True, "content": _json({
                "type": "object", "required": ["reason"], "additionalProperties": False,
                "properties": {"version": version, "reason": {"type": "string", "maxLength": 4000}}})},
            "responses": {"200": report, **_errors(400, 401, 404), **refused, **stale}}},
        "/promotions/{code}/settlement": {"get": {
            "summary": "The settlement per region and account: as it stands (from the ledger and the verified "
                       "execution), or as finance settled it",
            "parameters": code,
            "responses": {"200": {"description": "Figures", "content": _json(_ref("PromotionSettlement"))},
                          **_errors(401, 404)}}},
        "/promotions/{code}/settle": {"post": {
            "summary": "Settle an ended promotion (finance or admin): every region's rebates posted to the ledger "
                       "in one transaction",
            "description": "Idempotent: a settled promotion answers 409 (code already_settled) and posts nothing. "
                           "A dealer supplied by a general distributor is paid through it (the distributor's "
                           "ledger, for the dealer).",
            "parameters": code,
            "requestBody": {"required": True, "content": _json({
                "type": "object", "additionalProperties": False,
                "properties": {"version": version,
                               "on": {**DATE, "description": "the rebates' date (default today): on or after the "
                                                             "promotion's last day, in an open month"}}})},
            "responses": {"200": {"description": "Settled", "content": _json({
                "type": "object", "properties": {
                    "promotion": {"type": "string"}, "status": {"type": "string", "enum": ["settled"]},
                    "version": {"type": "integer"},
                    "documents": {"type": "array", "items": {"type": "string"},
                                  "description": "the numbers of the rebate documents"},
                    "posted": {"type": "integer", "description": "documents posted by this call"},
                    "settlement": _ref("PromotionSettlement")}})},
                **_errors(400, 401, 404), **refused,
                "409": {"description": "Already settled (nothing posted), or changed since `version`",
                        "content": _json(_ref("PromotionError"))}}}},
    }
