"""The minutes PDF (会议纪要) on SQLite and PostgreSQL: what it prints (minutes_context, plain data),
the PDF read back with pypdf in Chinese and in English (the meeting, the invited accounts and who
attended, the agenda with its promotion, each account's targets and their total, the action items
with owner and resolution, the open items carried over; Chinese printed with the embedded CJK
font), a draft before the minutes are published, and who may download it: staff of the region,
the invited distributor once published; 404 for everyone else. About 0.2 s a render."""
from datetime import date

from sqlalchemy import select

from channel.audit.models import AuditEntry
from channel.extensions import db
from channel.meetings import services as ms
from channel.meetings.minutes import minutes_context
from channel.meetings.models import Meeting
from channel.reports import ondemand
from reports import engine
from tests.helpers import embedded_fonts, pdf_text
from tests.ledger import account, user, written, yuan
from tests.meetings import AFTER, meeting
from tests.promotions import promotion

SUP = "sup.north"


def _published(app, *, publish=True) -> int:
    """March's meeting of 北京 (invited: GD-BJ01, DL-BJ001, DL-BJ002, rep.beijing), with an item
    carried over from February, an agenda of market news and a promotion, targets for two
    accounts, two action items (one resolved); held on 6 March, then published."""
    with app.app_context():
        sup, rep = user(SUP), user("rep.beijing")
        feb = meeting(on=date(2026, 2, 5), title="二月经销商会议")
        written(ms.raise_item, feb, title="清理过期库存", owner=rep, due_on=date(2026, 2, 20), by=sup)
        promo = promotion("per_unit", 200, products=("P-W550",), code="PR-SPRING", by="finance")
        m = meeting()
        written(ms.add_agenda_item, m, kind="market", title="竞品康师傅降价5%", body="华北市场价格战", by=sup)
        written(ms.add_agenda_item, m, kind="policy", title="春季铺货政策", promotion=promo, by=sup)
        written(ms.set_targets, m, {account("GD-BJ01").id: (yuan("500000.00"), yuan("450000.00")),
                                    account("DL-BJ001").id: (yuan("20000.00"), yuan("18000.00"))}, by=sup)
        item = written(ms.raise_item, m, title="补发破损货品", owner=rep, due_on=date(2026, 3, 15),
                       account=account("DL-BJ001"), detail="三箱破损", by=sup)
        written(ms.raise_item, m, title="核对三月返利", owner=sup, due_on=date(2026, 3, 31), by=sup)
        m = db.session.get(Meeting, m.id)
        m = written(ms.update_meeting, m, version=m.version, on=m.meeting_date, at=m.meeting_time, place=m.place,
                    title=m.title, summary="三月目标已分解到各经销商。",
                    account_ids=[a.account_id for a in m.attendees if a.account_id],
                    user_ids=[a.user_id for a in m.attendees if a.user_id], by=sup)
        m = written(ms.hold, m, version=m.version, attended_account_ids=[account("GD-BJ01").id],
                    attended_user_ids=[rep.id], by=sup, today=AFTER)
        written(ms.resolve_item, item, version=item.version, resolution="已补发三箱", by=rep)
        if publish:
            m = written(ms.publish, m, version=m.version, by=sup, today=AFTER)
        return m.id


def test_the_context_is_plain_data_with_everything_the_minutes_print(app):
    meeting_id = _published(app)
    with app.app_context():
        ctx = minutes_context(db.session.get(Meeting, meeting_id), today=date(2026, 4, 1))
    assert (ctx["title"], ctx["month"], ctx["place"], ctx["time"]) == ("三月经销商会议", "2026-03", "北京办事处会议室", "09:30")
    assert ctx["date"] == date(2026, 3, 5) and ctx["status"] == "published" and ctx["draft"] is False
    assert ctx["reference"] == f"M{meeting_id}·v{ctx['reference'].split('·v')[1]}"
    assert [(a["code"], a["attended"]) for a in ctx["accounts"]] == [
        ("GD-BJ01", True), ("DL-BJ001", False), ("DL-BJ002", False)]
    assert [(s["name"], s["attended"]) for s in ctx["staff"]] == [("高峰", True)]
    assert [(c["title"], c["status"]) for c in ctx["carried_over"]] == [("清理过期库存", "overdue")]
    assert [g["kind"] for g in ctx["agenda"]] == ["market", "policy"]
    assert ctx["agenda"][1]["items"][0]["promotion"]["code"] == "PR-SPRING"
    assert [(t["code"], t["shipment_fen"], t["payment_fen"]) for t in ctx["targets"]] == [
        ("DL-BJ001", 2_000_000, 1_800_000), ("GD-BJ01", 50_000_000, 45_000_000)]
    assert ctx["targets_total"] == {"shipment_fen": 52_000_000, "payment_fen": 46_800_000}
    assert [(i["number"], i["owner"], i["status"], i["resolution"]) for i in ctx["items"]] == [
        (f"M{meeting_id}-1", "高峰", "done", "已补发三箱"), (f"M{meeting_id}-2", "马国栋", "overdue", "")]
    assert ctx["held_by"] == ctx["published_by"] == "马国栋" and ctx["summary"] == "三月目标已分解到各经销商。"


