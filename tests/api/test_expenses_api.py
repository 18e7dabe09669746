"""/api/v1/expenses on SQLite and PostgreSQL: a claim from creation to payment (with a cut, a
second approval and the budget), returning and resubmitting, scope (404 outside it, 403 for a
role without expenses), every refusal with its code, bad input (nothing written), stale versions
and double payment.

The claims are March 2026's (tests/expenses: MONTH), of rep.beijing (北京, supervised by
sup.north); the second approval is admin's; finance pays."""
from datetime import date

import pytest
from sqlalchemy import func, select

from channel.core.periods import Month
from channel.expenses import services as es
from channel.expenses.models import ExpenseClaim, ExpenseEvent
from channel.extensions import db
from channel.masterdata.models import Region
from tests.expenses import claim
from tests.ledger import user, written, yuan

E = "/api/v1/expenses"


def _count(app):
    with app.app_context():
        return (db.session.execute(select(func.count()).select_from(ExpenseClaim)).scalar_one(),
                db.session.execute(select(func.count()).select_from(ExpenseEvent)).scalar_one())


def _ok(resp, status=200):
    assert resp.status_code == status, resp.get_json()
    return resp.get_json()


def _refused(resp, status, code, field=None):
    body = resp.get_json()
    assert resp.status_code == status, body
    assert body.get("code") == code, body
    assert body["message"] and body["message"] != code
    if field is not None:
        assert body.get("field") == field, body
    return body


NEW = {"month": "2026-03", "title": "北京 渠道拜访 3月",
       "lines": [{"date": "2026-03-10", "category": "travel", "amount": "2800.00", "description": "高铁 往返",
                  "account": "DL-BJ001"},
                 {"date": "2026-03-11", "category": "meal", "amount": "150.00"},
                 {"date": "2026-03-10", "category": "accommodation", "amount": "450.00", "city_tier": 1,
                  "nights": 1}]}


def test_a_claim_from_draft_to_paid(app, client, token):
    rep, sup, admin, fin = token("rep.beijing"), token("sup.north"), token("admin"), token("finance")
    body = _ok(client.post(E, json=NEW, headers=rep), 201)
    cid = body["id"]
    assert body["status"] == "draft" and body["version"] == 1 and body["number"] == f"BX202603-{cid:05d}"
    assert body["claimed"] == "3400.00" and body["approved"] is None and body["region"] == "BJ"
    assert body["claimant"] == {"username": "rep.beijing", "name": "高峰"}
    lines = {ln["category"]: ln for ln in body["lines"]}
    assert [ln["amount"] for ln in body["lines"]] == ["2800.00", "450.00", "150.00"]  # by date
    assert lines["travel"]["account"] == "DL-BJ001" and lines["travel"]["description"] == "高铁 往返"
    # The meal allowance is ¥100 a day: flagged, on the claimant's view too.
    assert lines["meal"]["flag"] == "over_day_cap" and lines["travel"]["flag"] is None
    assert body["flags"] == {"lines": 1, "duplicate_receipts": 0, "over_budget": False}
    assert body["actions"] == ["submit"] and "budget" not in body and body["history"] == []

    body = _ok(client.post(f"{E}/{cid}/submit", json={"version": 1}, headers=rep))
    assert (body["status"], body["version"], body["actions"]) == ("submitted", 2, [])

    # The supervisor sees what the approval screen shows: the budget use (none set: no limit).
    seen = _ok(client.get(f"{E}/{cid}", headers=sup))
    assert seen["actions"] == ["approve", "reject"]
    assert seen["budget"][0] == {"category": "total", "budget": None, "approved": "0.00", "pending": "0.00",
                                 "this_claim": "3400.00", "left_after": None, "over": False,
                                 "over_with_pending": False}
    meal = lines["meal"]["id"]
    body = _ok(client.post(f"{E}/{cid}/approve", headers=sup, json={
        "version": 2, "comment": "ok", "cuts": [{"line": meal, "approved_amount": "100.00",
                                                "reason": "餐补每天 100 元"}]}))
    # ¥3,350.00 is above the second-approval amount (¥3,000.00): a manager or admin approves too.
    assert body["status"] == "second_approval" and body["first_approver"]["username"] == "sup.north"
    assert {ln["id"]: (ln["approved_amount"], ln["cut_reason"]) for ln in body["lines"]}[meal] == \
        ("100.00", "餐补每天 100 元")
    assert body["approved"] is None
    # The first approver may not give the second approval too.
    _refused(client.post(f"{E}/{cid}/approve", json={}, headers=sup), 422, "needs_second_approver")
    body = _ok(client.post(f"{E}/{cid}/approve", json={"version": 3}, headers=admin))
    assert body["status"] == "approved" and body["approved"] == "3350.00"
    assert body["approver"] == {"username": "admin", "name": "系统管理员"}

    # Finance pays the approved amount; once.
    _refused(client.post(f"{E}/{cid}/pay", json={"paid_on": "2026-03-31", "reference": " "}, headers=fin),
             422, "reference_required", "reference")
    _refused(client.post(f"{E}/{cid}/pay", json={"paid_on": "2099-01-01", "reference": "PAY-1"}, headers=fin),
             422, "paid_on_in_future", "paid_on")
    body = _ok(client.post(f"{E}/{cid}/pay", json={"paid_on": "2026-03-31", "reference": "PAY-1", "version": 4},
                           headers=fin))
    assert (body["status"], body["paid"], body["paid_on"], body["payment_ref"]) == \
        ("paid", "3350.00", "2026-03-31", "PAY-1")
    assert body["paid_by"]["username"] == "finance" and body["actions"] == []
    before = _count(app)
    _refused(client.post(f"{E}/{cid}/pay", json={"paid_on": "2026-03-31", "reference": "PAY-2"}, headers=fin),
             422, "already_paid")
    assert _count(app) == before

    history = _ok(client.get(f"{E}/{cid}", headers=rep))["history"]
    assert [(h["seq"], h["action"], h["from"], h["to"], h["by"]["username"], h["amount"]) for h in history] == [
        (2, "submit", "draft", "submitted", "rep.beijing", "3400.00"),
        (3, "approve", "submitted", "second_approval", "sup.north", "3350.00"),
        (4, "approve", "second_approval", "approved", "admin", "3350.00"),
        (5, "pay", "approved", "paid", "finance", "3350.00"),
    ]
    assert history[1]["comment"] == "ok" and history[3]["comment"] == "PAY-1"


