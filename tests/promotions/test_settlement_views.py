"""The settlement page and PDF through the test client: the preview for everyone who sees the
promotion (each their own regions and rows), finance's "Approve and post rebates" posting the
rebates once (a second click is told, not paid twice), refusals that change nothing, and the
region's settlement PDF in Chinese with the Chinese names printed in the embedded CJK font.
"Today" is 2 April 2026 (services.business_today replaced), the promotion ran in March."""
from datetime import date

import pytest
from sqlalchemy import func, select

from channel.audit.models import AuditEntry
from channel.core.periods import Month
from channel.extensions import db
from channel.ledger.models import Document
from channel.promotions import services as ps
from channel.promotions.models import Promotion, PromotionSettlement
from channel.reports import ondemand
from tests.helpers import EN, ZH, embedded_fonts, page_text, pdf_text
from tests.ledger import close, user, written, yuan

from . import AFTER, DURING, enrol, new_product, promotion, region, ship


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(ps, "business_today", lambda: AFTER)


def _rollout(app, *, budget="500.00") -> dict:
    """A ¥2.00-a-case rebate in 华北区 (budget ¥500.00) and 华东区: GD-BJ01 100 cases (¥200.00),
    its dealer DL-BJ001 150 cases (¥300.00, paid through GD-BJ01), GD-TJ01 50 cases (¥100.00):
    ¥600.00 earned against ¥500.00 in 华北区, shared pro rata (¥166.67, ¥250.00, ¥83.33);
    DL-ZJ003 in 华东区 40 cases (¥80.00)."""
    with app.app_context():
        new_product()
        p = promotion("per_unit", yuan("2.00"), budgets=(("NORTH", yuan(budget)), ("EAST", yuan("1000.00"))))
        for code, qty in (("GD-BJ01", 100), ("DL-BJ001", 150), ("GD-TJ01", 50)):
            enrol(p, code)
            ship(code, date(2026, 3, 10), qty)
        enrol(p, "DL-ZJ003", by="sup.east")
        ship("DL-ZJ003", date(2026, 3, 11), 40)
        return {"id": p.id, "version": p.version, "code": p.code, "north": region("NORTH").id,
                "east": region("EAST").id}


def _rebates(code) -> int:
    return db.session.execute(select(func.count()).select_from(Document)
                              .where(Document.external_ref.like(f"PROMO:{code}:%"))).scalar_one()


def test_finance_previews_then_settles_through_the_page_once(app, login):
    p = _rollout(app)
    url = f"/promotions/{p['id']}/settlement"
    client = login("finance")
    for headers in (EN, ZH):
        resp = client.get(url, headers=headers)
        assert resp.status_code == 200
    text = page_text(client.get(url, headers=EN))
    assert "Preview — not settled" in text and 'id="settle-form"' in text
    # The confirmation names what is posted: 4 documents, ¥580.00 (¥500.00 + ¥80.00).
    assert "This posts 4 rebate documents to the ledger, ¥580.00 in all" in text
    assert "¥166.67" in text and "¥83.33" in text and "Paid through GD-BJ01" in text
    assert "each participant receives 83.3% of its reward" in text  # 500 / 600

    resp = client.post_form(f"/promotions/{p['id']}/settle", {"version": p["version"], "on": "2026-04-02"},
                            headers=EN)  # the flash message is made in the language of the POST
    assert resp.status_code == 302 and resp.headers["Location"].endswith(url)
    with app.app_context():
        assert _rebates(p["code"]) == 4
        settled = db.session.get(Promotion, p["id"])
        assert settled.status == "settled" and len(settled.settlements) == 2
    text = page_text(client.get(url, headers=EN))
    assert "settled: 4 rebate documents posted, ¥580.00 in all" in text
    assert "Preview — not settled" not in text and 'id="settle-form"' not in text
    assert "FL-2026-" in text  # the rebate documents, linked

    # A second click (the same page, the version seen before) is told and posts nothing.
    resp = client.post_form(f"/promotions/{p['id']}/settle", {"version": p["version"], "on": "2026-04-02"},
                            headers=EN)
    assert resp.status_code == 409
    assert "This changed while you were looking at it" in page_text(resp)
    with app.app_context():
        assert _rebates(p["code"]) == 4
        assert db.session.execute(select(func.count()).select_from(PromotionSettlement)).scalar_one() == 2
    assert client.get(url, headers=ZH).status_code == 200


