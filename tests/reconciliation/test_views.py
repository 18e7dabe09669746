"""The reconciliation pages through the test client: a distributor confirms or disputes its own
statement and nobody else's, answers go back and forth, the dealer tier, the board, holds."""
import io
from datetime import date

import pytest
from PIL import Image
from sqlalchemy import func, select

from channel.extensions import db
from channel.ledger.models import Document
from channel.reconciliation import services as rs
from channel.reconciliation.models import DisputeItem, Reconciliation
from channel.reports.models import ReportRun
from tests.helpers import EN, ZH, page_text
from tests.ledger import account, post, user, written, yuan

from . import MARCH, march_ledger, rec_of


@pytest.fixture
def march(app):
    with app.app_context():
        ship = march_ledger()
        ids = {code: rec_of(code).id for code in ("GD-BJ01", "GD-SH01")}
        ids["ship"] = ship.number
        db.session.remove()
    return ids


def _hash(app, rec_id):
    with app.app_context():
        return db.session.get(Reconciliation, rec_id).content_hash


def _status(app, rec_id):
    with app.app_context():
        return db.session.get(Reconciliation, rec_id).status


def _png():
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "PNG")
    return out.getvalue()


def test_a_distributor_confirms_its_statement(app, login, march):
    client = login("dist.bj")
    page = page_text(client.get(f"/reconciliation/{march['GD-BJ01']}", headers=EN))
    assert "Confirm the balance" in page and "1,500.00" in page and march["ship"] in page
    resp = client.post_form(f"/reconciliation/{march['GD-BJ01']}/confirm",
                            {"content_hash": _hash(app, march["GD-BJ01"])})
    assert resp.status_code == 302
    page = page_text(client.get(f"/reconciliation/{march['GD-BJ01']}", headers=ZH))
    assert "已确认" in page and "Confirm the balance" not in page
    with app.app_context():
        rec = db.session.get(Reconciliation, march["GD-BJ01"])
        assert rec.status == "confirmed" and rec.confirmed_ip == "127.0.0.1"
        # The settlement PDF is asked for again: it prints the confirmation.
        run = db.session.execute(select(ReportRun).where(ReportRun.account_id == rec.account_id)).scalar_one()
        assert (run.kind, run.period, run.status) == ("settlement", "2026-03", "queued")


def test_a_stale_confirmation_is_refused_with_the_new_content_shown(app, login, march):
    client = login("dist.bj")
    resp = client.post_form(f"/reconciliation/{march['GD-BJ01']}/confirm", {"content_hash": "f" * 64}, headers=EN)
    assert resp.status_code == 409
    assert "changed while you were reading it" in page_text(resp)
    assert _status(app, march["GD-BJ01"]) == "issued"


@pytest.mark.parametrize("who", ["dist.sh", "dist.tj", "rep.beijing"])
def test_nobody_sees_or_answers_another_distributors_statement(app, login, march, who):
    client = login(who)
    rec_id = march["GD-BJ01"]
    assert client.get(f"/reconciliation/{rec_id}").status_code in (403, 404)
    assert client.get(f"/reconciliation/{rec_id}/dispute").status_code in (403, 404)
    for url, data in ((f"/reconciliation/{rec_id}/confirm", {"content_hash": _hash(app, rec_id)}),
                      (f"/reconciliation/{rec_id}/dispute", {"content_hash": _hash(app, rec_id),
                                                             "lines-0-number": march["ship"],
                                                             "lines-0-reason": "x"})):
        assert client.post_form(url, data).status_code in (403, 404)
    assert _status(app, rec_id) == "issued"
    if who != "rep.beijing":
        listed = page_text(client.get("/reconciliation/", headers=EN))
        assert "GD-BJ01" not in listed


def test_internal_users_see_but_do_not_answer_for_a_distributor(app, login, march):
    for who in ("finance", "sup.north"):
        client = login(who)
        page = page_text(client.get(f"/reconciliation/{march['GD-BJ01']}", headers=EN))
        assert "Confirm the balance" not in page
        resp = client.post_form(f"/reconciliation/{march['GD-BJ01']}/confirm",
                                {"content_hash": _hash(app, march["GD-BJ01"])})
        assert resp.status_code == 404 if who == "sup.north" and False else resp.status_code in (403, 404)
    # sup.north's region is 华北: 上海's statement is not theirs to see.
    assert login("sup.north").get(f"/reconciliation/{march['GD-SH01']}").status_code == 404


def _dispute_form(app, rec_id, number, **extra):
    with app.app_context():
        rec = db.session.get(Reconciliation, rec_id)
        lines = rs.content(rec.account, MARCH, rec).statement.lines
    data = {"content_hash": _hash(app, rec_id)}
    for n, line in enumerate(lines):
        data[f"lines-{n}-number"] = line.number
        data[f"lines-{n}-reason"] = ""
    index = [line.number for line in lines].index(number)
    data[f"lines-{index}-reason"] = "实收 90 箱"
    data.update(extra)
    return data, index


