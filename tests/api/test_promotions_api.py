"""/api/v1/promotions and /api/v1/execution-reports on SQLite and PostgreSQL: a per-unit rebate
set up by finance, published, rolled out in 华北 (accounts enrolled with targets, execution
reported by the rep and verified or rejected by the supervisor), its progress and settlement as
they stand from the ledger (a return nets out, the cap per account bites), then settled: the
rebates posted, a second settle answers 409 and posts nothing. Scope (404 outside it, 403 for a
role or a rule about who acts), refusals with their codes and field names (nothing written), and
stale versions (409 with the current one). "Today" is set through the services' business_today.

The promotions sell P-PROMO (tests/promotions), a product the demo never ships, so every figure
comes from the documents posted here."""
from datetime import date

import pytest
from sqlalchemy import func, select

from channel.extensions import db
from channel.ledger.models import Document
from channel.promotions import services as ps
from channel.promotions.models import Enrolment, ExecutionReport, Promotion
from tests.promotions import new_product, ship

P = "/api/v1/promotions"
R = "/api/v1/execution-reports"
NEW = {"code": "pr-api", "name": "春季铺货返利", "description": "每箱返 2 元", "kind": "per_unit", "rate": "2.00",
       "cap": "200.00", "starts_on": "2026-03-01", "ends_on": "2026-03-31", "products": ["P-PROMO"],
       "regions": [{"region": "NORTH", "budget": "10000.00"}]}
BEFORE, DURING, AFTER = date(2026, 2, 20), date(2026, 3, 15), date(2026, 4, 2)


@pytest.fixture
def today(monkeypatch):
    """today(day): the business day of the services (and so of the API) from now on."""
    def _set(day):
        monkeypatch.setattr(ps, "business_today", lambda: day)
    _set(BEFORE)
    return _set


@pytest.fixture
def product(app):
    with app.app_context():
        new_product()


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
                     for model in (Promotion, Enrolment, ExecutionReport, Document))


def _published(client, token, today, **changes) -> dict:
    fin = token("finance")
    body = _ok(client.post(P, json={**NEW, **changes}, headers=fin), 201)
    return _ok(client.post(f"{P}/{body['code']}/publish", json={"version": body["version"]}, headers=fin))


def _rebates(app) -> list:
    with app.app_context():
        return [(d.number, d.account.code, d.amount_fen, d.for_account.code if d.for_account else None)
                for d in db.session.execute(select(Document).where(Document.kind == "rebate")
                                            .order_by(Document.amount_fen)).scalars()]


# --- the flow -------------------------------------------------------------------------------------

