"""/api/v1 reconciliation (对账) on SQLite and PostgreSQL: issuing, scope, confirming with the
hash of what was shown, disputing, answering (explain or correct) and the re-issue; and the
policy payout fields of POST /documents.

The ledger is tests/reconciliation's March 2026 (closed on 2 April, which issued the company's
statements): GD-BJ01 opening 1,000.00, shipment 2,000.00, payment 1,500.00, closing 1,500.00."""
from datetime import date

import pytest
from sqlalchemy import func, select


from channel.auth.services import find_user
from channel.extensions import db
from channel.ledger.models import Document
from channel.reconciliation import services as rs
from channel.reconciliation.models import ReconciliationEvent
from tests.ledger import LineInput, post, product, user, yuan
from tests.reconciliation import march_ledger, rec_of

TODAY = date(2026, 4, 5)  # the business day of these tests: March is closed, April open
R = "/api/v1/reconciliations"


@pytest.fixture
def march(app, monkeypatch):
    """The March ledger, plus a March shipment of 上海's dealer DL-SH001 so that 上海 has a
    dealer statement to issue."""
    monkeypatch.setattr(rs, "business_today", lambda: TODAY)
    with app.app_context():
        post(kind="shipment", account="DL-SH001", on=date(2026, 3, 12),
             lines=[LineInput(product("P-W550"), 5, yuan("20.00"))], by=user("dist.sh"))
        march_ledger()
    return app


def _events(app, code):
    with app.app_context():
        rec = rec_of(code)
        return db.session.execute(select(func.count()).select_from(ReconciliationEvent).where(
            ReconciliationEvent.reconciliation_id == rec.id)).scalar_one()


def _codes(client, headers, query=""):
    resp = client.get(f"{R}{query}", headers=headers)
    assert resp.status_code == 200, resp.get_json()
    return [r["account"] for r in resp.get_json()["reconciliations"]]


def test_issue_a_closed_month_not_an_open_one(march, client, token):
    fin, bj = token("finance"), token("dist.bj")
    # Closing March issued the company's statements already: issuing again changes nothing.
    resp = client.post(f"{R}/issue", json={"period": "2026-03"}, headers=fin)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {"issued": [], "reissued": [], "unchanged": ["GD-BJ01", "GD-SH01"], "confirmed": []}
    # A distributor issues its dealers' (those with something to reconcile).
    first = client.post(f"{R}/issue", json={"period": "2026-03"}, headers=bj).get_json()
    assert first == {"issued": ["DL-BJ001"], "reissued": [], "unchanged": [], "confirmed": []}
    again = client.post(f"{R}/issue", json={"period": "2026-03", "accounts": ["DL-BJ001"]}, headers=bj).get_json()
    assert again["unchanged"] == ["DL-BJ001"] and again["issued"] == []
    # April is open.
    open_month = client.post(f"{R}/issue", json={"period": "2026-04"}, headers=fin)
    assert open_month.status_code == 422 and open_month.get_json()["field"] == "period"
    assert "2026-04" in open_month.get_json()["message"]
    for body, who, status, field in [
        ({"period": "2026-3"}, fin, 422, "period"),
        ({"period": "2026-03", "force": True}, fin, 422, "force"),
        ({"period": "2026-03", "accounts": []}, fin, 422, "accounts"),
        ({"period": "2026-03", "accounts": ["DL-SH001"]}, bj, 404, "accounts[0]"),  # not 北京's
        ({"period": "2026-03", "accounts": ["DL-BJ001", "NOPE"]}, bj, 404, "accounts[1]"),
        ({"period": "2026-03", "accounts": ["GD-BJ01"]}, bj, 403, "accounts[0]"),  # its own: the company's
        ({"period": "2026-03", "accounts": ["DL-BJ001"]}, fin, 403, "accounts[0]"),  # 北京's to issue
    ]:
        resp = client.post(f"{R}/issue", json=body, headers=who)
        assert (resp.status_code, resp.get_json()["field"]) == (status, field), body
    assert client.post(f"{R}/issue", json={"period": "2026-03"}, headers=token("sup.north")).status_code == 403
    with march.app_context():
        assert rec_of("DL-SH001") is None


