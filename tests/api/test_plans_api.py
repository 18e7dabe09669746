"""/api/v1/plans on SQLite and PostgreSQL: a plan from draft to a supervisor's change after it
locked (history, versions), the actual figures equal to the ledger's (returns and reversals net
out), the list and its filters, plan versus actual per account with totals, scope (404 outside
it, 403 for a role or a plan rule about who acts), every refusal with its code, bad input (float
amounts, unknown fields: nothing written) and stale versions.

The plans are DL-BJ001's (北京: drafted by rep.beijing, supervised by sup.north) for 11-20 March
2026 (tests/plans: PERIOD); "today" is set through services.business_today."""
from datetime import date

import pytest
from sqlalchemy import func, select

from channel.extensions import db
from channel.plans import services as ps
from channel.plans.models import Plan, PlanEvent, PlanVersion
from tests.ledger import account, post, reverse, user, written, yuan
from tests.plans import BEFORE, DURING, PERIOD, pay, plan_input, saved, ship

P = "/api/v1/plans"
URL = f"{P}/DL-BJ001/{PERIOD}"
AFTER = date(2026, 3, 25)  # the period is over
NEW = {"lines": [{"product": "P-W550", "quantity": 100},
                 {"product": "P-GT500", "quantity": 20, "unit_price": "40.00"}],
       "stock": [{"product": "P-W550", "stock": 35, "sellout": 80}],
       "payment": "3000.00", "payment_on": "2026-03-15", "competitor_notes": "竞品降价 5%", "problems": ""}


@pytest.fixture
def today(monkeypatch):
    """today(day): the business day of the services (and so of the API) from now on."""
    def _set(day):
        monkeypatch.setattr(ps, "business_today", lambda: day)
    _set(BEFORE)
    return _set


def _ok(resp, status=200):
    assert resp.status_code == status, resp.get_json()
    return resp.get_json()


def _refused(resp, status, code=None, field=None):
    body = resp.get_json()
    assert resp.status_code == status, body
    assert body["message"], body
    if code is not None:
        assert body.get("code") == code, body
        assert body["message"] != code
    if field is not None:
        assert body.get("field") == field, body
    return body


def _counts(app):
    with app.app_context():
        return tuple(db.session.execute(select(func.count()).select_from(model)).scalar_one()
                     for model in (Plan, PlanEvent, PlanVersion))


# --- the flow -------------------------------------------------------------------------------------

