"""/api/v1/meetings and /api/v1/action-items on SQLite and PostgreSQL: a meeting of 北京 from
scheduling to its published minutes (agenda with a promotion, targets, action items, who
attended), the open items of an earlier meeting carried over, the lists and their filters, action
items followed up (re-assigned, resolved, reopened); scope (404 outside it, 403 for a role or for
another supervisor's region), refusals with their codes and field names (nothing written), and
stale versions (409 with the current one). "Today" is set through the services' business_today."""
from datetime import date

import pytest
from sqlalchemy import func, select

from channel.extensions import db
from channel.meetings import services as ms
from channel.meetings.models import ActionItem, AgendaItem, Meeting, MeetingTarget
from tests.promotions import promotion

M = "/api/v1/meetings"
NEW = {"region": "BJ", "date": "2026-03-05", "time": "09:30", "place": "北京办事处会议室", "title": "三月经销商会议",
       "accounts": ["GD-BJ01", "DL-BJ001", "DL-BJ002"], "staff": ["rep.beijing"]}


@pytest.fixture
def today(monkeypatch):
    """today(day): the business day of the services (and so of the API) from now on."""
    def _set(day):
        monkeypatch.setattr(ms, "business_today", lambda: day)
    _set(date(2026, 3, 1))
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
                     for model in (Meeting, AgendaItem, MeetingTarget, ActionItem))


def _scheduled(client, token, **changes) -> dict:
    return _ok(client.post(M, json={**NEW, **changes}, headers=token("sup.north")), 201)


# --- the flow -------------------------------------------------------------------------------------