def test_lists_and_statements_are_scoped(march, client, token):
    assert client.post(f"{R}/issue", json={"period": "2026-03"}, headers=token("dist.bj")).status_code == 200
    assert client.post(f"{R}/issue", json={"period": "2026-03"}, headers=token("dist.sh")).status_code == 200
    fin, bj = token("finance"), token("dist.bj")
    assert _codes(client, fin, "?period=2026-03") == ["DL-BJ001", "DL-SH001", "GD-BJ01", "GD-SH01"]
    assert _codes(client, bj) == ["DL-BJ001", "GD-BJ01"]  # its own and its dealers', never 上海's
    assert _codes(client, token("dist.sh")) == ["DL-SH001", "GD-SH01"]
    assert _codes(client, token("sup.north")) == ["DL-BJ001", "GD-BJ01"]
    assert client.get(R, headers=token("rep.beijing")).status_code == 403
    assert _codes(client, bj, "?account=DL-BJ001") == ["DL-BJ001"]
    assert _codes(client, bj, "?status=confirmed") == [] and _codes(client, bj, "?period=2026-02") == []
    for query, field in (("?account=GD-SH01", "account"), ("?status=late", "status"), ("?period=2026-3", "period")):
        resp = client.get(f"{R}{query}", headers=bj)
        assert (resp.status_code, resp.get_json()["field"]) == (422, field)

    one = client.get(f"{R}?account=GD-BJ01", headers=bj).get_json()["reconciliations"][0]
    with march.app_context():
        rec = rec_of("GD-BJ01")
        assert one == {"account": "GD-BJ01", "supplier": None, "period": "2026-03", "status": "issued", "version": 1,
                       "content_hash": rec.content_hash, "opening": "0.00", "closing": "1500.00",
                       "agreed": "1500.00", "issued_on": "2026-04-02", "due_on": "2026-04-12",
                       "url": "/api/v1/reconciliations/GD-BJ01/2026-03"}
    shown = client.get(one["url"], headers=bj).get_json()
    assert [(ln["kind"], ln["debit"], ln["credit"], ln["balance"]) for ln in shown["lines"]] == [
        ("opening", "1000.00", "0.00", "1000.00"), ("shipment", "2000.00", "0.00", "3000.00"),
        ("payment", "0.00", "1500.00", "1500.00")]
    assert shown["corrections"] == [] and shown["disputes"] == [] and shown["changed_since_issue"] is False
    dealer = client.get(f"{R}/DL-BJ001/2026-03", headers=bj).get_json()
    assert dealer["supplier"] == "GD-BJ01" and dealer["closing"] == "300.00"
    # Another distributor's statements, and statements that do not exist, are not found.
    for url in (f"{R}/DL-SH001/2026-03", f"{R}/GD-SH01/2026-03", f"{R}/GD-BJ01/2026-04", f"{R}/GD-BJ01/2026-3",
                f"{R}/NOPE/2026-03"):
        assert client.get(url, headers=bj).status_code == 404, url
    assert client.get(f"{R}/GD-BJ01/2026-03", headers=token("rep.beijing")).status_code == 404


def test_overdue_is_shown_and_filtered(march, client, token, monkeypatch):
    monkeypatch.setattr(rs, "business_today", lambda: date(2026, 4, 13))  # due 12 April
    bj = token("dist.bj")
    assert client.get(f"{R}/GD-BJ01/2026-03", headers=bj).get_json()["status"] == "overdue"
    assert _codes(client, bj, "?status=overdue") == ["GD-BJ01"]
    assert _codes(client, bj, "?status=issued") == []


def test_confirm_with_the_hash_shown(march, client, token):
    bj = token("dist.bj")
    url = f"{R}/GD-BJ01/2026-03"
    shown = client.get(url, headers=bj).get_json()["content_hash"]
    before = _events(march, "GD-BJ01")
    stale = client.post(f"{url}/confirm", json={"hash": "0" * 64}, headers=bj)
    assert stale.status_code == 409
    assert stale.get_json()["current_hash"] == shown and stale.get_json()["message"]
    assert client.get(url, headers=bj).get_json()["status"] == "issued" and _events(march, "GD-BJ01") == before
    assert client.post(f"{url}/confirm", json={}, headers=bj).get_json()["field"] == "hash"
    assert client.post(f"{url}/confirm", json={"hash": shown, "ip": "1.2.3.4"}, headers=bj).status_code == 422
    # Only the account answers its own statement (finance records answers for dealers only).
    assert client.post(f"{url}/confirm", json={"hash": shown}, headers=token("finance")).status_code == 403
    assert client.post(f"{url}/confirm", json={"hash": shown}, headers=token("dist.sh")).status_code == 404
    ok = client.post(f"{url}/confirm", json={"hash": shown}, headers=bj)
    assert ok.status_code == 200, ok.get_json()
    body = ok.get_json()
    assert body["status"] == "confirmed" and body["confirmed_hash"] == shown
    with march.app_context():
        assert body["confirmed_by"] == find_user("dist.bj").full_name and body["confirmed_at"]
        assert rec_of("GD-BJ01").confirmed_ip == "127.0.0.1"
    again = client.post(f"{url}/confirm", json={"hash": shown}, headers=bj)
    assert again.status_code == 422 and "already confirmed" in again.get_json()["message"]