def test_a_plan_from_draft_to_a_change_after_the_lock(app, client, token, today):
    rep, sup = token("rep.beijing"), token("sup.north")
    body = _ok(client.put(URL, json=NEW, headers=rep), 201)
    assert (body["account"], body["period"], body["status"], body["version"]) == ("DL-BJ001", "2026-03-2", "draft", 1)
    assert (body["start"], body["end"], body["region"], body["locked"]) == ("2026-03-11", "2026-03-20", "BJ", False)
    assert body["lines"] == [
        {"product": "P-W550", "quantity": 100, "unit_price": "28.80", "amount": "2880.00"},  # list price
        {"product": "P-GT500", "quantity": 20, "unit_price": "40.00", "amount": "800.00"}]
    assert body["stock"] == [{"product": "P-W550", "stock": 35, "sellout": 80}]
    assert (body["quantity"], body["shipment"], body["payment"], body["payment_on"]) == (120, "3680.00", "3000.00",
                                                                                         "2026-03-15")
    assert (body["competitor_notes"], body["problems"]) == ("竞品降价 5%", "")
    assert body["drafted_by"] == {"username": "rep.beijing", "name": body["drafted_by"]["name"]}
    assert body["actions"] == ["edit", "submit"] and body["history"] == [] and body["versions"] == []
    assert body["actual"] == {"quantity": 0, "shipment": "0.00", "payment": "0.00", "lines": []}
    assert body["achievement"]["shipment_pct"] == "0.0" and body["achievement"]["gap"] == "3680.00"

    # PUT replaces the content: what is left out is gone.
    body = _ok(client.put(URL, json={"lines": [{"product": "P-W550", "quantity": 90}]}, headers=rep))
    assert [ln["quantity"] for ln in body["lines"]] == [90] and body["stock"] == [] and body["payment"] == "0.00"
    body = _ok(client.put(URL, json=NEW, headers=rep))
    assert body["shipment"] == "3680.00"

    # The supervisor sees what they may do; the rep submits, the supervisor approves.
    assert _ok(client.get(URL, headers=sup))["actions"] == ["edit"]
    body = _ok(client.post(f"{URL}/submit", json={"version": 1}, headers=rep))
    assert (body["status"], body["actions"]) == ("submitted", [])
    assert _ok(client.get(URL, headers=sup))["actions"] == ["edit", "approve", "send-back"]
    body = _ok(client.post(f"{URL}/approve", json={"comment": "同意"}, headers=sup))
    assert body["status"] == "approved" and body["approved_by"]["username"] == "sup.north"
    assert body["locked"] is False and body["actions"] == ["send-back"]

    # The period starts: the plan is locked; only the supervisor changes it, with a reason.
    today(DURING)
    body = _ok(client.get(URL, headers=rep))
    assert body["locked"] is True and body["actions"] == ["variance-note"]
    _refused(client.put(URL, json=NEW, headers=rep), 422, "locked")
    _refused(client.post(f"{URL}/send-back", json={"comment": "x"}, headers=sup), 422, "locked")
    change = {**NEW, "lines": [{"product": "P-W550", "quantity": 80}], "reason": "库存偏高"}
    _refused(client.post(f"{URL}/change", json={**change, "reason": "  "}, headers=sup), 422, "reason_required",
             "reason")
    _refused(client.post(f"{URL}/change", json=change, headers=rep), 403)  # not a supervisor's role
    body = _ok(client.post(f"{URL}/change", json={**change, "version": 1}, headers=sup))
    assert (body["status"], body["version"], body["shipment"]) == ("approved", 2, "2304.00")
    assert len(body["versions"]) == 1
    kept = body["versions"][0]
    assert (kept["version"], kept["reason"], kept["by"]["username"]) == (2, "库存偏高", "sup.north")
    assert kept["replaced"]["lines"] == [
        {"product": "P-W550", "quantity": 100, "unit_price": "28.80", "amount": "2880.00"},
        {"product": "P-GT500", "quantity": 20, "unit_price": "40.00", "amount": "800.00"}]
    assert kept["replaced"]["payment"] == "3000.00" and kept["replaced"]["stock"][0]["stock"] == 35
    assert [(e["action"], e["from"], e["to"], e["by"]["username"], e["comment"]) for e in body["history"]] == [
        ("submit", "draft", "submitted", "rep.beijing", None), ("approve", "submitted", "approved", "sup.north", "同意"),
        ("change", "approved", "approved", "sup.north", "库存偏高")]
    # A change from a client that saw version 1: stale, nothing recorded.
    before = _counts(app)
    stale = _refused(client.post(f"{URL}/change", json={**change, "version": 1}, headers=sup), 409, "stale", "version")
    assert (stale["current_version"], stale["status"]) == (2, "approved")
    assert _counts(app) == before

    # The ledger moves: the actual figures are the ledger's, and the variance note is written.
    with app.app_context():
        ship("DL-BJ001", date(2026, 3, 12), ("P-W550", 60, 2880), ("P-CL330", 5, 5280))  # P-CL330 not planned
        ship("DL-BJ001", date(2026, 3, 14), ("P-W550", 10, 2880), kind="return")
        wrong = ship("DL-BJ001", date(2026, 3, 13), ("P-W550", 7, 2880)).document
        reverse(wrong, on=date(2026, 3, 14))
        pay("DL-BJ001", date(2026, 3, 16), yuan("1500.00"))
        ship("DL-BJ001", date(2026, 3, 21), ("P-W550", 3, 2880))  # the next period
    body = _ok(client.get(URL, headers=rep))
    assert body["achievement"]["needs_variance_note"] is False  # asked for once the period is over
    today(AFTER)
    body = _ok(client.get(URL, headers=rep))
    assert body["actual"] == {"quantity": 50, "shipment": "1704.00", "payment": "1500.00",
                              "lines": [{"product": "P-CL330", "quantity": 5}, {"product": "P-W550", "quantity": 50}]}
    assert body["achievement"] == {"quantity_pct": "62.5", "shipment_pct": "74.0", "payment_pct": "50.0",
                                   "gap": "600.00", "needs_variance_note": True}
    body = _ok(client.post(f"{URL}/variance-note", json={"note": "  竞品促销，终端动销慢 "}, headers=rep))
    assert body["variance_note"] == "竞品促销，终端动销慢" and body["variance_by"]["username"] == "rep.beijing"