def test_a_promotion_from_draft_to_settled_rebates(app, client, token, today, product):
    fin, sup, rep = token("finance"), token("sup.north"), token("rep.beijing")
    body = _ok(client.post(P, json=NEW, headers=fin), 201)
    url = f"{P}/PR-API"
    assert (body["code"], body["status"], body["version"], body["kind"]) == ("PR-API", "draft", 1, "per_unit")
    assert (body["rate"], body["cap"], body["min_quantity"], body["budget"]) == ("2.00", "200.00", 0, "10000.00")
    assert body["products"] == ["P-PROMO"] and body["regions"] == [
        {"region": "NORTH", "name": body["regions"][0]["name"], "budget": "10000.00"}]
    assert body["actions"] == ["edit", "publish"]
    assert client.get(url, headers=sup).status_code == 404  # a draft is head office's
    body = _ok(client.put(url, json={**NEW, "name": "春季铺货返利（华北）", "version": 1}, headers=fin))
    assert (body["name"], body["version"]) == ("春季铺货返利（华北）", 2)
    body = _ok(client.post(f"{url}/publish", json={"version": 2}, headers=fin))
    assert (body["status"], body["published_by"]["username"]) == ("published", "finance")
    # Published: the terms are fixed, the budget may change.
    _refused(client.put(url, json={**NEW, "rate": "3.00"}, headers=fin), 422, "terms_fixed")
    body = _ok(client.put(url, json={**NEW, "regions": [{"region": "NORTH", "budget": "12000.00"}]}, headers=fin))
    assert body["budget"] == "12000.00"
    listed = _ok(client.get(f"{P}?status=published", headers=sup))
    assert [p["code"] for p in listed["items"]] == ["PR-API"]

    # The rollout: the supervisor enrols, the rep reports, the supervisor checks.
    today(DURING)
    assert "enrolments" in _ok(client.get(url, headers=sup))["actions"]
    e = _ok(client.post(f"{url}/enrolments", json={"account": "GD-BJ01", "target_qty": 100}, headers=sup), 201)
    assert (e["account"], e["region"], e["target_qty"], e["target_outlets"], e["net_qty"]) == (
        "GD-BJ01", "NORTH", 100, 0, 0)
    _ok(client.post(f"{url}/enrolments", json={"account": "DL-BJ001", "target_qty": 10, "target_outlets": 5},
                    headers=sup), 201)
    e = _ok(client.put(f"{url}/enrolments/DL-BJ001", json={"target_qty": 20}, headers=sup))
    assert (e["target_qty"], e["target_outlets"]) == (20, 5)
    r1 = _ok(client.post(f"{url}/reports", json={"account": "DL-BJ001", "executed_on": "2026-03-10", "outlets": 3,
                                                 "note": "3 家门店已铺货"}, headers=rep), 201)
    assert (r1["status"], r1["version"], r1["reported_by"]["username"], r1["photos"]) == (
        "submitted", 1, "rep.beijing", [])
    r2 = _ok(client.post(f"{url}/reports", json={"account": "DL-BJ001", "executed_on": "2026-03-12", "outlets": 4},
                         headers=rep), 201)
    checked = _ok(client.post(f"{R}/{r1['id']}/verify", json={"version": 1}, headers=sup))
    assert (checked["status"], checked["checked_by"]["username"], checked["version"]) == ("verified", "sup.north", 2)
    _refused(client.post(f"{R}/{r1['id']}/verify", json={}, headers=sup), 422, "already_checked")
    checked = _ok(client.post(f"{R}/{r2['id']}/reject", json={"reason": "照片不清楚"}, headers=sup))
    assert (checked["status"], checked["reject_reason"]) == ("rejected", "照片不清楚")
    assert [r["id"] for r in _ok(client.get(f"{url}/reports?status=verified", headers=sup))["items"]] == [r1["id"]]
    assert len(_ok(client.get(f"{url}/reports", headers=token("dist.bj")))["items"]) == 2

    # The ledger: GD-BJ01 120 cases less 10 returned; DL-BJ001 30 (and 30 after the period).
    with app.app_context():
        ship("GD-BJ01", date(2026, 3, 3), 120)
        ship("GD-BJ01", date(2026, 3, 20), 10, kind="return")
        ship("DL-BJ001", date(2026, 3, 5), 30)
        ship("DL-BJ001", date(2026, 4, 1), 30)
    rows = {e["account"]: e for e in _ok(client.get(f"{url}/enrolments", headers=sup))["items"]}
    assert (rows["GD-BJ01"]["net_qty"], rows["GD-BJ01"]["net_shipment"], rows["GD-BJ01"]["qty_pct"]) == (
        110, "5500.00", "110.0")
    assert (rows["DL-BJ001"]["verified_outlets"], rows["DL-BJ001"]["reported_outlets"], rows["DL-BJ001"]["pending"],
            rows["DL-BJ001"]["outlets_pct"]) == (3, 3, 0, "60.0")

    # The settlement as it stands: GD-BJ01 earns 110 × ¥2.00 = ¥220.00, capped at ¥200.00.
    today(AFTER)
    s = _ok(client.get(f"{url}/settlement", headers=fin))
    assert (s["status"], s["rate"], s["cap"]) == ("ended", "2.00", "200.00")
    [north] = s["regions"]
    assert (north["region"], north["budget"], north["earned"], north["paid"], north["left"], north["short"],
            north["settled"]) == ("NORTH", "12000.00", "260.00", "260.00", "11740.00", False, False)
    assert [(a["account"], a["net_qty"], a["earned"], a["paid"], a["paid_through"], a["document"])
            for a in north["accounts"]] == [("DL-BJ001", 30, "60.00", "60.00", "GD-BJ01", None),
                                            ("GD-BJ01", 110, "200.00", "200.00", None, None)]
    assert s["total"] == {"budget": "12000.00", "earned": "260.00", "paid": "260.00"}
    mine = _ok(client.get(f"{url}/settlement", headers=token("dist.bj")))
    assert mine["total"] is None and mine["regions"][0]["budget"] is None
    assert len(mine["regions"][0]["accounts"]) == 2  # its own account and its dealer

    # Settled by finance: the rebates posted (the dealer's through its distributor); once.
    _refused(client.post(f"{url}/settle", json={}, headers=sup), 403)
    version = _ok(client.get(url, headers=fin))["version"]
    done = _ok(client.post(f"{url}/settle", json={"version": version}, headers=fin))
    rebates = _rebates(app)
    assert [(a, fen, f) for _n, a, fen, f in rebates] == [("GD-BJ01", 6_000, "DL-BJ001"), ("GD-BJ01", 20_000, None)]
    assert (done["status"], done["posted"], sorted(done["documents"])) == ("settled", 2, sorted(n for n, *_ in rebates))
    before = _counts(app)
    for seen in ({"version": version}, {"version": done["version"]}, {}):
        _refused(client.post(f"{url}/settle", json=seen, headers=fin), 409, "already_settled")
    assert _counts(app) == before and _rebates(app) == rebates
    s = _ok(client.get(f"{url}/settlement", headers=fin))
    assert s["status"] == "settled" and s["regions"][0]["settled"] and s["regions"][0]["approved_by"]["username"] == \
        "finance"
    assert sorted(a["document"] for a in s["regions"][0]["accounts"]) == sorted(done["documents"])
    # Settled: nothing about it changes any more.
    _refused(client.put(f"{url}/enrolments/DL-BJ001", json={"target_qty": 1}, headers=sup), 422, "already_settled")
    assert _ok(client.get(url, headers=fin))["actions"] == []


