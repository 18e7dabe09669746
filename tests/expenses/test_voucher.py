"""The voucher PDF (报销单) on SQLite and PostgreSQL: the claimant, the approver and finance download
it in their own language, read back with pypdf: the number, every amount, the approvers' names,
the cut and the override reason, the payment; Chinese printed with the embedded CJK font. Someone
out of the claim's scope gets 404. Rendering costs about 0.2 s a PDF: three renders in all."""
import io
from datetime import date

from PIL import Image
from sqlalchemy import select

from channel.audit.models import AuditEntry
from channel.core.periods import Month
from channel.expenses import services as es
from channel.extensions import db
from channel.masterdata.models import Region
from reports import engine
from tests.helpers import embedded_fonts, pdf_text
from tests.ledger import user, written, yuan

from . import act, claim


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def _paid_claim(app) -> tuple[int, str]:
    """rep.beijing's March claim: ¥3,400.00 claimed, the meal cut to ¥100.00, over the region's
    budget (approved with a reason), a second approval by admin, paid by finance; two receipts."""
    with app.app_context():
        written(es.set_budgets, Month(2026, 3), db.session.execute(
            select(Region).where(Region.code == "NORTH")).scalar_one(), {"total": yuan("3000.00")},
            by=user("finance"))
        c = claim(lines=[(date(2026, 3, 10), "travel", "2800.00"), (date(2026, 3, 11), "meal", "150.00"),
                         (date(2026, 3, 10), "accommodation", "450.00", 1, 1)], title="北京渠道拜访")
        travel, meal = c.lines[0], next(ln for ln in c.lines if ln.category == "meal")
        written(es.add_receipt, travel, _png(), filename="高铁票.png", by=user("rep.beijing"))
        written(es.add_receipt, meal, b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", filename="餐费.pdf",
                by=user("rep.beijing"))
        act(es.submit, c, "rep.beijing")
        act(es.approve, c, "sup.north", cuts={meal.id: (yuan("100.00"), "餐补每天100元")},
            override_reason="春季订货会 预算外", comment="同意")
        act(es.approve, c, "admin", comment="复核通过", override_reason="同意超预算")
        act(es.pay, c, "finance", paid_on=date(2026, 3, 31), reference="ZF-20260331-7")
        # The approver reads English; the claimant and finance Chinese (the default).
        user("sup.north").locale = "en"
        db.session.commit()
        return c.id, c.number


def test_the_voucher_for_claimant_approver_and_finance(app, login):
    claim_id, number = _paid_claim(app)
    url = f"/expenses/{claim_id}/voucher.pdf"
    pdfs = {}
    for username in ("rep.beijing", "sup.north", "finance"):
        resp = login(username).get(url)
        assert resp.status_code == 200, username
        assert resp.mimetype == "application/pdf" and resp.data.startswith(b"%PDF-")
        assert f'filename={number}.pdf' in resp.headers["Content-Disposition"]
        pdfs[username] = resp.data
    zh, en = pdf_text(pdfs["rep.beijing"]), pdf_text(pdfs["sup.north"])
    for text in (zh, en):
        for expected in (number, "华东食品有限公司", "高峰", "北京渠道拜访", "2026-03",
                         "¥2,800.00", "¥150.00", "¥100.00", "¥450.00", "¥3,400.00", "¥3,350.00",
                         "马国栋", "系统管理员", "林晓梅",  # first approver, second approver, finance
                         "餐补每天100元", "春季订货会预算外", "同意", "复核通过", "同意超预算",  # cut, overrides
                         "ZF-20260331-7"):
            assert expected in text, expected
    # Each in the reader's language (the title through the catalog: 报销单 once translated).
    assert "Expenseclaimvoucher" in en and "Approvaltrail" in en and "Mealallowance" in en
    assert engine.translations("zh_CN").ugettext("Expense claim voucher").replace(" ", "") in zh
    assert "单号" in zh and "日期" in zh and "单号" not in en
    assert "Receipts2" in en and "1receipt" in en
    # Chinese prints as Chinese: the report's CJK font is embedded, and no other font is used.
    for pdf in pdfs.values():
        assert embedded_fonts(pdf) == {"Noto-Sans-CJK-SC-Report"}
    with app.app_context():
        audited = db.session.execute(select(AuditEntry).where(AuditEntry.action == "voucher_downloaded")
                                     .order_by(AuditEntry.id)).scalars().all()
        assert [(a.object_id, a.object_label, a.user_id) for a in audited] == [
            (str(claim_id), number, user(name).id) for name in ("rep.beijing", "sup.north", "finance")]


def test_no_voucher_outside_the_claims_scope(app, client, login, monkeypatch):
    with app.app_context():
        claim_id = claim(submit=True).id
    url = f"/expenses/{claim_id}/voucher.pdf"
    for username in ("sup.east", "rep.shanghai", "dist.bj"):
        assert login(username).get(url).status_code == 404, username
    assert login("finance").get("/expenses/999999/voucher.pdf").status_code == 404
    assert client.get(url).status_code == 302  # to the login page
    # A render that fails (time or memory limit, a crash) is said as such, and not audited.
    from channel.reports import ondemand

    def failing(kind, context, lang):
        raise ondemand.RenderUnavailable("time limit exceeded: killed after 60 s")

    monkeypatch.setattr(ondemand, "render_now", failing)
    assert login("rep.beijing").get(url).status_code == 503
    with app.app_context():
        assert db.session.execute(select(AuditEntry).where(AuditEntry.action == "voucher_downloaded")).first() is None