def test_sending_back_and_resubmitting(app, client, token, today):
    rep, sup = token("rep.beijing"), token("sup.north")
    _ok(client.put(URL, json=NEW, headers=rep), 201)
    _ok(client.post(f"{URL}/submit", json={}, headers=rep))
    # The supervisor may edit a submitted plan before deciding.
    body = _ok(client.put(URL, json={**NEW, "payment": "2500.00"}, headers=sup))
    assert body["payment"] == "2500.00" and body["status"] == "submitted"
    _refused(client.post(f"{URL}/send-back", json={}, headers=sup), 422, "comment_required", "comment")
    body = _ok(client.post(f"{URL}/send-back", json={"comment": "回款计划偏低"}, headers=sup))
    assert body["status"] == "draft" and body["history"][-1]["comment"] == "回款计划偏低"
    _ok(client.post(f"{URL}/submit", json={}, headers=rep))
    _ok(client.post(f"{URL}/approve", json={}, headers=sup))
    # Approved but not yet started: sent back to be edited.
    _refused(client.put(URL, json=NEW, headers=rep), 422, "approved_send_back")
    assert _ok(client.post(f"{URL}/send-back", json={"comment": "再调整"}, headers=sup))["status"] == "draft"
    assert [e["action"] for e in _ok(client.get(URL, headers=rep))["history"]] == [
        "submit", "send_back", "submit", "approve", "send_back"]


def test_each_refused_step_says_why(app, client, token, today):
    rep, sup, admin, fin = token("rep.beijing"), token("sup.north"), token("admin"), token("finance")
    _ok(client.put(URL, json=NEW, headers=rep), 201)
    before = _counts(app)
    _refused(client.post(f"{URL}/approve", json={}, headers=sup), 422, "not_submitted")
    _refused(client.post(f"{URL}/send-back", json={"comment": "x"}, headers=sup), 422, "not_submitted")
    _refused(client.post(f"{URL}/change", json={**NEW, "reason": "x"}, headers=sup), 422, "not_locked")
    _refused(client.post(f"{URL}/variance-note", json={"note": "x"}, headers=rep), 422, "period_not_started")
    _refused(client.post(f"{URL}/approve", json={}, headers=rep), 403)  # a field rep never approves
    _refused(client.post(f"{URL}/submit", json={}, headers=sup), 403)  # supervisors do not submit
    _refused(client.post(f"{URL}/submit", json={}, headers=fin), 403)
    _refused(client.put(URL, json=NEW, headers=fin), 403)  # finance reads plans only
    _refused(client.post(f"{URL}/variance-note", json={"note": "x"}, headers=fin), 403)
    assert _counts(app) == before
    _ok(client.post(f"{URL}/submit", json={}, headers=rep))
    _refused(client.post(f"{URL}/submit", json={}, headers=rep), 422, "not_a_draft")
    _refused(client.put(URL, json=NEW, headers=rep), 422, "not_a_draft")
    _ok(client.post(f"{URL}/approve", json={"version": 1}, headers=admin))  # admin supervises every region
    _refused(client.post(f"{URL}/approve", json={}, headers=sup), 422, "not_submitted")
    # Once the period is over nothing is drafted any more.
    today(AFTER)
    _refused(client.put(f"{P}/DL-BJ002/{PERIOD}", json=NEW, headers=rep), 422, "period_over")
    with app.app_context():
        assert ps.find(account("DL-BJ002"), PERIOD) is None


