"""The meeting pages through the test client: a meeting scheduled, its agenda, targets and action
items, held, its minutes published; refusals (422 with nothing saved, 409 on a stale version);
scope (another region's supervisor, a distributor, field staff); the action items page; the
dashboards; both languages."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from channel.core.periods import Month
from channel.extensions import db
from channel.meetings import services as ms
from channel.meetings.models import ActionItem, AgendaItem, Meeting, MeetingTarget
from tests.helpers import EN, ZH, page_text
from tests.ledger import account, user, written
from tests.meetings import AFTER, ON, meeting, region

BJ_ACCOUNTS = ("GD-BJ01", "DL-BJ001", "DL-BJ002")


@pytest.fixture
def ids(app):
    with app.app_context():
        out = {c: account(c).id for c in BJ_ACCOUNTS + ("GD-TJ01", "DL-TJ001")}
        out.update({u: user(u).id for u in ("sup.north", "rep.beijing", "merch.tianjin", "sup.east")})
        out.update({f"reg:{c}": region(c).id for c in ("BJ", "TJ", "NORTH", "SH")})
    return out


def _meeting(app, meeting_id) -> dict:
    """The meeting as the database holds it: status, version, agenda titles, targets, items."""
    with app.app_context():
        m = db.session.get(Meeting, meeting_id)
        out = {"status": m.status, "version": m.version, "agenda": [(a.kind, a.title) for a in m.agenda],
               "targets": {t.account.code: (t.shipment_fen, t.payment_fen) for t in m.targets},
               "items": [(i.title, i.owner.username, i.due_on, i.status) for i in m.action_items],
               "present": sorted(a.account.code if a.account_id else a.user.username
                                 for a in m.attendees if a.attended), "place": m.place}
        db.session.remove()
    return out


def _count(app, model) -> int:
    with app.app_context():
        n = db.session.execute(select(func.count()).select_from(model)).scalar_one()
        db.session.remove()
    return n


def _planned(app, region_code="BJ", on=ON, **kw) -> int:
    with app.app_context():
        m = meeting(region_code, on=on, **kw)
        meeting_id = m.id
        db.session.remove()
    return meeting_id


def _published(app, region_code="BJ", accounts=BJ_ACCOUNTS, staff=("rep.beijing",), by="sup.north") -> int:
    with app.app_context():
        m = meeting(region_code, accounts=accounts, staff=staff, by=by)
        m = written(ms.hold, m, version=m.version, by=user(by), today=AFTER)
        m = written(ms.publish, m, version=m.version, by=user(by), today=AFTER)
        meeting_id = m.id
        db.session.remove()
    return meeting_id


def test_a_meeting_from_scheduling_to_published_minutes(app, login, ids):
    sup = login("sup.north")
    # The list: both of 华北's cities have no meeting this month.
    resp = sup.get("/meetings/", headers=EN)
    assert resp.status_code == 200
    box = re.search(r'id="regions-without-meeting".*?</section>', page_text(resp), re.S).group(0)
    assert 'data-region="BJ"' in box and 'data-region="TJ"' in box and 'data-region="SH"' not in box
    assert "Schedule a meeting" in box

    # The form: Beijing's distributor ticked, its dealers offered, the region's staff offered.
    resp = sup.get(f"/meetings/new?region={ids['reg:BJ']}", headers=EN)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert re.search(rf'name="accounts" value="{ids["GD-BJ01"]}" checked', html)
    assert re.search(rf'name="accounts" value="{ids["DL-BJ001"]}" >', html)
    assert f'name="staff" value="{ids["rep.beijing"]}"' in html
    assert f'value="{ids["GD-TJ01"]}"' not in html  # not Tianjin's accounts
    assert sup.get(f"/meetings/new?region={ids['reg:SH']}").status_code == 404  # not their region

    resp = sup.post_form("/meetings/new", {
        "region": ids["reg:BJ"], "meeting_date": ON.isoformat(), "meeting_time": "09:30",
        "place": "北京办事处会议室", "title": "三月经销商会议",
        "accounts": [ids[c] for c in BJ_ACCOUNTS], "staff": [ids["rep.beijing"]]})
    assert resp.status_code == 302
    meeting_id = int(re.search(r"/meetings/(\d+)$", resp.headers["Location"]).group(1))
    m = _meeting(app, meeting_id)
    assert m["status"] == "planned" and m["version"] == 1

    # The agenda: a market item.
    resp = sup.post_form(f"/meetings/{meeting_id}/agenda", {
        "version": 1, "kind": "market", "agenda_title": "竞品降价五个点", "body": "朝阳区两家超市"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/meetings/{meeting_id}#agenda")
    m = _meeting(app, meeting_id)
    assert m["agenda"] == [("market", "竞品降价五个点")] and m["version"] == 2

    # Targets: the distributor and one dealer; the other dealer left blank.
    resp = sup.post_form(f"/meetings/{meeting_id}/targets", {
        "version": 2, f"ship-{ids['GD-BJ01']}": "500000.00", f"pay-{ids['GD-BJ01']}": "450000",
        f"ship-{ids['DL-BJ001']}": "20000.50", f"pay-{ids['DL-BJ001']}": "",
        f"ship-{ids['DL-BJ002']}": "", f"pay-{ids['DL-BJ002']}": ""})
    assert resp.status_code == 302
    m = _meeting(app, meeting_id)
    assert m["targets"] == {"GD-BJ01": (50_000_000, 45_000_000), "DL-BJ001": (2_000_050, 0)}

    # A problem raised: an action item for the Beijing rep.
    resp = sup.post_form(f"/meetings/{meeting_id}/items", {
        "version": m["version"], "item_title": "补发破损货品", "detail": "三箱外包装破损",
        "account_id": ids["DL-BJ001"], "owner_id": ids["rep.beijing"], "due_on": "2026-03-12"})
    assert resp.status_code == 302
    m = _meeting(app, meeting_id)
    assert m["items"] == [("补发破损货品", "rep.beijing", date(2026, 3, 12), "open")]

    for headers, words in ((EN, ("Market information", "Targets for 2026-03", "Mark as held")),
                           (ZH, ())):
        resp = sup.get(f"/meetings/{meeting_id}", headers=headers)
        assert resp.status_code == 200
        text = page_text(resp)
        assert "竞品降价五个点" in text and "补发破损货品" in text and "¥500,000.00" not in text  # inputs
        assert 'value="500000.00"' in text and 'value="20000.50"' in text
        for w in words:
            assert w in text

    # Held: who was there.
    resp = sup.post_form(f"/meetings/{meeting_id}/hold", {
        "version": m["version"], "present_accounts": [ids["GD-BJ01"], ids["DL-BJ001"]],
        "present_staff": [ids["rep.beijing"]]})
    assert resp.status_code == 302
    m = _meeting(app, meeting_id)
    assert m["status"] == "held" and m["present"] == ["DL-BJ001", "GD-BJ01", "rep.beijing"]
    # The chair's summary, on the edit form once held.
    resp = sup.get(f"/meetings/{meeting_id}/edit", headers=EN)
    assert resp.status_code == 200 and "Chair's summary" in page_text(resp) and "readonly" in page_text(resp)

    # Published: the minutes are final.
    resp = sup.post_form(f"/meetings/{meeting_id}/publish", {"version": m["version"]})
    assert resp.status_code == 302
    m = _meeting(app, meeting_id)
    assert m["status"] == "published"
    resp = sup.get(f"/meetings/{meeting_id}", headers=EN)
    text = page_text(resp)
    assert "¥500,000.00" in text and "Mark as held" not in text and 'id="targets-form"' not in text
    if "meetings.minutes" in app.view_functions:
        assert f'href="/meetings/{meeting_id}/minutes.pdf"' in text
    # Nothing changes a published meeting from its pages.
    resp = sup.post_form(f"/meetings/{meeting_id}/agenda", {"version": m["version"], "kind": "other",
                                                             "agenda_title": "补充"})
    assert resp.status_code == 409 and "published" in page_text(resp)
    assert sup.get(f"/meetings/{meeting_id}/edit").status_code == 409

    # The invited distributor reads the minutes in its portal.
    dist = login("dist.bj")
    resp = dist.get("/meetings/", headers=ZH)
    assert resp.status_code == 200 and "三月经销商会议" in page_text(resp)
    resp = dist.get(f"/meetings/{meeting_id}", headers=ZH)
    assert resp.status_code == 200
    text = page_text(resp)
    assert "¥500,000.00" in text and "补发破损货品" in text and 'id="add-agenda"' not in text


def test_bad_input_is_refused_and_nothing_is_saved(app, login, ids):
    sup = login("sup.north")
    before = _count(app, Meeting)
    resp = sup.post_form("/meetings/new", {"region": ids["reg:BJ"], "meeting_date": ON.isoformat(), "place": " ",
                                           "title": "三月会议", "accounts": [ids["GD-BJ01"]]}, headers=EN)
    assert resp.status_code == 422 and "Enter the place of the meeting." in page_text(resp)
    resp = sup.post_form("/meetings/new", {"region": ids["reg:BJ"], "meeting_date": "2026-02-30", "place": "x",
                                           "title": "三月会议"}, headers=EN)
    assert resp.status_code == 422
    # An account of another region: the services refuse it.
    resp = sup.post_form("/meetings/new", {"region": ids["reg:BJ"], "meeting_date": ON.isoformat(), "place": "x",
                                           "title": "三月会议", "accounts": [ids["GD-TJ01"]]}, headers=EN)
    assert resp.status_code == 422 and "Invite only active accounts of the meeting's region." in page_text(resp)
    assert _count(app, Meeting) == before

    meeting_id = _planned(app)
    v = _meeting(app, meeting_id)["version"]
    resp = sup.post_form(f"/meetings/{meeting_id}/targets", {
        "version": v, f"ship-{ids['GD-BJ01']}": "12,000", f"pay-{ids['GD-BJ01']}": "1",
        f"ship-{ids['DL-BJ001']}": "-5", f"pay-{ids['DL-BJ001']}": "",
        f"ship-{ids['DL-BJ002']}": "100.00", f"pay-{ids['DL-BJ002']}": "1.005"}, headers=EN)
    assert resp.status_code == 422
    text = page_text(resp)
    assert "Nothing was saved" in text and 'value="12,000"' in text
    assert "The amount must not be negative." in text and "At most two decimals (fen)." in text
    assert _count(app, MeetingTarget) == 0

    resp = sup.post_form(f"/meetings/{meeting_id}/items", {
        "version": v, "item_title": "核对返利", "owner_id": ids["rep.beijing"], "due_on": "2026-03-01"}, headers=EN)
    assert resp.status_code == 422 and "The due date cannot be before the meeting." in page_text(resp)
    resp = sup.post_form(f"/meetings/{meeting_id}/items", {
        "version": v, "item_title": "核对返利", "owner_id": ids["merch.tianjin"]}, headers=EN)
    assert resp.status_code == 422 and "Choose the owner." in page_text(resp)  # not a Beijing owner
    resp = sup.post_form(f"/meetings/{meeting_id}/agenda", {"version": v, "kind": "market", "agenda_title": ""},
                         headers=EN)
    assert resp.status_code == 422 and "Enter a title." in page_text(resp)
    resp = sup.post_form(f"/meetings/{meeting_id}/agenda", {"version": v, "kind": "gossip", "agenda_title": "x"})
    assert resp.status_code == 422
    assert _count(app, ActionItem) == 0 and _count(app, AgendaItem) == 0
    assert _meeting(app, meeting_id)["version"] == v

    # A meeting whose day has not come is not held.
    later = _planned(app, on=date.today() + timedelta(days=7), title="下月会议")
    resp = sup.get(f"/meetings/{later}", headers=EN)
    assert 'id="hold-not-yet"' in resp.get_data(as_text=True)
    resp = sup.post_form(f"/meetings/{later}/hold", {"version": 1}, headers=EN)
    assert resp.status_code == 422 and "it can be marked as held from that day" in page_text(resp)
    assert _meeting(app, later)["status"] == "planned"


def test_a_stale_version_is_refused_with_409(app, login, ids):
    sup = login("sup.north")
    meeting_id = _planned(app)
    assert sup.post_form(f"/meetings/{meeting_id}/agenda", {"version": 1, "kind": "market",
                                                            "agenda_title": "第一条"}).status_code == 302
    resp = sup.post_form(f"/meetings/{meeting_id}/agenda", {"version": 1, "kind": "market",
                                                            "agenda_title": "第二条"}, headers=EN)
    assert resp.status_code == 409 and "changed while you were looking at it" in page_text(resp)
    resp = sup.post_form(f"/meetings/{meeting_id}/targets", {"version": 1, f"ship-{ids['GD-BJ01']}": "1"})
    assert resp.status_code == 409
    resp = sup.post_form(f"/meetings/{meeting_id}/edit", {
        "version": 1, "meeting_date": ON.isoformat(), "place": "新地点", "title": "三月会议"}, headers=ZH)
    assert resp.status_code == 409
    m = _meeting(app, meeting_id)
    assert m["agenda"] == [("market", "第一条")] and m["targets"] == {} and m["place"] == "北京办事处会议室"
    # The version seen: saved.
    resp = sup.post_form(f"/meetings/{meeting_id}/edit", {
        "version": 2, "meeting_date": ON.isoformat(), "place": "新地点", "title": "三月会议",
        "accounts": [ids["GD-BJ01"]], "staff": []})
    assert resp.status_code == 302 and _meeting(app, meeting_id)["place"] == "新地点"
    # A planned meeting is cancelled; a held one is kept.
    assert sup.post_form(f"/meetings/{meeting_id}/delete", {"version": 2}).status_code == 409
    assert sup.post_form(f"/meetings/{meeting_id}/delete", {"version": 3}).status_code == 302
    assert sup.get(f"/meetings/{meeting_id}").status_code == 404


def test_who_sees_and_who_runs_a_meeting(app, login, ids):
    planned = _planned(app)
    published = _published(app)
    tianjin = _published(app, "TJ", accounts=("GD-TJ01", "DL-TJ001"), staff=("merch.tianjin",))
    east = login("sup.east")
    assert east.get(f"/meetings/{planned}").status_code == 404
    assert east.post_form(f"/meetings/{planned}/agenda", {"version": 1, "kind": "market",
                                                          "agenda_title": "x"}).status_code == 404
    assert f"/meetings/{planned}" not in east.get("/meetings/").get_data(as_text=True)

    dist = login("dist.bj")
    assert dist.get(f"/meetings/{planned}").status_code == 404  # not published yet
    assert dist.get(f"/meetings/{tianjin}").status_code == 404  # not invited
    assert dist.get(f"/meetings/{published}").status_code == 200
    listed = dist.get("/meetings/").get_data(as_text=True)
    assert f"/meetings/{published}" in listed and f"/meetings/{planned}" not in listed
    assert f"/meetings/{tianjin}" not in listed
    assert dist.get("/meetings/new").status_code == 403
    assert dist.post_form(f"/meetings/{published}/publish", {"version": 3}).status_code == 403
    assert login("dist.tj").get(f"/meetings/{tianjin}").status_code == 200

    # Field staff read their region's meetings; the supervisor runs them.
    rep = login("rep.beijing")
    resp = rep.get(f"/meetings/{planned}", headers=EN)
    assert resp.status_code == 200 and 'id="add-agenda"' not in resp.get_data(as_text=True)
    assert rep.get(f"/meetings/{tianjin}").status_code == 404
    assert rep.get("/meetings/new").status_code == 403
    assert rep.get(f"/meetings/{planned}/edit").status_code == 403
    for url in ("agenda", "targets", "items", "hold", "publish", "delete"):
        assert rep.post_form(f"/meetings/{planned}/{url}", {"version": 1}).status_code == 403, url
    assert login("finance").get(f"/meetings/{planned}").status_code == 200
    assert login("finance").post_form(f"/meetings/{planned}/hold", {"version": 1}).status_code == 403
    assert _meeting(app, planned)["status"] == "planned"
    assert login("admin").get(f"/meetings/{planned}").status_code == 200


def test_action_items_are_followed_up_on_their_page(app, login, ids):
    with app.app_context():
        m = meeting()
        item = written(ms.raise_item, m, title="补发破损货品", owner=user("rep.beijing"), due_on=date(2026, 3, 10),
                       by=user("sup.north"))
        other = written(ms.raise_item, m, title="核对三月返利", owner=user("sup.north"), due_on=None,
                        by=user("sup.north"))
        item_id, other_id = item.id, other.id
        db.session.remove()
    rep = login("rep.beijing")
    resp = rep.get("/meetings/items", headers=EN)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert html.index(f'id="item-{item_id}"') < html.index(f'id="item-{other_id}"')  # mine first
    assert re.search(rf'id="item-{item_id}" class="overdue mine', html)
    assert f'id="resolve-{item_id}"' in html and f'id="resolve-{other_id}"' not in html  # not theirs
    mine = rep.get("/meetings/items?mine=1").get_data(as_text=True)
    assert f'id="item-{item_id}"' in mine and f'id="item-{other_id}"' not in mine
    assert login("rep.beijing").get("/meetings/items?status=nope").status_code == 400

    resp = rep.post_form(f"/meetings/items/{item_id}/resolve", {"version": 1, "resolution": " "}, headers=EN)
    assert resp.status_code == 422 and "Say how the item was resolved." in page_text(resp)
    assert rep.post_form(f"/meetings/items/{other_id}/resolve", {"version": 1, "resolution": "x"}).status_code == 403
    resp = rep.post_form(f"/meetings/items/{item_id}/resolve", {"version": 1, "resolution": "已补发三箱",
                                                                "next": "/meetings/items?status=all"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/meetings/items?status=all#item-{item_id}")
    resp = rep.post_form(f"/meetings/items/{item_id}/resolve", {"version": 1, "resolution": "again"}, headers=EN)
    assert resp.status_code == 409
    done = rep.get("/meetings/items?status=done", headers=ZH).get_data(as_text=True)
    assert "已补发三箱" in done and f'id="reopen-{item_id}"' in done

    resp = rep.post_form(f"/meetings/items/{item_id}/reopen", {"version": 2, "reason": ""}, headers=EN)
    assert resp.status_code == 422 and "Say why the item is reopened." in page_text(resp)
    resp = rep.post_form(f"/meetings/items/{item_id}/reopen", {"version": 2, "reason": "客户反映仍缺一箱",
                                                               "next": "https://evil.example/"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/meetings/items#item-{item_id}")
    # Re-assigned and re-scheduled by the supervisor.
    sup = login("sup.north")
    resp = sup.post_form(f"/meetings/items/{item_id}", {"version": 3, "owner_id": ids["sup.north"],
                                                        "due_on": "2026-02-01"}, headers=EN)
    assert resp.status_code == 422 and "The due date cannot be before the meeting." in page_text(resp)
    resp = sup.post_form(f"/meetings/items/{item_id}", {"version": 3, "owner_id": ids["sup.north"],
                                                        "due_on": "2026-04-30"})
    assert resp.status_code == 302
    with app.app_context():
        i = db.session.get(ActionItem, item_id)
        assert (i.status, i.owner.username, i.due_on, i.version) == ("open", "sup.north", date(2026, 4, 30), 4)
        db.session.remove()
    assert login("sup.east").post_form(f"/meetings/items/{item_id}/resolve", {"version": 4,
                                                                             "resolution": "x"}).status_code == 404
    assert login("dist.bj").get("/meetings/items").status_code == 200


def test_dashboards_show_overdue_items_and_regions_without_a_meeting(app, login, ids):
    sup = login("sup.north")
    resp = sup.get("/dashboard", headers=EN)
    panel = re.search(r'id="meeting-actions".*?</section>', resp.get_data(as_text=True), re.S).group(0)
    assert 'data-region="BJ"' in panel and 'data-region="TJ"' in panel and "items-overdue" not in panel
    with app.app_context():
        today = ms.business_today()
        m = meeting(on=today, title="本月会议")
        item = written(ms.raise_item, m, title="更新价目表", owner=user("rep.beijing"), due_on=today, by=user("sup.north"))
        item_id = item.id
        old = meeting(on=date(2026, 3, 5))
        late = written(ms.raise_item, old, title="补发破损货品", owner=user("rep.beijing"), due_on=date(2026, 3, 10),
                       by=user("sup.north"))
        late_id = late.id
        db.session.remove()
    resp = sup.get("/dashboard", headers=ZH)
    panel = re.search(r'id="meeting-actions".*?</section>', resp.get_data(as_text=True), re.S).group(0)
    assert 'data-region="BJ"' not in panel and 'data-region="TJ"' in panel
    assert f'data-item="{late_id}"' in panel and f'data-item="{item_id}"' not in panel  # due today: not late
    rep_home = login("rep.beijing").get("/dashboard", headers=EN).get_data(as_text=True)
    assert f'data-item="{late_id}"' in rep_home and "meetings-missing" not in rep_home
    assert 'id="meeting-actions"' not in login("merch.tianjin").get("/dashboard").get_data(as_text=True)
    assert 'id="meeting-actions"' not in login("dist.bj").get("/dashboard").get_data(as_text=True)
    assert 'id="meeting-actions"' in login("admin").get("/dashboard").get_data(as_text=True)


def test_the_promotions_panel_lists_reports_to_verify(app, login):
    from channel.promotions import services as ps
    from tests.promotions import DURING, enrol, new_product, promotion

    with app.app_context():
        new_product()
        p = promotion("per_outlet", 5_000)
        e = enrol(p, "DL-BJ001", outlets=10)
        written(ps.report_execution, e, executed_on=date(2026, 3, 10), outlets=6, by=user("rep.beijing"),
                today=DURING)
        promotion_id = p.id
        db.session.remove()
    for headers in (EN, ZH):
        html = login("sup.north").get("/dashboard", headers=headers).get_data(as_text=True)
        panel = re.search(r'id="promotion-actions".*?</section>', html, re.S).group(0)
        assert f'href="/promotions/{promotion_id}/reports"' in panel
    assert 'id="promotion-actions"' not in login("sup.east").get("/dashboard").get_data(as_text=True)
    assert 'id="promotion-actions"' not in login("rep.beijing").get("/dashboard").get_data(as_text=True)


def test_every_meeting_page_renders_in_both_languages(app, login, ids):
    published = _published(app)
    planned = _planned(app, on=ON + timedelta(days=1), title="补充会议")
    with app.app_context():
        m = db.session.get(Meeting, planned)
        written(ms.raise_item, m, title="核对返利", owner=user("rep.beijing"), due_on=None, by=user("sup.north"))
        db.session.remove()
    pages = {"sup.north": ["/meetings/", f"/meetings/{planned}", f"/meetings/{published}", "/meetings/items",
                           "/meetings/items?status=all", f"/meetings/new?region={ids['reg:TJ']}",
                           f"/meetings/{planned}/edit", f"/meetings/?month=2026-03&region={ids['reg:BJ']}"],
             "rep.beijing": ["/meetings/", f"/meetings/{planned}", "/meetings/items"],
             "dist.bj": ["/meetings/", f"/meetings/{published}", "/meetings/items"],
             "admin": ["/meetings/", "/meetings/new", f"/meetings/{planned}"],
             "finance": ["/meetings/", f"/meetings/{published}"]}
    for username, urls in pages.items():
        client = login(username)
        for url in urls:
            for headers in (EN, ZH):
                resp = client.get(url, headers=headers)
                assert resp.status_code == 200, (username, url, resp.status_code)
    assert login("sup.north").get("/meetings/?month=2026-13").status_code == 400
    assert login("sup.north").get(f"/meetings/?region={ids['reg:SH']}").status_code == 404
    # The agenda offers no promotion link outside a policy item; the month filter narrows the list.
    listed = login("sup.north").get("/meetings/?month=2026-04").get_data(as_text=True)
    assert f"/meetings/{planned}" not in listed and str(Month(2026, 4)) in listed


def test_a_policy_item_links_a_promotion_of_the_region(app, login, ids):
    from tests.promotions import new_product, promotion

    with app.app_context():
        new_product()
        north = promotion("per_unit", 200, code="PR-NORTH")  # 华北: runs in 北京 too
        east = promotion("per_unit", 200, code="PR-EAST", budgets=(("EAST", 500_000),))
        draft = promotion("per_unit", 200, code="PR-DRAFT", publish=False)
        promotion_ids = {"north": north.id, "east": east.id, "draft": draft.id}
        db.session.remove()
    meeting_id = _planned(app)
    sup = login("sup.north")
    html = sup.get(f"/meetings/{meeting_id}", headers=EN).get_data(as_text=True)
    offered = re.search(r'<select[^>]*name="promotion_id".*?</select>', html, re.S).group(0)
    assert f'value="{promotion_ids["north"]}"' in offered
    assert f'value="{promotion_ids["east"]}"' not in offered  # another region's
    assert f'value="{promotion_ids["draft"]}"' not in offered  # a draft a supervisor cannot open
    admin_html = login("admin").get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert f'value="{promotion_ids["draft"]}"' in admin_html  # head office sees its drafts

    resp = sup.post_form(f"/meetings/{meeting_id}/agenda", {
        "version": 1, "kind": "market", "agenda_title": "夏季促销", "promotion_id": promotion_ids["north"]},
        headers=EN)
    assert resp.status_code == 422 and "Only a policy item links a promotion." in page_text(resp)
    resp = sup.post_form(f"/meetings/{meeting_id}/agenda", {
        "version": 1, "kind": "policy", "agenda_title": "夏季促销", "promotion_id": promotion_ids["east"]},
        headers=EN)
    assert resp.status_code == 422 and "Choose a promotion from the list." in page_text(resp)
    assert sup.post_form(f"/meetings/{meeting_id}/agenda", {
        "version": 1, "kind": "policy", "agenda_title": "夏季促销", "body": "每箱返 ¥2.00",
        "promotion_id": promotion_ids["north"]}).status_code == 302
    html = sup.get(f"/meetings/{meeting_id}", headers=ZH).get_data(as_text=True)
    assert f'<a href="/promotions/{promotion_ids["north"]}">PR-NORTH' in html
    assert _meeting(app, meeting_id)["agenda"] == [("policy", "夏季促销")]