def test_refusals_change_nothing(app, login):
    p = _rollout(app)
    client = login("finance")
    settle = f"/promotions/{p['id']}/settle"
    # A date before the last day; a date in a closed month; no date: 422, nothing posted.
    resp = client.post_form(settle, {"version": p["version"], "on": "2026-03-30"}, headers=EN)
    assert resp.status_code == 422 and "on or after the promotion's last day" in page_text(resp)
    with app.app_context():
        close(Month(2026, 3), today=AFTER)
    resp = client.post_form(settle, {"version": p["version"], "on": "2026-03-31"}, headers=EN)
    assert resp.status_code == 422 and "closed" in page_text(resp)
    resp = client.post_form(settle, {"version": p["version"], "on": ""}, headers=EN)
    assert resp.status_code == 422
    # Someone else changed the promotion meanwhile (a budget raised): 409.
    with app.app_context():
        pr = db.session.get(Promotion, p["id"])
        data = ps.PromotionInput(code=pr.code, name=pr.name, kind=pr.kind, rate=pr.rate, starts_on=pr.starts_on,
                                 ends_on=pr.ends_on, product_ids=sorted(pr.product_ids),
                                 budgets={p["north"]: yuan("600.00"), p["east"]: yuan("1000.00")})
        written(ps.update_promotion, pr, data, version=pr.version, by=user("admin"))
    resp = client.post_form(settle, {"version": p["version"], "on": "2026-04-02"}, headers=EN)
    assert resp.status_code == 409
    with app.app_context():
        assert _rebates(p["code"]) == 0
        assert db.session.get(Promotion, p["id"]).status == "published"
    # Not finance: 403.
    resp = login("sup.north").post_form(settle, {"version": p["version"] + 1, "on": "2026-04-02"})
    assert resp.status_code == 403


def test_not_ended_is_refused(app, login, monkeypatch):
    p = _rollout(app)
    monkeypatch.setattr(ps, "business_today", lambda: DURING)
    client = login("finance")
    text = page_text(client.get(f"/promotions/{p['id']}/settlement", headers=EN))
    assert 'id="settle-form"' not in text and 'id="settle-later"' in text
    resp = client.post_form(f"/promotions/{p['id']}/settle", {"version": p["version"], "on": "2026-04-02"},
                            headers=EN)
    assert resp.status_code == 422 and "settled after its last day" in page_text(resp)