# --- scope ----------------------------------------------------------------------------------------

def test_scope_of_field_staff_supervisors_and_distributors(app, client, token, today):
    rep, bj, sup_east = token("rep.beijing"), token("dist.bj"), token("sup.east")
    sh_url = f"{P}/GD-SH01/{PERIOD}"
    _ok(client.put(sh_url, json=NEW, headers=token("rep.shanghai")), 201)
    _ok(client.put(URL, json=NEW, headers=rep), 201)
    # 上海's plan does not exist for 北京's rep: 404 on every path, nothing written.
    before = _counts(app)
    for method, path, body in [("get", sh_url, None), ("put", sh_url, NEW), ("post", f"{sh_url}/submit", {}),
                               ("post", f"{sh_url}/variance-note", {"note": "x"}),
                               ("put", f"{P}/DL-SH001/{PERIOD}", NEW)]:
        resp = getattr(client, method)(path, json=body, headers=rep)
        assert resp.status_code == 404, (method, path)
    _refused(client.post(f"{URL}/approve", json={}, headers=sup_east), 404)
    assert _counts(app) == before
    assert [p["account"] for p in _ok(client.get(P, headers=rep))["items"]] == ["DL-BJ001"]
    assert [p["account"] for p in _ok(client.get(P, headers=sup_east))["items"]] == ["GD-SH01"]
    assert {p["account"] for p in _ok(client.get(P, headers=token("finance")))["items"]} == {"DL-BJ001", "GD-SH01"}
    # Not a period, or no plan: 404.
    _refused(client.get(f"{P}/DL-BJ001/2026-03-4", headers=rep), 404)
    _refused(client.get(f"{P}/DL-BJ002/{PERIOD}", headers=rep), 404)

    # The distributor sees its dealers' plans; it drafts its own only.
    assert _ok(client.get(URL, headers=bj))["actions"] == []
    _refused(client.get(sh_url, headers=bj), 404)
    _refused(client.put(f"{P}/DL-BJ002/{PERIOD}", json=NEW, headers=bj), 403, "not_your_plan")
    _refused(client.post(f"{URL}/approve", json={}, headers=bj), 403)
    body = _ok(client.put(f"{P}/GD-BJ01/{PERIOD}", json=NEW, headers=bj), 201)
    assert body["drafted_by"]["username"] == "dist.bj" and body["actions"] == ["edit", "submit"]
    _ok(client.post(f"{P}/GD-BJ01/{PERIOD}/submit", json={}, headers=bj))
    assert [p["account"] for p in _ok(client.get(P, headers=bj))["items"]] == ["DL-BJ001", "GD-BJ01"]
    assert [p["account"] for p in _ok(client.get(P, headers=token("dist.sh")))["items"]] == ["GD-SH01"]
    # Another region's field staff may see no 北京 account at all.
    _refused(client.get(URL, headers=token("rep.guangdong")), 404)
    # Without a token: 401.
    assert client.get(URL).status_code == 401 and client.put(URL, json=NEW).status_code == 401


# --- input ----------------------------------------------------------------------------------------