def test_a_meeting_from_scheduling_to_published_minutes(app, client, token, today):
    sup, rep, dist = token("sup.north"), token("rep.beijing"), token("dist.bj")
    with app.app_context():
        promotion("per_unit", 200, products=("P-W550",), code="PR-SPRING")
    # February's meeting leaves an item open: March's agenda starts with it.
    feb = _scheduled(client, token, date="2026-02-05", title="二月经销商会议")
    old = _ok(client.post(f"{M}/{feb['id']}/items", json={"title": "清理过期库存", "owner": "rep.beijing",
                                                          "due_on": "2026-02-20"}, headers=sup), 201)
    assert (old["number"], old["status"], old["owner"]["username"]) == (f"M{feb['id']}-1", "open", "rep.beijing")

    body = _scheduled(client, token)
    url = f"{M}/{body['id']}"
    assert (body["region"], body["month"], body["date"], body["time"]) == ("BJ", "2026-03", "2026-03-05", "09:30")
    assert (body["status"], body["version"], body["place"]) == ("planned", 1, "北京办事处会议室")
    assert [a["code"] for a in body["accounts"]] == ["DL-BJ001", "DL-BJ002", "GD-BJ01"]
    assert [s["username"] for s in body["staff"]] == ["rep.beijing"]
    assert [c["number"] for c in body["carried_over"]] == [old["number"]]
    assert body["actions"] == ["edit", "agenda", "targets", "items", "hold"]

    body = _ok(client.post(f"{url}/agenda", json={"kind": "market", "title": "竞品降价5%", "body": "华北价格战",
                                                  "version": 1}, headers=sup), 201)
    body = _ok(client.post(f"{url}/agenda", json={"kind": "policy", "title": "春季铺货", "promotion": "PR-SPRING",
                                                  "version": body["version"]}, headers=sup), 201)
    assert [(a["seq"], a["kind"], a["promotion"]) for a in body["agenda"]] == [
        (1, "market", None), (2, "policy", "PR-SPRING")]
    body = _ok(client.post(f"{url}/targets", json={"version": body["version"], "targets": [
        {"account": "GD-BJ01", "shipment": "500000.00", "payment": "450000.00"},
        {"account": "DL-BJ001", "shipment": "20000.00", "payment": "0.00"}]}, headers=sup))
    assert body["targets"] == [{"account": "DL-BJ001", "shipment": "20000.00", "payment": "0.00"},
                               {"account": "GD-BJ01", "shipment": "500000.00", "payment": "450000.00"}]
    assert body["targets_total"] == {"shipment": "520000.00", "payment": "450000.00"}
    # A target removed: neither amount.
    body = _ok(client.post(f"{url}/targets", json={"targets": [{"account": "DL-BJ001"}]}, headers=sup))
    assert [t["account"] for t in body["targets"]] == ["GD-BJ01"]
    item = _ok(client.post(f"{url}/items", json={"title": "补发破损货品", "owner": "rep.beijing", "due_on": "2026-03-15",
                                                 "account": "DL-BJ001", "detail": "三箱破损"}, headers=sup), 201)
    assert (item["account"], item["due_on"], item["overdue"], item["version"]) == ("DL-BJ001", "2026-03-15", False, 1)
    body = _ok(client.put(url, json={"date": "2026-03-05", "place": "北京办事处会议室", "title": "三月经销商会议",
                                     "summary": "目标已分解。"}, headers=sup))
    assert body["summary"] == "目标已分解。" and len(body["accounts"]) == 3 and body["time"] == "09:30"

    # Held from its day on, with who attended; then the minutes.
    _refused(client.post(f"{url}/hold", json={}, headers=sup), 422, "not_yet")
    today(date(2026, 3, 6))
    body = _ok(client.post(f"{url}/hold", json={"version": body["version"], "attended_accounts": ["GD-BJ01"],
                                                "attended_staff": ["rep.beijing"]}, headers=sup))
    assert body["status"] == "held" and body["held_by"]["username"] == "sup.north"
    assert {a["code"]: a["attended"] for a in body["accounts"]} == {"GD-BJ01": True, "DL-BJ001": False,
                                                                    "DL-BJ002": False}
    assert [(c["number"], c["overdue"]) for c in body["carried_over"]] == [(old["number"], True)]
    assert body["actions"] == ["edit", "agenda", "targets", "items", "publish"]
    # The invited distributor sees nothing before the minutes are published.
    assert client.get(url, headers=dist).status_code == 404
    body = _ok(client.post(f"{url}/publish", json={"version": body["version"]}, headers=sup))
    assert body["status"] == "published" and body["actions"] == [] and body["published_at"]
    _refused(client.post(f"{url}/publish", json={}, headers=sup), 422, "already_published")
    _refused(client.post(f"{url}/agenda", json={"kind": "other", "title": "x"}, headers=sup), 422, "already_published")

    seen = _ok(client.get(url, headers=dist))
    assert seen["targets"][0]["shipment"] == "500000.00" and seen["action_items"][0]["title"] == "补发破损货品"
    assert client.get(url, headers=token("dist.tj")).status_code == 404
    # The follow-up goes on after the minutes: the owner resolves it.
    done = _ok(client.post(f"/api/v1/action-items/{item['id']}/resolve", json={"version": 1, "resolution": "已补发"},
                           headers=rep))
    assert (done["status"], done["resolution"], done["resolved_by"]["username"], done["version"]) == (
        "done", "已补发", "rep.beijing", 2)


def test_lists_and_their_filters(app, client, token, today):
    march = _scheduled(client, token)
    _scheduled(client, token, date="2026-04-02", title="四月经销商会议")
    _scheduled(client, token, region="TJ", accounts=["GD-TJ01"], staff=[], title="天津三月会议")
    sup = token("sup.north")
    body = _ok(client.get(M, headers=sup))
    assert [m["title"] for m in body["items"]] == ["四月经销商会议", "天津三月会议", "三月经销商会议"]
    assert [m["id"] for m in _ok(client.get(f"{M}?month=2026-03&region=BJ", headers=sup))["items"]] == [march["id"]]
    assert len(_ok(client.get(f"{M}?region=NORTH", headers=sup))["items"]) == 3  # sub-regions included
    assert _ok(client.get(f"{M}?status=published", headers=sup))["items"] == []
    page = _ok(client.get(f"{M}?per_page=2", headers=sup))
    assert len(page["items"]) == 2 and "page=2" in page["next"]
    assert _ok(client.get(M, headers=token("sup.east")))["items"] == []
    assert _ok(client.get(M, headers=token("dist.bj")))["items"] == []  # nothing published yet
    assert len(_ok(client.get(M, headers=token("finance")))["items"]) == 3
    _refused(client.get(f"{M}?status=cancelled", headers=sup), 422, field="status")
    _refused(client.get(f"{M}?month=2026-3", headers=sup), 422, field="month")
    _refused(client.get(f"{M}?region=XX", headers=sup), 422, field="region")