def test_return_and_resubmit_keeps_the_history(app, client, token):
    rep, sup = token("rep.beijing"), token("sup.north")
    cid = _ok(client.post(E, json={"month": "2026-03", "title": "拜访", "lines": NEW["lines"][:1]}, headers=rep),
              201)["id"]
    _ok(client.post(f"{E}/{cid}/submit", json={}, headers=rep))
    _refused(client.post(f"{E}/{cid}/reject", json={"comment": "  "}, headers=sup), 422, "comment_required",
             "comment")
    body = _ok(client.post(f"{E}/{cid}/reject", json={"comment": "请补发票", "version": 2}, headers=sup))
    assert body["status"] == "draft" and body["actions"] == []  # the supervisor's view: the owner's to revise
    assert _ok(client.get(f"{E}/{cid}", headers=rep))["actions"] == ["submit"]
    body = _ok(client.post(f"{E}/{cid}/submit", json={"version": 3}, headers=rep))
    assert [(h["action"], h["comment"]) for h in body["history"]] == [
        ("submit", None), ("reject", "请补发票"), ("submit", None)]
    # Returning a claim needs the rights of an approver.
    assert client.post(f"{E}/{cid}/reject", json={"comment": "x"}, headers=rep).status_code == 403


def test_scope_404_outside_and_403_without_expenses(app, client, token):
    with app.app_context():
        bj = claim(submit=True).id
        sh = claim("rep.shanghai", title="上海拜访", submit=True).id
    east, north, dist = token("sup.east"), token("sup.north"), token("dist.bj")
    # A supervisor of another region does not know the 北京 claim exists.
    for method, url, body in [("get", f"{E}/{bj}", None), ("post", f"{E}/{bj}/approve", {}),
                              ("post", f"{E}/{bj}/reject", {"comment": "x"}),
                              ("post", f"{E}/{bj}/submit", {})]:
        resp = getattr(client, method)(url, json=body, headers=east)
        assert resp.status_code == 404, (url, resp.get_json())
    assert client.get(f"{E}/{bj}", headers=token("rep.shanghai")).status_code == 404
    assert client.get(f"{E}/{sh}", headers=east).status_code == 200
    assert client.get(f"{E}/999999", headers=north).status_code == 404
    # A distributor has no expenses: the list and creating are refused, a claim is unknown.
    assert client.get(E, headers=dist).status_code == 403
    assert client.post(E, json=NEW, headers=dist).status_code == 403
    assert client.get(f"{E}/{bj}", headers=dist).status_code == 404
    # Finance sees every claim but neither claims nor approves; field staff do not approve or pay.
    fin, rep = token("finance"), token("rep.beijing")
    assert client.post(E, json=NEW, headers=fin).status_code == 403
    assert client.post(f"{E}/{bj}/approve", json={}, headers=fin).status_code == 403
    assert client.post(f"{E}/{bj}/approve", json={}, headers=rep).status_code == 403
    pay = {"paid_on": "2026-03-31", "reference": "P"}
    assert client.post(f"{E}/{bj}/pay", json=pay, headers=rep).status_code == 403

    def ids(headers, query=""):
        return [c["id"] for c in _ok(client.get(f"{E}{query}", headers=headers))["items"]]

    assert ids(east) == [sh] and ids(north) == [bj] and ids(rep) == [bj]
    assert ids(fin) == [sh, bj]  # newest first
    assert ids(fin, "?region=NORTH") == [bj] and ids(fin, "?region=SH") == [sh]
    assert ids(fin, "?claimant=rep.shanghai") == [sh] and ids(fin, "?claimant=nobody") == []
    assert ids(east, "?claimant=rep.beijing") == []
    assert ids(fin, "?status=submitted&month=2026-03") == [sh, bj] and ids(fin, "?status=paid") == []
    assert ids(fin, "?month=2026-02") == []
    first = _ok(client.get(f"{E}?per_page=1&status=submitted", headers=fin))
    assert [c["id"] for c in first["items"]] == [sh] and "status=submitted" in first["next"]
    second = _ok(client.get(first["next"], headers=fin))
    assert [c["id"] for c in second["items"]] == [bj] and second["next"] is None
    for query, field in [("?status=open", "status"), ("?month=2026-3", "month"), ("?region=NOPE", "region"),
                         ("?page=x", "page")]:
        resp = client.get(f"{E}{query}", headers=fin)
        assert (resp.status_code, resp.get_json()["field"]) == (422, field), query