def test_a_dealer_answer_is_recorded_by_its_distributor(march, client, token):
    bj = token("dist.bj")
    client.post(f"{R}/issue", json={"period": "2026-03"}, headers=bj)
    shown = client.get(f"{R}/DL-BJ001/2026-03", headers=bj).get_json()["content_hash"]
    ok = client.post(f"{R}/DL-BJ001/2026-03/confirm", json={"hash": shown, "signed_by": "张伟"}, headers=bj)
    assert ok.status_code == 200 and ok.get_json()["confirmed_by"] == "张伟"


def test_dispute_answer_and_reissue(march, client, token):
    """GD-BJ01 disputes the shipment and names a missing credit note of 86.00. The supervisor
    explains the credit note (it may not correct); finance corrects the shipment with a credit
    adjustment of 200.00 in April: version 2, agreed 1,300.00, and the old hash is stale."""
    bj, fin, sup = token("dist.bj"), token("finance"), token("sup.north")
    url = f"{R}/GD-BJ01/2026-03"
    shown = client.get(url, headers=bj).get_json()
    shipment = next(ln["number"] for ln in shown["lines"] if ln["kind"] == "shipment")
    with march.app_context():
        other = db.session.execute(select(Document.number).join(Document.account).where(
            Document.kind == "shipment", Document.account.has(code="GD-SH01"))).scalar_one()
    for lines, field in [
        ([{"document": "FH-2026-999999", "reason": "不认"}], "lines[0].document"),
        ([{"document": other, "reason": "不认"}], "lines[0].document"),  # another account's: as unknown
        ([{"document": shipment, "reason": " "}], "lines[0].reason"),
        ([{"document": shipment, "reason": "x", "note": "y"}], "lines[0].note"),
        ([{"reason": "x"}], "lines[0]"),
        ([{"missing": {"amount": "-1"}, "reason": "x"}], "lines[0].missing.amount"),
        ([{"document": shipment, "reason": "a"}, {"document": shipment, "reason": "b"}], "lines[1].document"),
        ([], "lines"),
    ]:
        resp = client.post(f"{url}/dispute", json={"hash": shown["content_hash"], "lines": lines}, headers=bj)
        assert (resp.status_code, resp.get_json()["field"]) == (422, field), (lines, resp.get_json())
        if "document" in field and "999999" in str(lines):
            assert "FH-2026-999999" in resp.get_json()["message"]
    stale = client.post(f"{url}/dispute", json={"hash": "f" * 64, "lines": [{"document": shipment, "reason": "x"}]},
                        headers=bj)
    assert stale.status_code == 409 and stale.get_json()["current_hash"] == shown["content_hash"]
    assert client.get(url, headers=bj).get_json()["status"] == "issued"

    resp = client.post(f"{url}/dispute", headers=bj, json={
        "hash": shown["content_hash"], "note": "其余无误",
        "lines": [{"document": shipment, "reason": "实收 90 箱"},
                  {"missing": {"date": "2026-03-28", "amount": "86.00", "ref": "PS-0931"}, "reason": "破损补偿未入账"}]})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["reconciliation"]["status"] == "disputed"
    ship_item, missing_item = body["disputes"]
    assert ship_item["document"] == shipment and ship_item["missing"] is None and ship_item["status"] == "open"
    assert missing_item["document"] is None
    assert missing_item["missing"] == {"date": "2026-03-28", "amount": "86.00", "ref": "PS-0931"}
    # While disputed, nobody confirms it.
    assert client.post(f"{url}/confirm", json={"hash": shown["content_hash"]}, headers=bj).status_code == 422

    answer = "/api/v1/disputes/{}/answer".format
    # The supervisor of 华北 explains, but may not correct; 华南's does not see it; the account
    # itself does not answer its own dispute.
    assert client.post(answer(missing_item["id"]), json={"message": "x", "adjustment": {
        "amount": "86.00", "direction": "credit"}}, headers=sup).status_code == 403
    assert client.post(answer(missing_item["id"]), json={"message": "x"}, headers=token("sup.south")).status_code == 404
    assert client.post(answer(missing_item["id"]), json={"message": "x"}, headers=bj).status_code == 403
    assert client.post(answer(999999), json={"message": "x"}, headers=fin).status_code == 404
    explained = client.post(answer(missing_item["id"]), json={"message": "补偿在四月入账"}, headers=sup)
    assert explained.status_code == 200, explained.get_json()
    assert explained.get_json()["dispute"]["status"] == "explained"
    assert explained.get_json()["reconciliation"]["status"] == "disputed"
    again = client.post(answer(missing_item["id"]), json={"message": "again"}, headers=fin)
    assert again.status_code == 422

    # Refusals change nothing: a correction into closed March, a bad adjustment, no message.
    adjustment = {"amount": "200.00", "direction": "credit"}
    for body, field in [
        ({"message": "x", "adjustment": adjustment, "date": "2026-03-31"}, "date"),
        ({"message": "x", "adjustment": {"amount": "200.00", "direction": "up"}}, "adjustment.direction"),
        ({"message": "x", "adjustment": {"amount": "0.00", "direction": "credit"}}, "adjustment.amount"),
        ({"message": "x", "reverse": "yes"}, "reverse"),
        ({"adjustment": adjustment}, "message"),
        ({"message": "x", "by": "admin"}, "by"),
    ]:
        resp = client.post(answer(ship_item["id"]), json=body, headers=fin)
        assert (resp.status_code, resp.get_json().get("field")) == (422, field), (body, resp.get_json())
    assert client.get(url, headers=fin).get_json()["disputes"][0]["status"] == "open"

    corrected = client.post(answer(ship_item["id"]), headers=fin, json={
        "message": "实收 90 箱，冲减 200.00", "adjustment": adjustment, "date": "2026-04-03"})
    assert corrected.status_code == 200, corrected.get_json()
    rec = corrected.get_json()["reconciliation"]
    assert (rec["status"], rec["version"], rec["closing"], rec["agreed"]) == ("issued", 2, "1500.00", "1300.00")
    assert rec["content_hash"] != shown["content_hash"] and rec["issued_on"] == TODAY.isoformat()
    fix = corrected.get_json()["dispute"]["corrections"]
    assert len(fix) == 1 and fix[0].startswith("TZ-2026-")
    now = client.get(url, headers=bj).get_json()
    assert now["corrections"] == [{"date": "2026-04-03", "number": fix[0], "kind": "adjustment",
                                   "debit": "0.00", "credit": "200.00"}]
    assert [d["status"] for d in now["disputes"]] == ["corrected", "explained"]

    old = client.post(f"{url}/confirm", json={"hash": shown["content_hash"]}, headers=bj)
    assert old.status_code == 409 and old.get_json()["current_hash"] == rec["content_hash"]
    new = client.post(f"{url}/confirm", json={"hash": rec["content_hash"]}, headers=bj)
    assert new.status_code == 200 and new.get_json()["status"] == "confirmed"
    assert new.get_json()["agreed"] == "1300.00"