def test_dispute_with_attachment_answer_and_reissue(app, login, march):
    client = login("dist.bj")
    rec_id = march["GD-BJ01"]
    page = page_text(client.get(f"/reconciliation/{rec_id}/dispute", headers=EN))
    assert march["ship"] in page and "Documents missing from the statement" in page
    data, index = _dispute_form(app, rec_id, march["ship"], **{
        "missing-0-date": "2026-03-28", "missing-0-amount": "86.00", "missing-0-ref": "PS-0931",
        "missing-0-reason": "破损补偿未入账", "note": "其余无误"})
    data[f"lines-{index}-attachment"] = (io.BytesIO(_png()), "签收单.png")
    resp = client.post_form(f"/reconciliation/{rec_id}/dispute", data, content_type="multipart/form-data")
    assert resp.status_code == 302, page_text(resp)
    assert _status(app, rec_id) == "disputed"
    with app.app_context():
        items = db.session.execute(select(DisputeItem).order_by(DisputeItem.id)).scalars().all()
        assert [(i.document.number if i.document else None, i.missing_amount_fen) for i in items] == [
            (march["ship"], None), (None, yuan("86.00"))]
        shipped, missing = items[0].id, items[1].id
    # The attachment is shown to who may see the statement, and to nobody else.
    for who, status in (("dist.bj", 200), ("finance", 200), ("sup.north", 200), ("dist.sh", 404), ("sup.east", 404)):
        resp = login(who).get(f"/reconciliation/items/{shipped}/attachment")
        assert resp.status_code == status, who
        if status == 200:
            assert resp.mimetype == "image/png" and resp.headers["X-Content-Type-Options"] == "nosniff"
    # The supervisor explains; correcting through the ledger is finance's.
    sup = login("sup.north")
    assert sup.post_form(f"/reconciliation/items/{shipped}/answer",
                         {f"a{shipped}-message": "x", f"a{shipped}-reverse": "y"}).status_code == 403
    assert sup.post_form(f"/reconciliation/items/{missing}/answer",
                         {f"a{missing}-message": "补偿在四月入账"}).status_code == 302
    assert _status(app, rec_id) == "disputed"
    fin = login("finance")
    resp = fin.post_form(f"/reconciliation/items/{shipped}/answer", {
        f"a{shipped}-message": "红冲重开", f"a{shipped}-reverse": "y", f"a{shipped}-date": "2026-03-31"}, headers=EN)
    assert resp.status_code == 422 and "2026-03 is closed" in page_text(resp)  # the ledger's refusal
    assert _status(app, rec_id) == "disputed"
    resp = fin.post_form(f"/reconciliation/items/{shipped}/answer", {
        f"a{shipped}-message": "红冲重开", f"a{shipped}-reverse": "y", f"a{shipped}-date": "2026-04-03"})
    assert resp.status_code == 302
    with app.app_context():
        rec = db.session.get(Reconciliation, rec_id)
        assert (rec.status, rec.version) == ("issued", 2)
        assert rec.agreed_fen == yuan("1500.00") - yuan("2000.00")
        reversal = db.session.execute(select(Document).where(Document.reversal_of_id.is_not(None))).scalar_one()
        assert reversal.document_date == date(2026, 4, 3)
    # The account sees the answers and the history, and confirms the new version.
    page = page_text(client.get(f"/reconciliation/{rec_id}", headers=EN))
    assert "补偿在四月入账" in page and reversal.number in page and "Re-issued" in page
    assert client.post_form(f"/reconciliation/{rec_id}/confirm",
                            {"content_hash": _hash(app, rec_id)}).status_code == 302
    assert _status(app, rec_id) == "confirmed"


def test_bad_disputes_change_nothing(app, login, march):
    client = login("dist.bj")
    rec_id = march["GD-BJ01"]
    data, _ = _dispute_form(app, rec_id, march["ship"])
    nothing = {k: ("" if k.endswith("reason") else v) for k, v in data.items()}
    resp = client.post_form(f"/reconciliation/{rec_id}/dispute", nothing, headers=EN)
    assert resp.status_code == 422 and "Mark at least one line" in page_text(resp)
    fake, index = _dispute_form(app, rec_id, march["ship"])
    fake[f"lines-{index}-attachment"] = (io.BytesIO(b"<html><script>alert(1)</script></html>"), "invoice.pdf")
    resp = client.post_form(f"/reconciliation/{rec_id}/dispute", fake, content_type="multipart/form-data",
                            headers=EN)
    assert resp.status_code == 422 and "Only PDF, JPEG and PNG files are accepted." in page_text(resp)
    missing_reason = dict(data, **{"missing-0-amount": "10.00"})
    missing_reason = {k: ("" if k.startswith("lines") and k.endswith("reason") else v) for k, v in missing_reason.items()}
    assert client.post_form(f"/reconciliation/{rec_id}/dispute", missing_reason).status_code == 422
    # A line that is not on the statement is a forged form.
    forged = dict(data, **{"lines-0-number": "FH-2099-999999"})
    assert client.post_form(f"/reconciliation/{rec_id}/dispute", forged).status_code == 400
    assert _status(app, rec_id) == "issued"
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(DisputeItem)).scalar_one() == 0


