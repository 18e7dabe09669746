"""/api/v1 through the test client on SQLite and PostgreSQL: tokens, scope, posting, replay,
conflicts, bad input (nothing posted), reversal, statements, period close."""
from datetime import date

import pytest
from sqlalchemy import func, select

from channel.api.services import revoke_token
from channel.extensions import db
from channel.ledger.models import Document, LedgerEntry

TODAY = date.today()
ON = TODAY.replace(day=1).isoformat()  # the current month is open


def _counts(app):
    with app.app_context():
        return (db.session.execute(select(func.count()).select_from(Document)).scalar_one(),
                db.session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one())


def test_token_required_and_session_cookie_not_enough(app, client, login, token):
    assert client.get("/api/v1/accounts").status_code == 401
    assert client.get("/api/v1/accounts", headers={"Authorization": "Bearer chn_nope"}).status_code == 401
    web = login("finance")  # a logged-in browser session does not open the API
    resp = web.post("/api/v1/documents", json={"kind": "payment"})
    assert resp.status_code == 401 and resp.is_json
    headers = token("finance")
    assert client.get("/api/v1/accounts", headers=headers).status_code == 200
    with app.app_context():
        from channel.api.models import ApiToken

        revoke_token(db.session.execute(select(ApiToken)).scalars().first())
        db.session.commit()
    assert client.get("/api/v1/accounts", headers=headers).status_code == 401


def test_accounts_are_scoped_and_paginated(client, token):
    body = client.get("/api/v1/accounts?per_page=5", headers=token("dist.bj")).get_json()
    assert [a["code"] for a in body["items"]] == ["DL-BJ001", "DL-BJ002", "DL-BJ003", "DL-BJ004", "DL-BJ005"]
    rest = client.get(body["next"], headers=token("dist.bj")).get_json()
    assert [a["code"] for a in rest["items"]] == ["DL-BJ006", "GD-BJ01"] and rest["next"] is None
    one = client.get("/api/v1/accounts/GD-BJ01", headers=token("dist.bj")).get_json()
    assert one == {"code": "GD-BJ01", "name": "北京鑫源商贸有限公司", "kind": "distributor", "region": "BJ",
                   "supplier": None, "credit_limit": "800000.00", "payment_terms_days": 30,
                   "status": "active", "balance": "0.00"}
    dealer = client.get("/api/v1/accounts/DL-BJ001", headers=token("dist.bj")).get_json()
    assert dealer["supplier"] == "GD-BJ01" and dealer["kind"] == "dealer"
    assert client.get("/api/v1/accounts/GD-SH01", headers=token("dist.bj")).status_code == 404
    assert client.get("/api/v1/accounts/NOPE", headers=token("dist.bj")).status_code == 404
    assert client.get("/api/v1/accounts?page=x", headers=token("dist.bj")).status_code == 422


def test_post_replay_and_conflict(app, client, token):
    doc = {"kind": "shipment", "account": "GD-BJ01", "date": ON, "external_ref": "ERP-77",
           "lines": [{"product": "P-W550", "quantity": 10, "unit_price": "28.80"},
                     {"product": "P-GT500", "quantity": 2}], "memo": "首批"}
    first = client.post("/api/v1/documents", json=doc, headers=token("finance"))
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert body["amount"] == "378.00" and body["number"].startswith(f"FH-{TODAY.year}-")
    assert body["lines"][1] == {"product": "P-GT500", "quantity": 2, "unit_price": "45.00", "amount": "90.00"}
    again = client.post("/api/v1/documents", json=doc, headers=token("finance"))
    assert again.status_code == 200 and again.get_json()["number"] == body["number"]
    assert _counts(app) == (1, 1)
    changed = dict(doc, lines=[{"product": "P-W550", "quantity": 11, "unit_price": "28.80"}])
    conflict = client.post("/api/v1/documents", json=changed, headers=token("finance"))
    assert conflict.status_code == 409
    assert conflict.get_json()["differences"] == ["amount", "lines"]
    assert body["number"] in conflict.get_json()["message"]
    # the same reference one tier down is another supplier's: a different document
    dealer = dict(doc, account="DL-BJ001")
    assert client.post("/api/v1/documents", json=dealer, headers=token("dist.bj")).status_code == 201
    shown = client.get(f"/api/v1/documents/{body['number']}", headers=token("finance")).get_json()
    assert shown == body
    assert client.get(f"/api/v1/documents/{body['number']}", headers=token("dist.sh")).status_code == 404


BAD = [
    ({"amount": "-1"}, "amount"), ({"amount": "0"}, "amount"), ({"amount": "1.005"}, "amount"),
    ({"amount": "NaN"}, "amount"), ({"amount": "sNaN"}, "amount"), ({"amount": "Infinity"}, "amount"),
    ({"amount": "1e309"}, "amount"), ({"amount": "1,000.00"}, "amount"),
    ({"amount": "12345678901234567890"}, "amount"), ({"amount": 12.5}, "amount"), ({"amount": None}, "amount"),
    ({"account": "GD-SH01"}, "account"), ({"account": "NOPE"}, "account"), ({"account": 7}, "account"),
    ({"date": "2026-13-01"}, "date"), ({"date": "01/02/2026"}, "date"), ({"date": None}, "date"),
    ({"kind": "gift"}, "kind"), ({"payment_method": "bitcoin"}, "payment_method"),
    ({"status": "posted"}, "status"), ({"number": "HK-2026-999999"}, "number"),
    ({"posted_by": "admin"}, "posted_by"), ({"lines": [{"product": "P-W550", "quantity": 1}]}, "lines"),
]