def test_bad_input_is_refused_and_nothing_written(app, client, token, today):
    rep = token("rep.beijing")
    before = _counts(app)
    line = NEW["lines"][0]
    for body, status, field in [
        ({**NEW, "payment": 3000.5}, 422, "payment"),  # float amounts are refused
        ({**NEW, "payment": 3000}, 422, "payment"),
        ({**NEW, "payment": "3,000.00"}, 422, "payment"),
        ({**NEW, "payment": "3000.005"}, 422, "payment"),
        ({**NEW, "payment": "-1.00"}, 422, "payment"),
        ({**NEW, "lines": [{**line, "unit_price": 28.8}]}, 422, "lines[0].unit_price"),
        ({**NEW, "lines": [{**line, "quantity": 1.5}]}, 422, "lines[0].quantity"),
        ({**NEW, "lines": [{**line, "quantity": "5"}]}, 422, "lines[0].quantity"),
        ({**NEW, "lines": [{**line, "quantity": True}]}, 422, "lines[0].quantity"),
        ({**NEW, "lines": [{**line, "quantity": 0}]}, 422, "lines[0].quantity"),
        ({**NEW, "lines": [{**line, "amount": "2880.00"}]}, 422, "lines[0].amount"),  # unknown field
        ({**NEW, "lines": [{"product": "NOPE", "quantity": 1}]}, 422, "lines[0].product"),
        ({**NEW, "lines": {"product": "P-W550"}}, 422, "lines"),
        ({**NEW, "lines": ["P-W550"]}, 422, "lines[0]"),
        ({**NEW, "stock": [{"product": "P-W550", "stock": -1}]}, 422, "stock[0].stock"),
        ({**NEW, "stock": [{"product": "P-W550", "sellout": 2.0}]}, 422, "stock[0].sellout"),
        ({**NEW, "stock": [{"product": "P-W550", "on_hand": 2}]}, 422, "stock[0].on_hand"),
        ({**NEW, "status": "approved"}, 422, "status"),  # unknown field
        ({**NEW, "account": "DL-BJ002"}, 422, "account"),
        ({**NEW, "payment_on": "15/03/2026"}, 422, "payment_on"),
        ({**NEW, "competitor_notes": ["x"]}, 422, "competitor_notes"),
        ({**NEW, "problems": "x" * 2001}, 422, "problems"),
        ({**NEW, "version": "1"}, 422, "version"),
    ]:
        _refused(client.put(URL, json=body, headers=rep), status, field=field)
    # The plan rules, with their codes.
    for body, code, field in [
        ({**NEW, "payment_on": "2026-03-21"}, "payment_date_outside_period", "payment_on"),
        ({**NEW, "payment_on": None}, "payment_date_required", "payment_on"),
        ({**NEW, "lines": [line, {"product": "P-W550", "quantity": 5}]}, "product_twice", "lines[1]"),
        ({**NEW, "lines": [{**line, "quantity": 10**8}]}, "out_of_range", "lines[0]"),
    ]:
        _refused(client.put(URL, json=body, headers=rep), 422, code, field)
    assert client.put(URL, data="[]", content_type="application/json", headers=rep).status_code == 400
    assert client.put(URL, data="lines", headers=rep).status_code == 400
    assert _counts(app) == before
    # The action bodies are strict too.
    _ok(client.put(URL, json=NEW, headers=rep), 201)
    _refused(client.post(f"{URL}/submit", json={"comment": "x"}, headers=rep), 422, field="comment")
    _refused(client.post(f"{URL}/variance-note", json={}, headers=rep), 422, field="note")
    _refused(client.post(f"{URL}/approve", json={"reason": "x"}, headers=token("sup.north")), 422, field="reason")
    # A stale version on PUT: 409.
    _refused(client.put(URL, json={**NEW, "version": 2}, headers=rep), 409, "stale", "version")


# --- the list -------------------------------------------------------------------------------------