def test_a_percentage_rate_is_given_as_a_percentage(app, client, token, today, product):
    body = _ok(client.post(P, json={**NEW, "kind": "percent", "rate": "1.50", "cap": None}, headers=token("finance")),
               201)
    assert (body["rate"], body["cap"]) == ("1.50", None)
    with app.app_context():
        assert db.session.execute(select(Promotion.rate).where(Promotion.code == "PR-API")).scalar_one() == 150
    _refused(client.post(P, json={**NEW, "code": "PR-2", "kind": "percent", "rate": "100.01"},
                         headers=token("finance")), 422, "percent_over_100", "rate")


# --- refusals -------------------------------------------------------------------------------------

def test_bad_input_is_refused_with_its_field_and_nothing_is_written(app, client, token, today, product):
    fin = token("finance")
    _published(client, token, today)
    before = _counts(app)
    cases = [
        ({**NEW, "code": "PR-X", "kind": "bogof"}, None, "kind"),
        ({**NEW, "code": "PR-X", "rate": 2.5}, None, "rate"),
        ({**NEW, "code": "PR-X", "rate": "2.005"}, None, "rate"),
        ({**NEW, "code": "PR-X", "cap": "-1.00"}, None, "cap"),
        ({**NEW, "code": "PR-X", "min_quantity": -1}, None, "min_quantity"),
        ({**NEW, "code": "PR-X", "products": ["P-PROMO", "NOPE"]}, None, "products[1]"),
        ({**NEW, "code": "PR-X", "products": []}, None, "products"),
        ({**NEW, "code": "PR-X", "regions": [{"region": "NORTH", "budget": "1.00"},
                                             {"region": "BJ", "budget": "1.00"}]}, "regions_overlap", "regions"),
        ({**NEW, "code": "PR-X", "regions": [{"region": "XX", "budget": "1.00"}]}, None, "regions[0].region"),
        ({**NEW, "code": "PR-X", "regions": [{"region": "NORTH"}]}, None, "regions[0].budget"),
        ({**NEW, "code": "PR-X", "ends_on": "2026-02-28"}, "period_backwards", "ends_on"),
        ({**NEW, "code": "PR-X", "starts_on": "2026-3-1"}, None, "starts_on"),
        ({**NEW}, "code_taken", "code"),
        ({**NEW, "code": ""}, None, "code"),
        ({**NEW, "code": "PR-X", "colour": "red"}, None, "colour"),
    ]
    for body, code, field in cases:
        _refused(client.post(P, json=body, headers=fin), 422, code, field)
    assert client.post(P, data="[]", headers=fin).status_code == 400

    url = f"{P}/PR-API"
    today(DURING)
    sup, rep = token("sup.north"), token("rep.beijing")
    _refused(client.post(f"{url}/enrolments", json={"account": "GD-SH01"}, headers=sup), 422, field="account")
    _refused(client.post(f"{url}/enrolments", json={"account": "GD-BJ01", "target_qty": -1}, headers=sup), 422,
             field="target_qty")
    _refused(client.post(f"{url}/enrolments", json={}, headers=sup), 422, field="account")
    _refused(client.post(f"{url}/reports", json={"account": "GD-BJ01", "executed_on": "2026-03-10", "outlets": 1},
                         headers=rep), 422, field="account")  # not enrolled
    assert _counts(app) == before

    _ok(client.post(f"{url}/enrolments", json={"account": "GD-BJ01"}, headers=sup), 201)
    _refused(client.post(f"{url}/enrolments", json={"account": "GD-BJ01"}, headers=sup), 422, "already_enrolled",
             "account")
    for body, code, field in (({"executed_on": "2026-03-20"}, "date_outside_period", "executed_on"),
                              ({"outlets": 1.5}, None, "outlets"), ({"outlets": None}, None, "outlets"),
                              ({"photos": ["a.jpg"]}, None, "photos")):
        _refused(client.post(f"{url}/reports", json={"account": "GD-BJ01", "executed_on": "2026-03-10", "outlets": 2,
                                                     **body}, headers=rep), 422, code, field)
    r = _ok(client.post(f"{url}/reports", json={"account": "GD-BJ01", "executed_on": "2026-03-10", "outlets": 2},
                        headers=rep), 201)
    _refused(client.post(f"{R}/{r['id']}/reject", json={"reason": ""}, headers=sup), 422, field="reason")
    # An enrolment with reports stays; one without is withdrawn.
    _refused(client.delete(f"{url}/enrolments/GD-BJ01", headers=sup), 422, "has_reports")
    _ok(client.post(f"{url}/enrolments", json={"account": "DL-BJ002"}, headers=sup), 201)
    assert client.delete(f"{url}/enrolments/DL-BJ002", headers=sup).status_code == 204
    assert client.delete(f"{url}/enrolments/DL-BJ002", headers=sup).status_code == 404