# --- action items ---------------------------------------------------------------------------------

def test_action_items_are_listed_and_followed_up(app, client, token, today):
    sup, rep = token("sup.north"), token("rep.beijing")
    m = _scheduled(client, token)
    items = f"{M}/{m['id']}/items"
    late = _ok(client.post(items, json={"title": "补发破损货品", "owner": "rep.beijing", "due_on": "2026-03-10"},
                           headers=sup), 201)
    mine = _ok(client.post(items, json={"title": "核对返利", "owner": "sup.north", "due_on": "2026-03-25"},
                           headers=sup), 201)
    today(date(2026, 3, 20))
    A = "/api/v1/action-items"
    assert [i["id"] for i in _ok(client.get(A, headers=sup))["items"]] == [late["id"], mine["id"]]
    assert [i["id"] for i in _ok(client.get(f"{A}?mine=true", headers=rep))["items"]] == [late["id"]]
    assert [i["id"] for i in _ok(client.get(f"{A}?status=overdue", headers=sup))["items"]] == [late["id"]]
    assert _ok(client.get(f"{A}/{late['id']}", headers=rep))["overdue"] is True
    _refused(client.get(f"{A}?status=late", headers=sup), 422, field="status")
    _refused(client.get(f"{A}?mine=yes", headers=sup), 422, field="mine")

    # Re-assigned by the supervisor; resolved by its owner; reopened; a stale version is 409.
    moved = _ok(client.put(f"{A}/{late['id']}", json={"version": 1, "owner": "sup.north", "due_on": "2026-03-31"},
                           headers=sup))
    assert (moved["owner"]["username"], moved["due_on"], moved["overdue"], moved["version"]) == (
        "sup.north", "2026-03-31", False, 2)
    body = _refused(client.post(f"{A}/{late['id']}/resolve", json={"version": 1, "resolution": "已办"}, headers=sup),
                    409, "stale", "version")
    assert body["current_version"] == 2 and body["status"] == "open"
    _refused(client.post(f"{A}/{late['id']}/resolve", json={"version": 2}, headers=sup), 422, field="resolution")
    done = _ok(client.post(f"{A}/{late['id']}/resolve", json={"version": 2, "resolution": "已补发"}, headers=sup))
    assert done["status"] == "done"
    assert [i["id"] for i in _ok(client.get(f"{A}?status=done", headers=sup))["items"]] == [late["id"]]
    _refused(client.post(f"{A}/{late['id']}/resolve", json={"resolution": "again"}, headers=sup), 422, "item_done")
    again = _ok(client.post(f"{A}/{late['id']}/reopen", json={"version": 3, "reason": "客户又投诉"}, headers=sup))
    assert (again["status"], again["resolution"], again["version"]) == ("open", None, 4)

    # rep.beijing no longer owns it, but sees its meeting; may not follow it up (403). Out of scope: 404.
    assert client.get(f"{A}/{late['id']}", headers=rep).status_code == 200
    _refused(client.post(f"{A}/{late['id']}/resolve", json={"resolution": "x"}, headers=rep), 403)
    for name in ("sup.east", "rep.shanghai", "dist.bj"):
        assert client.post(f"{A}/{late['id']}/resolve", json={"resolution": "x"},
                           headers=token(name)).status_code == 404, name
        assert client.get(f"{A}/{late['id']}", headers=token(name)).status_code == 404, name
    assert client.get(f"{A}/999999", headers=sup).status_code == 404
    _refused(client.put(f"{A}/{late['id']}", json={"owner": "dist.bj"}, headers=sup), 422, "owner_invalid", "owner")
    _refused(client.put(f"{A}/{late['id']}", json={"owner": "nobody"}, headers=sup), 422, field="owner")
    _refused(client.put(f"{A}/{late['id']}", json={"owner": "sup.north", "due_on": "2026-03-01"}, headers=sup), 422,
             "due_before_meeting", "due_on")