def test_the_list_filters_and_pages(app, client, token, today):
    with app.app_context():
        for code in ("DL-BJ001", "DL-BJ002", "DL-TJ001"):
            saved(code, plan_input(("P-W550", 10)), username="rep.beijing" if "BJ" in code else "merch.tianjin")
        saved("DL-BJ001", plan_input(("P-W550", 10)), period=PERIOD.prev(), today=date(2026, 3, 1))
        plan = ps.find(account("DL-BJ002"), PERIOD)
        written(ps.submit, plan, by=user("rep.beijing"), today=BEFORE)
        written(ps.approve, plan, by=user("sup.north"), today=BEFORE)
    sup = token("sup.north")

    def listed(query="", headers=sup):
        return [(p["account"], p["period"]) for p in _ok(client.get(P + query, headers=headers))["items"]]

    assert listed() == [("DL-BJ001", "2026-03-2"), ("DL-BJ002", "2026-03-2"), ("DL-TJ001", "2026-03-2"),
                        ("DL-BJ001", "2026-03-1")]
    assert listed(f"?period={PERIOD.prev()}") == [("DL-BJ001", "2026-03-1")]
    assert listed("?region=TJ") == [("DL-TJ001", "2026-03-2")]
    assert listed("?region=NORTH&account=DL-BJ001") == [("DL-BJ001", "2026-03-2"), ("DL-BJ001", "2026-03-1")]
    assert listed("?status=approved") == [("DL-BJ002", "2026-03-2")]
    assert listed("?status=locked") == []
    today(DURING)
    assert listed("?status=locked") == [("DL-BJ002", "2026-03-2")]
    item = _ok(client.get(P + "?status=locked", headers=sup))["items"][0]
    assert (item["status"], item["locked"], item["shipment"], item["quantity"]) == ("approved", True, "288.00", 10)
    assert item["url"] == f"/api/v1/plans/DL-BJ002/{PERIOD}"
    # Pages.
    first = _ok(client.get(P + "?per_page=3", headers=sup))
    assert len(first["items"]) == 3 and first["next"]
    second = _ok(client.get(first["next"], headers=sup))
    assert [p["account"] for p in second["items"]] == ["DL-BJ001"] and second["next"] is None
    # Another region's field staff see none of these; a region outside the scope lists nothing.
    assert listed("", token("rep.shanghai")) == [] and listed("?region=BJ", token("rep.shanghai")) == []
    for query, field in [("?period=2026-03", "period"), ("?period=2026-03-4", "period"), ("?status=locked2", "status"),
                         ("?region=NOPE", "region"), ("?account=GD-SH01", "account"), ("?page=x", "page")]:
        _refused(client.get(P + query, headers=sup), 422, field=field)


# --- plan versus actual ---------------------------------------------------------------------------