def test_a_stale_version_is_409_and_changes_nothing(app, client, token, today, product):
    fin, sup = token("finance"), token("sup.north")
    _ok(client.post(P, json=NEW, headers=fin), 201)
    url = f"{P}/PR-API"
    _ok(client.put(url, json={**NEW, "name": "改名", "version": 1}, headers=fin))
    for method, path, body in ((client.put, url, {**NEW, "name": "再改", "version": 1}),
                               (client.post, f"{url}/publish", {"version": 1})):
        body = _refused(method(path, json=body, headers=fin), 409, "stale", "version")
        assert (body["current_version"], body["status"]) == (2, "draft")
    assert _ok(client.get(url, headers=fin))["name"] == "改名"
    _ok(client.post(f"{url}/publish", json={"version": 2}, headers=fin))
    today(DURING)
    _ok(client.post(f"{url}/enrolments", json={"account": "DL-BJ001"}, headers=sup), 201)
    r = _ok(client.post(f"{url}/reports", json={"account": "DL-BJ001", "executed_on": "2026-03-10", "outlets": 2},
                        headers=token("rep.beijing")), 201)
    _ok(client.post(f"{R}/{r['id']}/reject", json={"version": 1, "reason": "照片不清楚"}, headers=sup))
    body = _refused(client.post(f"{R}/{r['id']}/verify", json={"version": 1}, headers=sup), 409, "stale", "version")
    assert (body["current_version"], body["status"]) == (2, "rejected")