# --- refusals -------------------------------------------------------------------------------------

def test_scope_and_roles(app, client, token, today):
    m = _scheduled(client, token)
    url = f"{M}/{m['id']}"
    for name in ("sup.east", "rep.shanghai", "dist.bj", "dist.tj"):
        assert client.get(url, headers=token(name)).status_code == 404, name
        assert client.post(f"{url}/publish", json={}, headers=token(name)).status_code == 404, name
    assert client.get(f"{M}/999999", headers=token("admin")).status_code == 404
    assert _ok(client.get(url, headers=token("rep.beijing")))["actions"] == []
    # Field staff, finance and distributors run no meetings.
    for name in ("rep.beijing", "finance", "dist.bj"):
        _refused(client.post(M, json=NEW, headers=token(name)), 403)
    for name in ("rep.beijing", "finance"):
        _refused(client.put(url, json={**NEW}, headers=token(name)), 403)
        _refused(client.post(f"{url}/items", json={"title": "x", "owner": "rep.beijing"}, headers=token(name)), 403)
    # Another supervisor's region.
    _refused(client.post(M, json=NEW, headers=token("sup.east")), 403, "not_your_region", "region")
    assert client.get(url, headers=token("admin")).status_code == 200
    assert client.get(M, headers={}).status_code == 401


def test_bad_input_is_refused_with_its_field_and_nothing_is_written(app, client, token, today):
    sup = token("sup.north")
    m = _scheduled(client, token)
    url = f"{M}/{m['id']}"
    before = _counts(app)
    cases = [
        (M, {**NEW, "place": ""}, None, "place"),
        (M, {**NEW, "date": "2026/03/05"}, None, "date"),
        (M, {**NEW, "time": "9:30"}, None, "time"),
        (M, {**NEW, "accounts": ["GD-BJ01", "NOPE"]}, None, "accounts[1]"),
        (M, {**NEW, "accounts": ["GD-TJ01"]}, "account_not_in_region", "accounts"),
        (M, {**NEW, "staff": ["rep.shanghai"]}, "user_not_in_region", "staff"),
        (M, {**NEW, "colour": "red"}, None, "colour"),
        (M, {**NEW, "region": "XX"}, None, "region"),
        (f"{url}/agenda", {"kind": "gossip", "title": "x"}, None, "kind"),
        (f"{url}/agenda", {"kind": "market", "title": ""}, None, "title"),
        (f"{url}/agenda", {"kind": "market", "title": "x", "promotion": "PR-NONE"}, None, "promotion"),
        (f"{url}/targets", {"targets": [{"account": "GD-BJ01", "shipment": 5000, "payment": "1.00"}]}, None,
         "targets[0].shipment"),
        (f"{url}/targets", {"targets": [{"account": "GD-BJ01", "shipment": "1.00", "payment": "1.005"}]}, None,
         "targets[0].payment"),
        (f"{url}/targets", {"targets": [{"account": "GD-BJ01", "shipment": "1.00", "payment": "1.00"},
                                        {"account": "DL-BJ003", "shipment": "1.00", "payment": "1.00"}]},
         "target_not_invited", "targets[1].account"),
        (f"{url}/targets", {"targets": []}, None, "targets"),
        (f"{url}/items", {"title": "x"}, None, "owner"),
        (f"{url}/items", {"title": "x", "owner": "rep.beijing", "due_on": "2026-03-01"}, "due_before_meeting",
         "due_on"),
        (f"{url}/items", {"title": "x", "owner": "rep.beijing", "account": "DL-BJ003"}, "account_not_invited",
         "account"),
        (f"{url}/hold", {"attended_accounts": ["DL-BJ003"]}, "attendee_not_invited", "attended_accounts[0]"),
    ]
    for path, body, code, field in cases:
        _refused(client.post(path, json=body, headers=sup), 422, code, field)
    assert client.post(M, data="not json", headers=sup).status_code == 400
    assert _counts(app) == before

    # One target per account and month: another meeting of March may not set GD-BJ01's again.
    _ok(client.post(f"{url}/targets", json={"targets": [{"account": "GD-BJ01", "shipment": "1.00",
                                                          "payment": "1.00"}]}, headers=sup))
    other = _scheduled(client, token, date="2026-03-20", title="三月补充会议")
    _refused(client.post(f"{M}/{other['id']}/targets", json={"targets": [
        {"account": "DL-BJ001", "shipment": "1.00", "payment": "1.00"},
        {"account": "GD-BJ01", "shipment": "2.00", "payment": "2.00"}]}, headers=sup),
        422, "target_set_elsewhere", "targets[1].account")