def test_policy_payouts_through_documents(app, client, token):
    """The company credits 北京 3,000.00 for its dealer DL-BJ001; 北京 passes 1,800.00 on, and
    cannot pass on more than the 1,200.00 left."""
    fin, bj = token("finance"), token("dist.bj")
    on = date.today().replace(day=1).isoformat()  # the current month is open
    rebate = {"kind": "rebate", "account": "GD-BJ01", "date": on, "amount": "3000.00"}
    payout = client.post("/api/v1/documents", json=dict(rebate, for_account="DL-BJ001"), headers=fin)
    assert payout.status_code == 201, payout.get_json()
    number = payout.get_json()["number"]
    assert payout.get_json()["for_account"] == "DL-BJ001" and "passes_on" not in payout.get_json()
    assert client.get(f"/api/v1/documents/{number}", headers=bj).get_json()["for_account"] == "DL-BJ001"

    pass_on = {"kind": "rebate", "account": "DL-BJ001", "date": on, "passes_on": number}
    passed = client.post("/api/v1/documents", json=dict(pass_on, amount="1800.00"), headers=bj)
    assert passed.status_code == 201, passed.get_json()
    assert passed.get_json()["passes_on"] == number and "for_account" not in passed.get_json()
    too_much = client.post("/api/v1/documents", json=dict(pass_on, amount="1200.01"), headers=bj)
    assert too_much.status_code == 422 and too_much.get_json()["field"] == "amount"
    assert "1,200.00" in too_much.get_json()["message"]

    plain = client.post("/api/v1/documents", headers=fin, json={
        "kind": "payment", "account": "GD-TJ01", "date": on, "amount": "1.00", "payment_method": "cash"})
    assert "for_account" not in plain.get_json() and "passes_on" not in plain.get_json()
    for body, who, field in [
        (dict(rebate, for_account="DL-SH001"), fin, "for_account"),  # not 北京's dealer
        (dict(rebate, kind="payment", payment_method="cash", for_account="DL-BJ001"), fin, "kind"),
        (dict(rebate, for_account="NOPE"), fin, "for_account"),
        (dict(pass_on, amount="1.00", passes_on="FL-2026-999999"), bj, "passes_on"),
        (dict(pass_on, account="DL-BJ002", amount="1.00"), bj, "passes_on"),  # meant for DL-BJ001
        ({"kind": "rebate", "account": "DL-SH001", "date": on, "amount": "1.00", "passes_on": number},
         token("dist.sh"), "passes_on"),  # 上海 does not see 北京's payout
    ]:
        resp = client.post("/api/v1/documents", json=body, headers=who)
        assert (resp.status_code, resp.get_json().get("field")) == (422, field), (body, resp.get_json())
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Document)).scalar_one() == 3