@pytest.mark.parametrize("change, field", BAD, ids=[f"{k}={v!r}" for c, _ in BAD for k, v in c.items()])
def test_bad_input_is_refused_and_posts_nothing(app, client, token, change, field):
    doc = dict({"kind": "payment", "account": "GD-BJ01", "date": ON, "amount": "100.00",
                "payment_method": "bank_transfer"}, **change)
    resp = client.post("/api/v1/documents", json=doc, headers=token("dist.bj" if field == "account" else "finance"))
    assert resp.status_code == 422, resp.get_json()
    assert resp.get_json()["field"] == field and resp.get_json()["message"]
    assert _counts(app) == (0, 0)


@pytest.mark.parametrize("quantity", [0, -1, True, "3", 2.5])
def test_bad_quantities(app, client, token, quantity):
    doc = {"kind": "shipment", "account": "GD-BJ01", "date": ON,
           "lines": [{"product": "P-W550", "quantity": quantity}]}
    resp = client.post("/api/v1/documents", json=doc, headers=token("finance"))
    assert resp.status_code == 422 and resp.get_json()["field"] == "lines[0].quantity"
    assert _counts(app) == (0, 0)


def test_not_json_and_not_allowed(app, client, token):
    assert client.post("/api/v1/documents", data="x", headers=token("finance")).status_code == 400
    doc = {"kind": "payment", "account": "GD-BJ01", "date": ON, "amount": "1.00", "payment_method": "cash"}
    # a supervisor sees the account but does not keep its ledger
    assert client.post("/api/v1/documents", json=doc, headers=token("sup.north")).status_code == 403
    # a distributor keeps its dealers' ledgers, not its own with the company
    mine = dict(doc, account="DL-BJ002")
    assert client.post("/api/v1/documents", json=mine, headers=token("dist.bj")).status_code == 201
    assert client.post("/api/v1/documents", json=dict(doc), headers=token("dist.bj")).status_code == 403
    assert _counts(app) == (1, 1)


def test_credit_limit_refusal_and_override(app, client, token):
    doc = {"kind": "shipment", "account": "DL-BJ005", "date": ON,  # limit ¥30,000.00
           "lines": [{"product": "P-EN250", "quantity": 251}]}     # 251 x ¥120.00 = ¥30,120.00
    refused = client.post("/api/v1/documents", json=doc, headers=token("dist.bj"))
    assert refused.status_code == 422 and refused.get_json()["field"] == "amount"
    message = refused.get_json()["message"]
    assert "¥30,000.00" in message and "¥0.00" in message and "¥120.00" in message
    ok = client.post("/api/v1/documents", json=dict(doc, override_reason="春节备货，老板批准"), headers=token("dist.bj"))
    assert ok.status_code == 201
    assert client.get("/api/v1/accounts/DL-BJ005", headers=token("dist.bj")).get_json()["balance"] == "30120.00"


def test_reverse_statement_and_close(app, client, token):
    fin = token("finance")
    last_month_day = TODAY.replace(day=1).replace(day=1)
    prev = (last_month_day.replace(day=1) - __import__("datetime").timedelta(days=1)).replace(day=5)
    posted = client.post("/api/v1/documents", json={
        "kind": "payment", "account": "GD-TJ01", "date": prev.isoformat(), "amount": "5000.00",
        "payment_method": "acceptance_bill", "bank_ref": "CDHP-1"}, headers=fin).get_json()
    period = prev.strftime("%Y-%m")
    st = client.get(f"/api/v1/accounts/GD-TJ01/statement?period={period}", headers=fin).get_json()
    assert st["opening"] == "0.00" and st["closing"] == "-5000.00" and st["totals"]["payment"] == "-5000.00"
    assert st["entries"][0]["credit"] == "5000.00" and st["entries"][0]["balance"] == "-5000.00"
    assert client.post(f"/api/v1/periods/{period}/close", headers=token("sup.north")).status_code == 403
    closed = client.post(f"/api/v1/periods/{period}/close", headers=fin)
    assert closed.status_code == 200 and closed.get_json() == {"period": period, "status": "closed"}
    again = client.post(f"/api/v1/periods/{period}/close", headers=fin)
    assert again.status_code == 422
    into_closed = client.post("/api/v1/documents", json={
        "kind": "payment", "account": "GD-TJ01", "date": prev.isoformat(), "amount": "1.00",
        "payment_method": "cash"}, headers=fin)
    assert into_closed.status_code == 422 and into_closed.get_json()["field"] == "date"
    rev = client.post(f"/api/v1/documents/{posted['number']}/reverse", json={"reason": "票据退回"}, headers=fin)
    assert rev.status_code == 201
    assert rev.get_json()["reversal_of"] == posted["number"] and rev.get_json()["direction"] == "debit"
    twice = client.post(f"/api/v1/documents/{posted['number']}/reverse", json={"reason": "again"}, headers=fin)
    assert twice.status_code == 422
    assert client.post(f"/api/v1/documents/{posted['number']}/reverse", json={}, headers=fin).status_code == 422
    assert client.get("/api/v1/accounts/GD-TJ01", headers=fin).get_json()["balance"] == "0.00"
    assert client.get("/api/v1/accounts/GD-TJ01/statement?period=2026-3", headers=fin).status_code == 422