def test_a_stale_version_is_409_and_changes_nothing(app, client, token, today):
    sup = token("sup.north")
    m = _scheduled(client, token)
    url = f"{M}/{m['id']}"
    _ok(client.post(f"{url}/agenda", json={"kind": "market", "title": "竞品", "version": 1}, headers=sup), 201)
    before = _counts(app)
    for path, method, body in ((url, client.put, {**{k: NEW[k] for k in ("date", "place", "title")},
                                                  "title": "改名", "version": 1}),
                               (f"{url}/agenda", client.post, {"kind": "other", "title": "x", "version": 1}),
                               (f"{url}/targets", client.post, {"version": 1, "targets": [
                                   {"account": "GD-BJ01", "shipment": "1.00", "payment": "1.00"}]}),
                               (f"{url}/items", client.post, {"title": "x", "owner": "rep.beijing", "version": 1})):
        body = _refused(method(path, json=body, headers=sup), 409, "stale", "version")
        assert (body["current_version"], body["status"]) == (2, "planned")
    today(date(2026, 3, 6))
    _refused(client.post(f"{url}/hold", json={"version": 1}, headers=sup), 409, "stale", "version")
    assert _counts(app) == before
    assert _ok(client.get(url, headers=sup))["title"] == "三月经销商会议"


def test_a_distributor_reads_its_own_accounts_targets_and_items(app, client, token, today):
    sup, dist = token("sup.north"), token("dist.bj")
    m = _scheduled(client, token, region="NORTH", accounts=["GD-BJ01", "GD-TJ01"], staff=[], title="华北季度会议")
    url = f"{M}/{m['id']}"
    _ok(client.post(f"{url}/targets", json={"targets": [
        {"account": "GD-BJ01", "shipment": "100.00", "payment": "90.00"},
        {"account": "GD-TJ01", "shipment": "200.00", "payment": "180.00"}]}, headers=sup))
    ids = {}
    for title, code in (("北京补货", "GD-BJ01"), ("天津对账", "GD-TJ01"), ("更新价目表", None)):
        ids[title] = _ok(client.post(f"{url}/items", json={"title": title, "owner": "sup.north", "account": code},
                                     headers=sup), 201)["id"]
    today(date(2026, 3, 6))
    _ok(client.post(f"{url}/hold", json={}, headers=sup))
    _ok(client.post(f"{url}/publish", json={}, headers=sup))
    body = _ok(client.get(url, headers=dist))
    assert [t["account"] for t in body["targets"]] == ["GD-BJ01"] and body["targets_total"]["shipment"] == "100.00"
    assert [i["title"] for i in body["action_items"]] == ["北京补货", "更新价目表"]
    assert [a["code"] for a in body["accounts"]] == ["GD-BJ01", "GD-TJ01"]
    listed = _ok(client.get("/api/v1/action-items", headers=dist))["items"]
    assert sorted(i["title"] for i in listed) == ["北京补货", "更新价目表"]
    assert client.get(f"/api/v1/action-items/{ids['天津对账']}", headers=dist).status_code == 404
    assert client.get(f"/api/v1/action-items/{ids['北京补货']}", headers=dist).status_code == 200
    assert len(_ok(client.get(url, headers=token("dist.tj")))["action_items"]) == 2