def test_scope_and_roles(app, client, token, today, product):
    p = _published(client, token, today)
    url = f"{P}/{p['code']}"
    # Out of scope: as if there were no such promotion.
    for name in ("sup.south", "rep.guangdong", "dist.tj", "dist.bj"):  # dist.bj: nothing enrolled yet
        assert client.get(url, headers=token(name)).status_code == 404, name
        assert client.get(f"{url}/settlement", headers=token(name)).status_code == 404, name
    assert client.get(f"{P}/PR-NONE", headers=token("admin")).status_code == 404
    assert _ok(client.get(P, headers=token("sup.south")))["items"] == []
    # Roles: only head office sets up; supervisors enrol; field staff report; finance settles.
    for name in ("sup.north", "rep.beijing"):
        _refused(client.post(P, json={**NEW, "code": "PR-Z"}, headers=token(name)), 403)
        _refused(client.put(url, json=NEW, headers=token(name)), 403)
        _refused(client.post(f"{url}/settle", json={}, headers=token(name)), 403)
    today(DURING)
    for name in ("finance", "rep.beijing"):
        _refused(client.post(f"{url}/enrolments", json={"account": "GD-BJ01"}, headers=token(name)), 403)
    _ok(client.post(f"{url}/enrolments", json={"account": "GD-BJ01"}, headers=token("sup.north")), 201)
    _refused(client.post(f"{url}/reports", json={"account": "GD-BJ01", "executed_on": "2026-03-10", "outlets": 1},
                         headers=token("finance")), 403)
    # The supervisor's own report is checked by someone else.
    own = _ok(client.post(f"{url}/reports", json={"account": "GD-BJ01", "executed_on": "2026-03-10", "outlets": 1},
                          headers=token("sup.north")), 201)
    _refused(client.post(f"{R}/{own['id']}/verify", json={}, headers=token("sup.north")), 403, "own_report")
    _refused(client.post(f"{R}/{own['id']}/verify", json={}, headers=token("rep.beijing")), 403)
    for name in ("sup.east", "dist.tj"):
        assert client.post(f"{R}/{own['id']}/verify", json={}, headers=token(name)).status_code == 404, name
    assert client.post(f"{R}/999999/verify", json={}, headers=token("admin")).status_code == 404
    assert _ok(client.post(f"{R}/{own['id']}/verify", json={}, headers=token("admin")))["status"] == "verified"
    # Now enrolled, the distributor sees the promotion and its own account, and changes nothing.
    assert _ok(client.get(url, headers=token("dist.bj")))["enrolments"] == 1
    _refused(client.put(f"{url}/enrolments/GD-BJ01", json={"target_qty": 5}, headers=token("dist.bj")), 403)
    assert client.put(f"{url}/enrolments/GD-BJ01", json={}, headers=token("sup.east")).status_code == 404
    assert client.get(P, headers={}).status_code == 401


def test_the_list_and_its_filters(app, client, token, today, product):
    fin = token("finance")
    _published(client, token, today)  # PR-API: 华北, March
    _ok(client.post(P, json={**NEW, "code": "PR-EAST", "kind": "display_fee", "rate": "800.00", "cap": None,
                             "starts_on": "2026-04-01", "ends_on": "2026-04-30",
                             "regions": [{"region": "EAST", "budget": "5000.00"}]}, headers=fin), 201)

    def codes(query="", who=fin):
        return [p["code"] for p in _ok(client.get(f"{P}{query}", headers=who))["items"]]

    assert codes() == ["PR-EAST", "PR-API"]  # the latest start first
    assert codes("?status=draft") == ["PR-EAST"] and codes("?status=published") == ["PR-API"]
    today(DURING)
    assert codes("?status=running") == ["PR-API"] and codes("?status=ended") == []
    assert codes("?kind=display_fee") == ["PR-EAST"]
    assert codes("?region=BJ") == ["PR-API"]  # a promotion of 华北 runs in 北京
    assert codes("?region=EAST") == ["PR-EAST"] and codes("?month=2026-04") == ["PR-EAST"]
    assert codes(who=token("sup.north")) == ["PR-API"] and codes(who=token("sup.east")) == []  # drafts: head office
    assert codes("?per_page=1") == ["PR-EAST"]
    assert "page=2" in _ok(client.get(f"{P}?per_page=1", headers=fin))["next"]
    for query, field in (("?status=over", "status"), ("?kind=bogof", "kind"), ("?region=XX", "region"),
                         ("?month=2026-4", "month")):
        _refused(client.get(f"{P}{query}", headers=fin), 422, field=field)