@pytest.mark.parametrize("body, field, code", [
    ({**NEW, "status": "approved"}, "status", None),  # not a field a client sets
    ({**NEW, "lines": [{**NEW["lines"][0], "approved_amount": "1.00"}]}, "lines[0].approved_amount", None),
    ({**NEW, "lines": [{**NEW["lines"][0], "amount": 2800.0}]}, "lines[0].amount", None),  # a float
    ({**NEW, "lines": [{**NEW["lines"][0], "amount": 2800}]}, "lines[0].amount", None),  # a number
    ({**NEW, "lines": [{**NEW["lines"][0], "amount": "28.005"}]}, "lines[0].amount", None),
    ({**NEW, "lines": [{**NEW["lines"][0], "amount": "0.00"}]}, "lines[0].amount", None),
    ({**NEW, "lines": [{**NEW["lines"][0], "amount": "-5.00"}]}, "lines[0].amount", None),
    ({**NEW, "lines": [NEW["lines"][0], {**NEW["lines"][1], "date": "2026-04-01"}]}, "lines[1].date",
     "date_outside_month"),
    ({**NEW, "lines": [{**NEW["lines"][0], "date": "10/03/2026"}]}, "lines[0].date", None),
    ({**NEW, "lines": [{**NEW["lines"][0], "category": "gifts"}]}, "lines[0].category", "category_unknown"),
    ({**NEW, "lines": [{**NEW["lines"][2], "city_tier": None}]}, "lines[0].city_tier", "city_tier_required"),
    ({**NEW, "lines": [{**NEW["lines"][2], "city_tier": 4}]}, "lines[0].city_tier", "city_tier_unknown"),
    ({**NEW, "lines": [{**NEW["lines"][2], "nights": 0}]}, "lines[0].nights", None),
    ({**NEW, "lines": [{**NEW["lines"][0], "account": "DL-SH001"}]}, "lines[0].account", "account_unknown"),
    ({**NEW, "lines": [{**NEW["lines"][0], "account": "NOPE"}]}, "lines[0].account", "account_unknown"),
    ({**NEW, "lines": [{**NEW["lines"][0], "description": "x" * 201}]}, "lines[0].description",
     "description_too_long"),
    ({**NEW, "lines": {"date": "2026-03-10"}}, "lines", None),
    ({**NEW, "month": "2026-3"}, "month", None),
    ({**NEW, "month": "2099-01"}, "month", "month_in_future"),
    ({**NEW, "title": ""}, "title", "title_required"),
    ({**NEW, "region": "SH"}, "region", "region_not_yours"),
    ({**NEW, "region": "NOPE"}, "region", "region_not_yours"),
])
def test_bad_input_writes_nothing(app, client, token, body, field, code):
    before = _count(app)
    resp = client.post(E, json=body, headers=token("rep.beijing"))
    data = resp.get_json()
    assert (resp.status_code, data.get("field"), data.get("code")) == (422, field, code), data
    assert _count(app) == before