def test_the_minutes_in_chinese_and_english(app, login):
    meeting_id = _published(app)
    with app.app_context():
        user(SUP).locale = "en"  # the supervisor reads English; the distributor Chinese (the default)
        db.session.commit()
    url = f"/meetings/{meeting_id}/minutes.pdf"
    pdfs = {}
    for username in (SUP, "dist.bj"):
        resp = login(username).get(url)
        assert resp.status_code == 200, username
        assert resp.mimetype == "application/pdf" and resp.data.startswith(b"%PDF-")
        assert f"minutes-2026-03-BJ-M{meeting_id}.pdf" in resp.headers["Content-Disposition"]
        pdfs[username] = resp.data
    en, zh = pdf_text(pdfs[SUP]), pdf_text(pdfs["dist.bj"])
    for text in (zh, en):
        for expected in ("华东食品有限公司", "三月经销商会议", "北京办事处会议室", "09:30", "2026-03",
                         "北京鑫源商贸有限公司", "朝阳区惠民便利店", "海淀万家超市", "高峰", "马国栋",
                         "竞品康师傅降价5%", "华北市场价格战", "春季铺货政策", "PR-SPRING",
                         "¥500,000.00", "¥450,000.00", "¥20,000.00", "¥18,000.00", "¥520,000.00", "¥468,000.00",
                         f"M{meeting_id}-1", "补发破损货品", "三箱破损", "已补发三箱", f"M{meeting_id}-2",
                         "核对三月返利", "清理过期库存", "三月目标已分解到各经销商。", f"M{meeting_id}·v"):
            assert expected in text, expected
        assert "Draft—notpublished" not in text
    assert "Meetingminutes" in en and "Shipmenttarget" in en and "Actionitems" in en
    assert engine.translations("zh_CN").ugettext("Meeting minutes").replace(" ", "") in zh
    assert "区域" in zh and "区域" not in en
    for pdf in pdfs.values():
        assert embedded_fonts(pdf) == {"Noto-Sans-CJK-SC-Report"}
    with app.app_context():
        audited = db.session.execute(select(AuditEntry).where(AuditEntry.action == "minutes_downloaded")
                                     .order_by(AuditEntry.id)).scalars().all()
        assert [(a.object_id, a.user_id) for a in audited] == [(str(meeting_id), user(n).id) for n in (SUP, "dist.bj")]


def test_a_draft_before_publication_for_staff_only(app, login):
    meeting_id = _published(app, publish=False)
    url = f"/meetings/{meeting_id}/minutes.pdf"
    with app.app_context():
        user("rep.beijing").locale = "en"
        db.session.commit()
    resp = login("rep.beijing").get(url)
    assert resp.status_code == 200 and "-draft.pdf" in resp.headers["Content-Disposition"]
    assert "Draft—notpublished" in pdf_text(resp.data)
    # A distributor only ever sees published minutes, even those it was invited to.
    assert login("dist.bj").get(url).status_code == 404


def test_no_minutes_outside_the_meetings_scope(app, client, login, monkeypatch):
    meeting_id = _published(app)
    url = f"/meetings/{meeting_id}/minutes.pdf"
    # Not invited (another distributor), another region's staff: as if there were no meeting.
    for username in ("dist.tj", "dist.sh", "sup.east", "rep.shanghai", "rep.guangdong"):
        assert login(username).get(url).status_code == 404, username
    assert login(SUP).get("/meetings/999999/minutes.pdf").status_code == 404
    assert client.get(url).status_code == 302  # to the login page

    # A render that fails (time or memory limit, a crash) is said as such, and not audited.
    def failing(kind, context, lang):
        raise ondemand.RenderUnavailable("time limit exceeded: killed after 60 s")

    monkeypatch.setattr(ondemand, "render_now", failing)
    assert login(SUP).get(url).status_code == 503
    with app.app_context():
        assert db.session.execute(select(AuditEntry).where(AuditEntry.action == "minutes_downloaded")).first() is None


def test_a_distributors_copy_holds_its_own_accounts_figures_and_items(app):
    """A meeting of 华北 with both general distributors: dist.bj's copy has GD-BJ01's target and
    items and those raised for no account, not GD-TJ01's (as on its meeting page)."""
    with app.app_context():
        sup = user(SUP)
        m = meeting("NORTH", accounts=("GD-BJ01", "GD-TJ01"), staff=(), title="华北季度会议")
        written(ms.set_targets, m, {account("GD-BJ01").id: (yuan("100.00"), yuan("90.00")),
                                    account("GD-TJ01").id: (yuan("200.00"), yuan("180.00"))}, by=sup)
        for title, code in (("北京补货", "GD-BJ01"), ("天津对账", "GD-TJ01"), ("更新价目表", None)):
            written(ms.raise_item, m, title=title, owner=sup, due_on=None, by=sup,
                    account=account(code) if code else None)
        m = written(ms.hold, m, version=m.version, attended_account_ids=[], attended_user_ids=[], by=sup, today=AFTER)
        m = written(ms.publish, m, version=m.version, by=sup, today=AFTER)
        staff = minutes_context(m)
        mine = minutes_context(m, viewer=user("dist.bj"))
    assert [t["code"] for t in staff["targets"]] == ["GD-BJ01", "GD-TJ01"]
    assert [i["title"] for i in staff["items"]] == ["北京补货", "天津对账", "更新价目表"]
    assert [t["code"] for t in mine["targets"]] == ["GD-BJ01"]
    assert mine["targets_total"] == {"shipment_fen": 10_000, "payment_fen": 9_000}
    assert [i["title"] for i in mine["items"]] == ["北京补货", "更新价目表"]
    assert [a["code"] for a in mine["accounts"]] == ["GD-BJ01", "GD-TJ01"]  # who was invited is no secret