def test_who_sees_which_regions_and_rows(app, login):
    p = _rollout(app)
    url = f"/promotions/{p['id']}/settlement"
    for who, regions, accounts in (
            ("admin", {"NORTH", "EAST"}, {"GD-BJ01", "DL-BJ001", "GD-TJ01", "DL-ZJ003"}),
            ("mgr.channel", {"NORTH", "EAST"}, {"GD-BJ01", "DL-BJ001", "GD-TJ01", "DL-ZJ003"}),
            ("sup.north", {"NORTH"}, {"GD-BJ01", "DL-BJ001", "GD-TJ01"}),
            ("sup.east", {"EAST"}, {"DL-ZJ003"}),
            ("rep.beijing", {"NORTH"}, {"GD-BJ01", "DL-BJ001"}),
            ("dist.bj", {"NORTH"}, {"GD-BJ01", "DL-BJ001"}),
            ("dist.tj", {"NORTH"}, {"GD-TJ01"})):
        client = login(who)
        resp = client.get(url, headers=ZH)
        assert resp.status_code == 200, who
        html = resp.get_data(as_text=True)
        assert {r for r in ("NORTH", "EAST") if f'data-region="{r}"' in html} == regions, who
        shown = {c for c in ("GD-BJ01", "DL-BJ001", "GD-TJ01", "DL-ZJ003") if f'data-account="{c}"' in html}
        assert shown == accounts, who
        assert 'id="settle-form"' not in html or who == "admin"
        # Part of a region: its totals are not shown.
        assert ('class="earned"' in html) == (who in ("admin", "mgr.channel", "sup.north", "sup.east")), who
        # A region the user does not see: 404 for its PDF.
        for code, region_id in (("NORTH", p["north"]), ("EAST", p["east"])):
            if code not in regions:
                assert client.get(f"{url}/{region_id}.pdf").status_code == 404, who
    # Someone who does not see the promotion at all (no enrolment of theirs): 404.
    assert login("dist.gz").get(url).status_code == 404
    assert login("dist.gz").get(f"{url}/{p['north']}.pdf").status_code == 404
    assert login("rep.guangdong").get(url).status_code == 404
    assert login("dist.bj").post_form(f"/promotions/{p['id']}/settle", {"version": p["version"]}).status_code == 403


def test_the_settlement_pdf_in_chinese_with_chinese_names(app, login):
    p = _rollout(app)
    client = login("finance")
    pdf_url = f"/promotions/{p['id']}/settlement/{p['north']}.pdf"
    preview = client.get(pdf_url, headers=EN)
    assert preview.status_code == 200 and preview.mimetype == "application/pdf"
    assert f"filename={p['code']}-NORTH-preview.pdf" in preview.headers["Content-Disposition"]
    text = pdf_text(preview.data)
    assert "Preview—notsettled" in text and "¥166.67" in text and "¥500.00" in text

    assert client.post_form(f"/promotions/{p['id']}/settle",
                            {"version": p["version"], "on": "2026-04-02"}).status_code == 302
    resp = client.get(pdf_url, headers=ZH)
    assert resp.status_code == 200
    assert f"filename={p['code']}-NORTH.pdf" in resp.headers["Content-Disposition"]
    text = pdf_text(resp.data)
    for expected in ("华东食品有限公司", "北京鑫源商贸有限公司", "朝阳区惠民便利店", "天津恒通商贸有限公司", "华北区",
                     "促销装P-PROMO", p["code"], "¥166.67", "¥250.00", "¥83.33", "¥500.00", "¥600.00",
                     "FL-2026-", "林晓梅"):  # the finance user who approved it
        assert expected in text, expected
    assert "Preview" not in text
    assert embedded_fonts(resp.data) == {"Noto-Sans-CJK-SC-Report"}
    # The dealer sees its distributor's PDF with only its own rows.
    dist = pdf_text(login("dist.tj").get(pdf_url, headers=ZH).data)
    assert "天津恒通商贸有限公司" in dist and "北京鑫源商贸有限公司" not in dist and "¥83.33" in dist
    with app.app_context():
        audited = db.session.execute(select(AuditEntry).where(
            AuditEntry.action == "promotion_settlement_downloaded")).scalars().all()
        assert [(a.user.username if a.user else None, a.changes["preview"]) for a in audited] == [
            ("finance", True), ("finance", False), ("dist.tj", False)]


def test_render_unavailable_is_a_503(app, login, monkeypatch):
    p = _rollout(app)

    def fail(*args, **kw):
        raise ondemand.RenderUnavailable("time limit")

    monkeypatch.setattr(ondemand, "render_now", fail)
    resp = login("finance").get(f"/promotions/{p['id']}/settlement/{p['north']}.pdf", headers=EN)
    assert resp.status_code == 503 and "could not be made just now" in page_text(resp)
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "promotion_settlement_downloaded")).scalar_one() == 0