def test_plan_versus_actual_equals_the_ledger(app, client, token, today):
    today(AFTER)
    with app.app_context():
        saved("DL-BJ001", plan_input(("P-W550", 100), payment="2000.00", on=date(2026, 3, 15)))
        saved("DL-BJ002", plan_input(("P-W550", 10)))
        saved("DL-TJ001", plan_input(("P-GT500", 10), payment="1000.00", on=date(2026, 3, 12)),
              username="merch.tianjin")
        ship("DL-BJ001", date(2026, 3, 11), ("P-W550", 90, 2880))
        ship("DL-BJ001", date(2026, 3, 20), ("P-W550", 30, 2880), kind="return")
        wrong = ship("DL-BJ001", date(2026, 3, 15), ("P-W550", 40, 2880)).document
        reverse(wrong, on=date(2026, 3, 16))
        pay("DL-BJ001", date(2026, 3, 18), yuan("2000.00"))
        ship("DL-BJ002", date(2026, 3, 19), ("P-W550", 12, 2880))
        ship("DL-BJ003", date(2026, 3, 12), ("P-GT500", 2, 4500))  # no plan
        pay("DL-TJ001", date(2026, 3, 10), yuan("500.00"))  # the period before
        ship("DL-TJ001", date(2026, 3, 21), ("P-GT500", 10, 4500))  # the period after
        post(kind="adjustment", account="DL-TJ001", on=date(2026, 3, 15), amount_fen=yuan("100.00"),
             direction="debit", reason="调账")  # not a shipment or a payment
    sup = token("sup.north")
    body = _ok(client.get(f"{P}/actual?period={PERIOD}", headers=sup))
    assert (body["period"], body["start"], body["end"], body["finished"], body["threshold_pct"]) == (
        "2026-03-2", "2026-03-11", "2026-03-20", True, 80)
    rows = {r["account"]: r for r in body["accounts"]}
    bj1 = rows["DL-BJ001"]
    assert bj1["status"] == "draft" and bj1["url"] == URL
    assert bj1["plan"] == {"quantity": 100, "shipment": "2880.00", "payment": "2000.00"}
    assert bj1["actual"] == {"quantity": 60, "shipment": "1728.00", "payment": "2000.00"}
    assert (bj1["quantity_pct"], bj1["shipment_pct"], bj1["payment_pct"], bj1["gap"], bj1["needs_variance_note"]) == (
        "60.0", "60.0", "100.0", "1152.00", True)
    assert rows["DL-BJ002"]["actual"]["shipment"] == "345.60" and rows["DL-BJ002"]["shipment_pct"] == "120.0"
    assert rows["DL-BJ002"]["needs_variance_note"] is False
    bj3 = rows["DL-BJ003"]
    assert (bj3["status"], bj3["url"], bj3["plan"]["shipment"], bj3["actual"]["shipment"], bj3["shipment_pct"]) == (
        "none", None, "0.00", "90.00", None)
    tj1 = rows["DL-TJ001"]
    assert tj1["actual"] == {"quantity": 0, "shipment": "0.00", "payment": "0.00"} and tj1["payment_pct"] == "0.0"
    # Every active account of the scope (sup.north: 北京 and 天津; not the suspended DL-TJ005 with
    # nothing planned or moved), the furthest below plan first.
    assert set(rows) >= {"GD-BJ01", "GD-TJ01", "DL-TJ004"} and "DL-TJ005" not in rows
    assert not any(c.startswith(("DL-SH", "GD-SH")) for c in rows)
    assert [r["account"] for r in body["accounts"][:2]] == ["DL-BJ001", "DL-TJ001"]  # gaps 1152.00, 450.00
    assert [r["account"] for r in body["accounts"][-2:]] == ["DL-BJ002", "DL-BJ003"]  # above plan: -57.60, -90.00
    # The totals are the sums of the rows.
    assert body["total"]["plan"] == {"quantity": 120, "shipment": "3618.00", "payment": "3000.00"}
    # (an account without a plan counts all its quantities; one with a plan those of its products)
    assert body["total"]["actual"] == {"quantity": 74, "shipment": "2163.60", "payment": "2000.00"}
    assert (body["total"]["shipment_pct"], body["total"]["gap"]) == ("59.8", "1454.40")

    # Per region (sub-regions rolled into their parents) and per rep of the scope.
    assert [(g["region"], g["depth"], g["plan"]["shipment"], g["actual"]["shipment"]) for g in body["regions"]] == [
        ("NORTH", 1, "3618.00", "2163.60"), ("BJ", 2, "3168.00", "2163.60"), ("TJ", 2, "450.00", "0.00")]
    reps = {g["rep"]["username"]: g for g in body["reps"]}
    assert reps["rep.beijing"]["plan"]["shipment"] == "3168.00" and reps["merch.tianjin"]["planned"] == 1
    assert (body["total"]["accounts"], body["total"]["planned"]) == (4, 3)  # with a plan or a movement
    # A region narrows it; a rep sees their own region's accounts only, a distributor its own.
    tj = _ok(client.get(f"{P}/actual?period={PERIOD}&region=TJ", headers=sup))
    assert {r["account"] for r in tj["accounts"]} == {"GD-TJ01", "DL-TJ001", "DL-TJ002", "DL-TJ003", "DL-TJ004"}
    assert tj["total"]["plan"]["shipment"] == "450.00"
    rep = _ok(client.get(f"{P}/actual?period={PERIOD}", headers=token("rep.beijing")))
    assert {r["account"][:5] for r in rep["accounts"]} == {"DL-BJ", "GD-BJ"}
    assert rep["total"]["actual"]["shipment"] == "2163.60"
    assert _ok(client.get(f"{P}/actual?period={PERIOD}&region=TJ", headers=token("rep.beijing")))["accounts"] == []
    bj = _ok(client.get(f"{P}/actual?period={PERIOD}", headers=token("dist.bj")))
    assert {r["account"] for r in bj["accounts"]} == {"GD-BJ01", *(f"DL-BJ00{n}" for n in range(1, 7))}
    for query, field in [("", "period"), ("?period=2026-3-2", "period"), (f"?period={PERIOD}&region=NOPE", "region")]:
        _refused(client.get(f"{P}/actual{query}", headers=sup), 422, field=field)