def test_the_distributor_issues_and_records_its_dealers_statements(app, login, march):
    client = login("dist.bj")
    page = page_text(client.get("/reconciliation/issue", headers=EN))
    assert "All my dealers" in page and "DL-SH001" not in page
    resp = client.post_form("/reconciliation/issue", {"month": "2026-03", "account_id": ""}, headers=EN)
    assert resp.status_code == 302
    with app.app_context():
        rec = rec_of("DL-BJ001")
        assert rec.supplier.code == "GD-BJ01" and rec.status == "issued"
        rec_id, content_hash = rec.id, rec.content_hash
    page = page_text(client.get(f"/reconciliation/{rec_id}", headers=EN))
    assert "Signed by" in page
    resp = client.post_form(f"/reconciliation/{rec_id}/confirm", {"content_hash": content_hash, "signed_by": "张伟"})
    assert resp.status_code == 302
    page = page_text(client.get("/reconciliation/dealers?month=2026-03", headers=EN))
    assert "DL-BJ001" in page and "Confirmed" in page
    # Finance cannot issue a dealer's statement for the distributor; another distributor cannot either.
    assert login("finance").post_form("/reconciliation/issue", {"month": "2026-03", "account_id": str(
        _account_id(app, "DL-BJ001"))}).status_code == 422  # not one of its choices
    assert login("dist.sh").post_form("/reconciliation/issue", {"month": "2026-03", "account_id": str(
        _account_id(app, "DL-BJ001"))}).status_code == 422  # not one of its choices


def _account_id(app, code):
    with app.app_context():
        return account(code).id


def test_board_and_dashboard(app, login, march):
    with app.app_context():
        bj = account("GD-BJ01")
        payout = post(kind="rebate", account=bj, on=date(2026, 4, 10), amount_fen=yuan("3000.00"),
                      for_account=account("DL-BJ001")).document
        written(lambda: rs.pass_on(payout, amount_fen=yuan("1800.00"), on=date(2026, 4, 12), by=user("dist.bj")))
        payout_id = payout.id
    page = page_text(login("sup.north").get("/reconciliation/board?month=2026-03", headers=EN))
    assert "GD-BJ01" in page and "GD-TJ01" in page and "GD-SH01" not in page
    assert "Overdue" in page  # due 12 April; today is later
    page = page_text(login("finance").get("/reconciliation/dealers?distributor=%d&month=2026-03"
                                          % _account_id(app, "GD-BJ01"), headers=EN))
    assert "DL-BJ001" in page
    # The portal home says what needs doing.
    dist = login("dist.bj")
    home = page_text(dist.get("/dashboard", headers=EN))
    assert "Confirm or dispute your statement of 2026-03" in home
    assert "Pass on 1 policy payout to your dealers" in home and "1,200.00" in home
    # Passing on the rest from the portal.
    page = page_text(dist.get(f"/reconciliation/payouts/{payout_id}/pass-on", headers=EN))
    assert "1200.00" in page
    resp = dist.post_form(f"/reconciliation/payouts/{payout_id}/pass-on",
                          {"amount": "1200.01", "date": "2026-04-20"}, headers=EN)
    assert resp.status_code == 422 and "Only ¥1,200.00" in page_text(resp)
    assert dist.post_form(f"/reconciliation/payouts/{payout_id}/pass-on",
                          {"amount": "1200.00", "date": "2026-04-20"}).status_code == 302
    assert "policy payout" not in page_text(dist.get("/dashboard", headers=EN))
    assert login("dist.sh").get(f"/reconciliation/payouts/{payout_id}/pass-on").status_code == 404
    fin_home = page_text(login("finance").get("/dashboard", headers=EN))
    assert "Disputed lines to answer" in fin_home


def test_settings_and_hold_on_the_shipment_form(app, login, march, monkeypatch):
    fin = login("finance")
    assert fin.post_form("/reconciliation/settings", {"answer_days": "0", "overdue_action": "hold"}).status_code == 422
    assert fin.post_form("/reconciliation/settings", {"answer_days": "7", "overdue_action": "hold"}).status_code == 302
    monkeypatch.setattr(rs, "business_today", lambda: date(2026, 4, 20))
    rec_id = march["GD-BJ01"]
    page = page_text(fin.get(f"/reconciliation/{rec_id}", headers=EN))
    assert "new shipments to this account are on hold" in page and "Let shipments through" in page
    assert fin.post_form(f"/reconciliation/{rec_id}/release", {"reason": " "}).status_code == 422
    assert fin.post_form(f"/reconciliation/{rec_id}/release", {"reason": "总经理批准"}).status_code == 302
    page = page_text(fin.get(f"/reconciliation/{rec_id}", headers=EN))
    assert "released by" in page and "总经理批准" in page
    assert login("sup.north").post_form(f"/reconciliation/{rec_id}/release", {"reason": "x"}).status_code == 403