def test_refusals_stale_versions_and_the_budget(app, client, token):
    rep, sup, fin = token("rep.beijing"), token("sup.north"), token("finance")
    assert client.post(E, data="not json", headers=rep).status_code == 400
    cid = _ok(client.post(E, json={"month": "2026-03", "title": "t"}, headers=rep), 201)["id"]
    _refused(client.post(f"{E}/{cid}/submit", json={}, headers=rep), 422, "nothing_claimed")
    with app.app_context():
        own = claim("sup.north", title="马国栋 差旅", submit=True).id
        other = claim(lines=[(date(2026, 3, 12), "travel", "50.00")]).id
        bj = claim(lines=[(date(2026, 3, 10), "travel", "300.00"), (date(2026, 3, 11), "misc", "20.00")],
                   submit=True)
        bj_id, travel = bj.id, bj.lines[0].id
        other_line = db.session.get(ExpenseClaim, other).lines[0].id
    # Nobody approves their own claim; a supervisor's own goes to the next level.
    _refused(client.post(f"{E}/{own}/approve", json={}, headers=sup), 422, "own_claim")
    assert "approve" in _ok(client.get(f"{E}/{own}", headers=token("admin")))["actions"]
    _refused(client.post(f"{E}/{own}/submit", json={}, headers=token("sup.north")), 422, "not_a_draft")
    _refused(client.post(f"{E}/{bj_id}/pay", json={"paid_on": "2026-03-31", "reference": "P"}, headers=fin),
             422, "not_approved")
    _refused(client.post(f"{E}/{bj_id}/submit", json={}, headers=sup), 422, "not_a_draft")
    # Cuts: never above the claim, a reason when below, lines of this claim only.
    for cut, code, field in [
        ({"line": travel, "approved_amount": "300.01", "reason": "x"}, "cut_above_claim", "cuts[0].approved_amount"),
        ({"line": travel, "approved_amount": "200.00"}, "cut_reason_required", "cuts[0].reason"),
        ({"line": other_line, "approved_amount": "1.00", "reason": "x"}, "line_unknown", "cuts[0].line"),
    ]:
        _refused(client.post(f"{E}/{bj_id}/approve", json={"cuts": [cut]}, headers=sup), 422, code, field)
    for cut, field in [({"line": travel, "approved_amount": 200.0, "reason": "x"}, "cuts[0].approved_amount"),
                       ({"line": travel, "approved_amount": "-1.00", "reason": "x"}, "cuts[0].approved_amount"),
                       ({"line": travel, "approved_amount": "1.00", "why": "x"}, "cuts[0].why")]:
        resp = client.post(f"{E}/{bj_id}/approve", json={"cuts": [cut]}, headers=sup)
        assert (resp.status_code, resp.get_json()["field"]) == (422, field)
    resp = client.post(f"{E}/{bj_id}/approve", json={"version": 2, "force": True}, headers=sup)
    assert (resp.status_code, resp.get_json()["field"]) == (422, "force")

    # The region's budget for March: ¥300.00 in total; this claim (¥320.00) takes it over.
    with app.app_context():
        written(es.set_budgets, Month(2026, 3), db.session.execute(
            select(Region).where(Region.code == "NORTH")).scalar_one(), {"total": yuan("300.00")}, by=user("finance"))
    seen = _ok(client.get(f"{E}/{bj_id}", headers=sup))
    assert seen["budget"][0]["left_after"] == "-20.00" and seen["budget"][0]["over"] is True
    assert seen["flags"]["over_budget"] is True
    body = _refused(client.post(f"{E}/{bj_id}/approve", json={"version": 2}, headers=sup), 422,
                    "budget_override_reason_required", "override_reason")
    assert "¥20.00" in body["message"]
    # A version the client saw before the claim moved: 409, nothing recorded.
    before = _count(app)
    body = _refused(client.post(f"{E}/{bj_id}/approve", json={"version": 1, "override_reason": "展会月"},
                                headers=sup), 409, "stale", "version")
    assert body["current_version"] == 2 and body["status"] == "submitted"
    assert _count(app) == before
    body = _ok(client.post(f"{E}/{bj_id}/approve", json={"version": 2, "override_reason": "展会月"}, headers=sup))
    assert body["status"] == "approved" and body["history"][-1]["override_reason"] == "展会月"
    # Two supervisors at once: the second, sending the version it saw, is told who acted.
    body = _refused(client.post(f"{E}/{bj_id}/reject", json={"version": 2, "comment": "x"}, headers=sup),
                    409, "stale")
    assert "马国栋" in body["message"] and body["current_version"] == 3
    _refused(client.post(f"{E}/{bj_id}/pay", json={"version": 2, "paid_on": "2026-03-31", "reference": "P"},
                         headers=fin), 409, "stale")
    _ok(client.post(f"{E}/{bj_id}/pay", json={"version": 3, "paid_on": "2026-03-31", "reference": "P"},
                    headers=fin))
    _refused(client.post(f"{E}/{bj_id}/pay", json={"version": 4, "paid_on": "2026-03-31", "reference": "P"},
                         headers=fin), 422, "already_paid")
    _refused(client.post(f"{E}/{bj_id}/reject", json={"comment": "x"}, headers=sup), 422,
             "not_waiting_for_approval")
