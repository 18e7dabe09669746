"""The expense claim pages through the test client: a field rep claims with receipts, the
supervisor approves with the receipt open and the budget in view, finance pays; rejections,
scope (404), roles (403), stale and double actions (409), refused uploads and amounts (422),
the budget panel against a hand-computed case, bulk approval, the dashboard."""
import io
import re
from datetime import date

import pytest
from PIL import Image
from sqlalchemy import func, select

from channel.expenses import services as es
from channel.expenses.models import ExpenseClaim, ExpenseEvent, ExpenseLine, ExpenseReceipt
from channel.extensions import db
from channel.files.models import StoredFile
from channel.masterdata.models import Account, Region
from tests.helpers import EN, ZH, page_text
from tests.ledger import user, written, yuan

from . import MONTH, act, claim

ADMIN_NAME = "系统管理员"


def _png(color="red", size=(8, 8)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def _state(app, claim_id):
    """(status, version, claimed fen, approved fen, paid fen) of a claim, read fresh."""
    with app.app_context():
        c = db.session.get(ExpenseClaim, claim_id)
        values = (c.status, c.version, c.claimed_fen, c.approved_fen, c.paid_fen)
        db.session.remove()
    return values


def _version(app, claim_id):
    return _state(app, claim_id)[1]


def _make(app, *args, **kw):
    with app.app_context():
        c = claim(*args, **kw)
        ids = c.id, [ln.id for ln in c.lines]
        db.session.remove()
    return ids


def _count(app, model, **where):
    with app.app_context():
        stmt = select(func.count()).select_from(model)
        for name, value in where.items():
            stmt = stmt.where(getattr(model, name) == value)
        n = db.session.execute(stmt).scalar_one()
        db.session.remove()
    return n


def _upload(client, claim_id, line_id, *files, headers=EN):
    return client.post_form(f"/expenses/{claim_id}/lines/{line_id}/receipts",
                            {"receipts": [(io.BytesIO(data), name) for data, name in files]},
                            content_type="multipart/form-data", headers=headers)


def _decision(app, claim_id, cuts=None, **extra):
    """The approver's form as the claim page sends it: every line with its approved amount."""
    cuts = cuts or {}
    with app.app_context():
        c = db.session.get(ExpenseClaim, claim_id)
        data = {"version": str(c.version), "comment": "", "override_reason": ""}
        for i, line in enumerate(c.lines):
            amount, reason = cuts.get(line.id, (f"{line.payable_fen / 100:.2f}", ""))
            data.update({f"cuts-{i}-line_id": str(line.id), f"cuts-{i}-approved": amount,
                         f"cuts-{i}-reason": reason})
        db.session.remove()
    data.update(extra)
    return data


def _pay(app, claim_id, **extra):
    data = {"version": str(_version(app, claim_id)), "paid_on": "2026-04-05", "reference": "BANK-0001"}
    data.update(extra)
    return data


def _figures(html, row):
    """{'budget': '¥1,000.00', ...} of one row of the budget panel."""
    m = re.search(rf'<tr id="budget-{row}"[^>]*>(.*?)</tr>', html, re.S)
    assert m, f"no budget row {row}"
    cells = re.findall(r'data-figure="(\w+)">(.*?)</td>', m.group(1), re.S)
    return {name: re.sub(r"<[^>]+>", "", value).strip() for name, value in cells}


# --- the whole flow -----------------------------------------------------------------------------

def test_claim_receipt_approve_with_cut_and_pay(app, login):
    rep = login("rep.beijing")
    assert rep.get("/expenses/", headers=EN).status_code == 200
    resp = rep.post_form("/expenses/new", {"month": "2026-03", "title": "北京经销商拜访 3月"}, headers=EN)
    assert resp.status_code == 302
    claim_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        dealer = db.session.execute(select(Account).where(Account.code == "DL-BJ001")).scalar_one().id
        db.session.remove()
    for data in ({"spent_on": "2026-03-10", "category": "travel", "amount": "300.00", "description": "高铁 往返",
                  "account_id": str(dealer)},
                 {"spent_on": "2026-03-11", "category": "meal", "amount": "150", "description": "餐补"}):
        resp = rep.post_form(f"/expenses/{claim_id}/lines", data, headers=EN)
        assert resp.status_code == 302, page_text(resp)
    _, line_ids = _line_ids(app, claim_id)
    resp = _upload(rep, claim_id, line_ids[0], (_png(), "高铁票.png"))
    assert resp.status_code == 302, page_text(resp)
    page = page_text(rep.get(f"/expenses/{claim_id}", headers=EN))
    assert "高铁票.png" in page and "DL-BJ001" in page and "¥450.00" in page
    assert "Over the daily allowance" in page  # the meal line is over the ¥100 a day cap
    resp = rep.post_form(f"/expenses/{claim_id}/submit", {"version": str(_version(app, claim_id))})
    assert resp.status_code == 302
    assert _state(app, claim_id)[0] == "submitted"

    sup = login("sup.north")
    queue = page_text(sup.get("/expenses/approvals", headers=EN))
    with app.app_context():
        number = db.session.get(ExpenseClaim, claim_id).number
        receipt_id = db.session.execute(select(ExpenseReceipt.id).where(ExpenseReceipt.claim_id == claim_id)).scalar_one()
        db.session.remove()
    assert number in queue and "高峰" in queue
    page = page_text(sup.get(f"/expenses/{claim_id}", headers=EN))
    assert 'id="budget"' in page and 'id="approve-button"' in page
    shown = sup.get(f"/expenses/{claim_id}/receipts/{receipt_id}")
    assert shown.status_code == 200 and shown.mimetype == "image/png"
    assert shown.headers["Content-Disposition"].startswith("inline")
    assert shown.headers["Content-Security-Policy"] == "sandbox" and shown.get_data() == _png()
    resp = sup.post_form(f"/expenses/{claim_id}/approve",
                         _decision(app, claim_id, {line_ids[1]: ("100.00", "餐补每天 100 元")}, comment="OK"),
                         headers=EN)
    assert resp.status_code == 302, page_text(resp)
    assert _state(app, claim_id)[:4] == ("approved", 3, yuan("450.00"), yuan("400.00"))

    fin = login("finance")
    payments = page_text(fin.get("/expenses/payments", headers=EN))
    assert number in payments and "¥400.00" in payments
    resp = fin.post_form(f"/expenses/{claim_id}/pay", _pay(app, claim_id, back="payments"))
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/expenses/payments")
    assert _state(app, claim_id) == ("paid", 4, yuan("450.00"), yuan("400.00"), yuan("400.00"))

    page = page_text(rep.get(f"/expenses/{claim_id}", headers=EN))
    assert 'id="paid-total"' in page and "BANK-0001" in page and "餐补每天 100 元" in page
    assert "Record the payment" not in page and 'id="add-line"' not in page
    history = page[page.index('id="history"'):]
    assert [a for a in ("Submitted", "Approved", "Paid") if a in history] == ["Submitted", "Approved", "Paid"]
    mine = page_text(rep.get("/expenses/?status=paid", headers=EN))
    assert number in mine


def _line_ids(app, claim_id):
    with app.app_context():
        c = db.session.get(ExpenseClaim, claim_id)
        values = c.id, [ln.id for ln in c.lines]
        db.session.remove()
    return values


def test_above_the_second_approval_amount_an_administrator_approves_too(app, login):
    claim_id, _ = _make(app, lines=((date(2026, 3, 10), "travel", "3500.00"),), submit=True)
    resp = login("sup.north").post_form(f"/expenses/{claim_id}/approve", _decision(app, claim_id))
    assert resp.status_code == 302
    assert _state(app, claim_id)[0] == "second_approval"
    assert claim_id not in _queue_ids(login("sup.north"))
    admin = login("admin")
    assert claim_id in _queue_ids(admin)
    page = page_text(admin.get(f"/expenses/{claim_id}", headers=EN))
    assert "needs your second approval" in page
    assert admin.post_form(f"/expenses/{claim_id}/approve", _decision(app, claim_id)).status_code == 302
    assert _state(app, claim_id)[:4] == ("approved", 4, yuan("3500.00"), yuan("3500.00"))


def _queue_ids(client):
    html = client.get("/expenses/approvals", headers=EN).get_data(as_text=True)
    return {int(x) for x in re.findall(r'<tr id="claim-(\d+)"', html)}


# --- rejection and resubmission -------------------------------------------------------------------

def test_a_rejection_returns_the_claim_with_its_comment_and_history(app, login):
    claim_id, line_ids = _make(app, lines=((date(2026, 3, 10), "travel", "300.00"),), submit=True)
    sup = login("sup.north")
    resp = sup.post_form(f"/expenses/{claim_id}/reject", _decision(app, claim_id), headers=EN)
    assert resp.status_code == 422 and "Say why the claim is returned." in page_text(resp)
    assert _state(app, claim_id)[0] == "submitted"
    resp = sup.post_form(f"/expenses/{claim_id}/reject",
                         _decision(app, claim_id, comment="请补充高铁票的行程单"), headers=EN)
    assert resp.status_code == 302
    assert _state(app, claim_id)[:2] == ("draft", 3)

    rep = login("rep.beijing")
    page = page_text(rep.get(f"/expenses/{claim_id}", headers=EN))
    assert 'id="rejection"' in page and "请补充高铁票的行程单" in page and "马国栋" in page
    assert 'id="add-line"' in page and 'id="delete-button"' not in page  # a claim with history stays
    dashboard = page_text(rep.get("/dashboard", headers=EN))
    assert "1 claim returned to you" in dashboard
    assert "Returned" in page_text(rep.get("/expenses/", headers=EN))
    resp = rep.post_form(f"/expenses/{claim_id}/lines/{line_ids[0]}/edit",
                         {"spent_on": "2026-03-10", "category": "travel", "amount": "280.00",
                          "description": "高铁 二等座"}, headers=EN)
    assert resp.status_code == 302, page_text(resp)
    resp = rep.post_form(f"/expenses/{claim_id}/submit", {"version": str(_version(app, claim_id))})
    assert resp.status_code == 302
    assert _state(app, claim_id)[:3] == ("submitted", 4, yuan("280.00"))
    page = page_text(rep.get(f"/expenses/{claim_id}", headers=EN))
    assert 'id="rejection"' not in page
    history = page[page.index('id="history"'):]
    assert history.count('class="event-submit"') == 2 and history.count('class="event-reject"') == 1
    assert "请补充高铁票的行程单" in history
    with app.app_context():
        actions = [e.action for e in db.session.execute(select(ExpenseEvent).where(
            ExpenseEvent.claim_id == claim_id).order_by(ExpenseEvent.seq)).scalars()]
        db.session.remove()
    assert actions == ["submit", "reject", "submit"]


# --- who sees and does what ---------------------------------------------------------------------

@pytest.mark.parametrize("who", ["sup.east", "merch.tianjin", "dist.bj"])
def test_a_beijing_claim_is_not_found_for_others(app, login, who):
    claim_id, line_ids = _make(app, lines=((date(2026, 3, 10), "travel", "300.00"),))
    with app.app_context():
        written(lambda: es.add_receipt(db.session.get(ExpenseLine, line_ids[0]), _png(), filename="r.png",
                                       by=user("rep.beijing")))
        written(lambda: es.submit(db.session.get(ExpenseClaim, claim_id), by=user("rep.beijing")))
        receipt_id = db.session.execute(select(ExpenseReceipt.id)).scalar_one()
        db.session.remove()
    client = login(who)
    assert client.get(f"/expenses/{claim_id}").status_code == 404
    assert client.get(f"/expenses/{claim_id}/receipts/{receipt_id}").status_code == 404
    for action, data in (("approve", _decision(app, claim_id)), ("reject", _decision(app, claim_id, comment="x")),
                         ("pay", _pay(app, claim_id)), ("submit", {"version": "2"})):
        assert client.post_form(f"/expenses/{claim_id}/{action}", data).status_code == 404
    assert _state(app, claim_id)[:2] == ("submitted", 2)
    if who != "dist.bj":
        assert str(claim_id) not in "".join(re.findall(r'href="/expenses/(\d+)"',
                                                        client.get("/expenses/").get_data(as_text=True)))


def test_roles_without_the_feature_get_403(app, login):
    dist = login("dist.bj")
    for url in ("/expenses/", "/expenses/new", "/expenses/claims", "/expenses/approvals", "/expenses/payments"):
        assert dist.get(url).status_code == 403, url
    rep = login("rep.beijing")
    for url in ("/expenses/claims", "/expenses/approvals", "/expenses/payments"):
        assert rep.get(url).status_code == 403, url
    assert login("sup.north").get("/expenses/payments").status_code == 403
    fin = login("finance")
    assert fin.get("/expenses/new").status_code == 403
    resp = fin.get("/expenses/")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/expenses/claims")
    assert fin.get("/expenses/approvals").status_code == 403  # not a second approver


def test_supervisor_cannot_approve_their_own_claim(app, login):
    claim_id, _ = _make(app, "sup.north", lines=((date(2026, 3, 12), "accommodation", "400.00", 2, 1),),
                        submit=True)
    sup = login("sup.north")
    page = page_text(sup.get(f"/expenses/{claim_id}", headers=EN))
    assert 'id="approve-button"' not in page
    assert claim_id not in _queue_ids(sup)
    resp = sup.post_form(f"/expenses/{claim_id}/approve", _decision(app, claim_id), headers=EN)
    assert resp.status_code == 403
    assert "Nobody approves their own claim." in page_text(resp)
    assert _state(app, claim_id)[0] == "submitted"
    admin = login("admin")
    assert claim_id in _queue_ids(admin)
    assert admin.post_form(f"/expenses/{claim_id}/approve", _decision(app, claim_id)).status_code == 302
    assert _state(app, claim_id)[0] == "approved"


def test_a_stale_approval_is_refused_naming_who_acted(app, login):
    claim_id, _ = _make(app, submit=True)
    seen = _decision(app, claim_id)  # sup.north's page, before the administrator acts
    assert login("admin").post_form(f"/expenses/{claim_id}/approve", _decision(app, claim_id)).status_code == 302
    resp = login("sup.north").post_form(f"/expenses/{claim_id}/approve", seen, headers=EN)
    assert resp.status_code == 409
    page = page_text(resp)
    assert "changed while you were looking at it" in page and ADMIN_NAME in page
    assert 'id="approve-button"' not in page  # the claim as it is now: approved
    assert _state(app, claim_id)[:2] == ("approved", 3)
    with app.app_context():
        c = db.session.get(ExpenseClaim, claim_id)
        assert c.approver.username == "admin" and len(c.events) == 2
        db.session.remove()


def test_a_claim_is_paid_once(app, login):
    claim_id, _ = _make(app, submit=True)
    with app.app_context():
        act(es.approve, db.session.get(ExpenseClaim, claim_id), "sup.north")
        db.session.remove()
    fin = login("finance")
    first = _pay(app, claim_id)
    assert fin.post_form(f"/expenses/{claim_id}/pay", first).status_code == 302
    again = fin.post_form(f"/expenses/{claim_id}/pay", dict(first, reference="BANK-0002"), headers=EN)
    assert again.status_code == 409 and "changed while you were looking at it" in page_text(again)
    fresh = fin.post_form(f"/expenses/{claim_id}/pay", _pay(app, claim_id, reference="BANK-0003"), headers=EN)
    assert fresh.status_code == 409 and "already paid" in page_text(fresh)
    assert _state(app, claim_id) == ("paid", 4, yuan("300.00"), yuan("300.00"), yuan("300.00"))
    assert _count(app, ExpenseEvent, claim_id=claim_id, action="pay") == 1
    assert claim_id not in {int(x) for x in re.findall(r'<tr id="claim-(\d+)"',
                                                       fin.get("/expenses/payments").get_data(as_text=True))}


def test_payment_needs_a_reference_and_a_past_date(app, login):
    claim_id, _ = _make(app, submit=True)
    with app.app_context():
        act(es.approve, db.session.get(ExpenseClaim, claim_id), "sup.north")
        db.session.remove()
    fin = login("finance")
    resp = fin.post_form(f"/expenses/{claim_id}/pay", _pay(app, claim_id, reference=" "), headers=EN)
    assert resp.status_code == 422 and "Enter the payment reference." in page_text(resp)
    resp = fin.post_form(f"/expenses/{claim_id}/pay", _pay(app, claim_id, paid_on="2999-01-01"), headers=EN)
    assert resp.status_code == 422 and "cannot be in the future" in page_text(resp)
    assert _state(app, claim_id)[0] == "approved"
    # a supervisor does not pay
    assert login("sup.north").post_form(f"/expenses/{claim_id}/pay", _pay(app, claim_id)).status_code == 403


# --- receipts -----------------------------------------------------------------------------------

def test_a_file_that_lies_about_its_type_is_refused(app, login):
    claim_id, line_ids = _make(app)
    files_before = _count(app, StoredFile)
    rep = login("rep.beijing")
    resp = _upload(rep, claim_id, line_ids[0], (b"just some text, not a PDF", "x.pdf"))
    assert resp.status_code == 422
    assert "x.pdf: Only PDF, JPEG and PNG files are accepted." in page_text(resp)
    resp = _upload(rep, claim_id, line_ids[0], (_png(), "ok.png"), (b"%PDF-1.4 no end", "bad.pdf"))
    assert resp.status_code == 422 and "bad.pdf: The file could not be read" in page_text(resp)
    assert _count(app, ExpenseReceipt) == 0 and _count(app, StoredFile) == files_before


def test_no_file_chosen_is_refused(app, login):
    claim_id, line_ids = _make(app)
    resp = login("rep.beijing").post_form(f"/expenses/{claim_id}/lines/{line_ids[0]}/receipts", {}, headers=EN)
    assert resp.status_code == 422 and "Choose a file." in page_text(resp)
    resp = _upload(login("rep.beijing"), claim_id, line_ids[0], (b"", "empty.png"))
    assert resp.status_code == 422 and "The file is empty." in page_text(resp)


def test_a_pdf_receipt_is_downloaded_and_an_image_shown(app, login):
    claim_id, line_ids = _make(app)
    rep = login("rep.beijing")
    pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    assert _upload(rep, claim_id, line_ids[0], (pdf, "发票.pdf"), (_png(), "小票.png")).status_code == 302
    with app.app_context():
        ids = dict(db.session.execute(select(ExpenseReceipt.filename, ExpenseReceipt.id)).all())
        db.session.remove()
    sup = login("sup.north")
    shown = rep.get(f"/expenses/{claim_id}/receipts/{ids['发票.pdf']}")
    assert shown.status_code == 200 and shown.mimetype == "application/pdf"
    assert shown.headers["Content-Disposition"].startswith("attachment")
    assert shown.headers["Content-Security-Policy"] == "sandbox" and shown.get_data() == pdf
    html = rep.get(f"/expenses/{claim_id}").get_data(as_text=True)
    assert html.count(f'<img src="/expenses/{claim_id}/receipts/{ids["小票.png"]}"') == 1
    assert f'<img src="/expenses/{claim_id}/receipts/{ids["发票.pdf"]}"' not in html
    assert sup.get(f"/expenses/{claim_id}/receipts/{ids['小票.png']}").status_code == 200  # a draft of 华北
    other, _ = _make(app, title="Other")
    assert rep.get(f"/expenses/{other}/receipts/{ids['小票.png']}").status_code == 404  # not that claim's


def test_an_oversized_receipt_is_refused(app, login):
    claim_id, line_ids = _make(app)
    app.config["ATTACHMENT_MAX_BYTES"] = 200
    big = _png(size=(200, 200))
    assert len(big) > 200
    resp = _upload(login("rep.beijing"), claim_id, line_ids[0], (big, "big.png"))
    assert resp.status_code == 422 and "larger than" in page_text(resp)
    assert _count(app, ExpenseReceipt) == 0


def _raw_upload(client, url, files):
    """A multipart body written by hand: the file names arrive exactly as given (the test client
    would not escape a backslash, which the parser then reads as an escape)."""
    boundary = "----receipts-boundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{client.csrf_token()}\r\n'.encode()]
    for data, name in files:
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="receipts"; filename="{quoted}"\r\n'
                     f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}", headers=EN)


def test_a_path_in_the_file_name_is_dropped(app, login):
    claim_id, line_ids = _make(app)
    rep = login("rep.beijing")
    resp = _raw_upload(rep, f"/expenses/{claim_id}/lines/{line_ids[0]}/receipts",
                       [(_png("red"), "../../etc/passwd.png"), (_png("blue"), "C:\\fakepath\\r.png")])
    assert resp.status_code == 302, page_text(resp)
    with app.app_context():
        names = sorted(db.session.execute(select(ExpenseReceipt.filename)).scalars())
        db.session.remove()
    assert names == ["passwd.png", "r.png"]
    page = page_text(rep.get(f"/expenses/{claim_id}", headers=EN))
    assert "passwd.png" in page and "../" not in page and "fakepath" not in page


def test_receipts_are_removed_only_from_a_draft(app, login):
    claim_id, line_ids = _make(app)
    rep = login("rep.beijing")
    assert _upload(rep, claim_id, line_ids[0], (_png(), "a.png")).status_code == 302
    with app.app_context():
        rid = db.session.execute(select(ExpenseReceipt.id)).scalar_one()
        written(lambda: es.submit(db.session.get(ExpenseClaim, claim_id), by=user("rep.beijing")))
        db.session.remove()
    resp = rep.post_form(f"/expenses/{claim_id}/receipts/{rid}/delete", headers=EN)
    assert resp.status_code == 409 and "no longer a draft" in page_text(resp)
    assert _count(app, ExpenseReceipt) == 1
    assert login("sup.north").post_form(f"/expenses/{claim_id}/receipts/{rid}/delete").status_code == 403


def test_a_duplicate_receipt_is_flagged_with_the_other_claim(app, login):
    first_id, first_lines = _make(app)
    second_id, second_lines = _make(app, title="Again")
    rep = login("rep.beijing")
    assert _upload(rep, first_id, first_lines[0], (_png(), "a.png")).status_code == 302
    assert _upload(rep, second_id, second_lines[0], (_png(), "same.png")).status_code == 302
    with app.app_context():
        number = db.session.get(ExpenseClaim, first_id).number
        db.session.remove()
    page = page_text(rep.get(f"/expenses/{second_id}", headers=EN))
    assert f"Receipt same.png also on {number}" in page


# --- amounts and lines ----------------------------------------------------------------------------

@pytest.mark.parametrize("amount, message", [
    ("1.005", "At most two decimals"),
    ("-5", "must not be negative"),
    ("0", "must be greater than zero"),
    ("0.00", "must be greater than zero"),
    ("abc", "Enter an amount such as"),
    ("1,000", "Enter an amount such as"),
    ("", "Enter the amount."),
])
def test_a_wrong_amount_is_refused_and_nothing_changes(app, login, amount, message):
    claim_id, _ = _make(app)
    before = _state(app, claim_id)
    resp = login("rep.beijing").post_form(f"/expenses/{claim_id}/lines",
                                          {"spent_on": "2026-03-12", "category": "meal", "amount": amount},
                                          headers=EN)
    assert resp.status_code == 422
    page = page_text(resp)
    assert message in page and "Nothing was saved" in page
    assert _state(app, claim_id) == before and _count(app, ExpenseLine) == 1


def test_line_rules_show_on_their_fields(app, login):
    claim_id, _ = _make(app)
    rep = login("rep.beijing")
    resp = rep.post_form(f"/expenses/{claim_id}/lines", {"spent_on": "2026-04-01", "category": "travel",
                                                         "amount": "10.00"}, headers=EN)
    assert resp.status_code == 422 and "The date must be in the claim's month (2026-03)." in page_text(resp)
    resp = rep.post_form(f"/expenses/{claim_id}/lines", {"spent_on": "2026-03-02", "category": "accommodation",
                                                         "amount": "300.00", "nights": "1"}, headers=EN)
    assert resp.status_code == 422 and "Choose the city tier for accommodation." in page_text(resp)
    resp = rep.post_form(f"/expenses/{claim_id}/lines", {"spent_on": "2026-03-02", "category": "accommodation",
                                                         "amount": "1200.00", "nights": "2", "city_tier": "1"},
                         headers=EN)
    assert resp.status_code == 302
    page = page_text(rep.get(f"/expenses/{claim_id}", headers=EN))
    assert "Over the nightly accommodation cap" in page and "2 nights" in page
    assert _state(app, claim_id)[2] == yuan("1500.00")
    # another field staff's account is not offered nor accepted
    with app.app_context():
        shanghai = db.session.execute(select(Account.id).where(Account.code == "GD-SH01")).scalar_one()
        db.session.remove()
    resp = rep.post_form(f"/expenses/{claim_id}/lines", {"spent_on": "2026-03-02", "category": "travel",
                                                         "amount": "10.00", "account_id": str(shanghai)}, headers=EN)
    assert resp.status_code == 422


def test_create_edit_and_delete_a_draft(app, login):
    rep = login("rep.beijing")
    resp = rep.post_form("/expenses/new", {"month": "2026-03", "title": " "}, headers=EN)
    assert resp.status_code == 422 and "Say what the claim is for." in page_text(resp)
    resp = rep.post_form("/expenses/new", {"month": "2099-01", "title": "x"}, headers=EN)
    assert resp.status_code == 422
    resp = rep.post_form("/expenses/new", {"month": "2026-03", "title": "Trip"})
    claim_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    resp = rep.post_form(f"/expenses/{claim_id}/edit", {"month": "2026-02", "title": "Trip to Tianjin"})
    assert resp.status_code == 302
    with app.app_context():
        c = db.session.get(ExpenseClaim, claim_id)
        assert (c.month, c.title) == ("2026-02", "Trip to Tianjin")
        db.session.remove()
    assert login("sup.north").post_form(f"/expenses/{claim_id}/edit",
                                        {"month": "2026-02", "title": "x"}).status_code == 403
    assert login("sup.north").post_form(f"/expenses/{claim_id}/delete", {"version": "1"}).status_code == 403
    assert rep.post_form(f"/expenses/{claim_id}/delete", {"version": "1"}).status_code == 302
    assert _count(app, ExpenseClaim) == 0


def test_both_languages_render_the_pages(app, login):
    claim_id, _ = _make(app, submit=True)
    for who, urls in (("rep.beijing", ["/expenses/", "/expenses/new", f"/expenses/{claim_id}", "/dashboard"]),
                      ("sup.north", ["/expenses/approvals", "/expenses/claims", f"/expenses/{claim_id}"]),
                      ("finance", ["/expenses/payments", "/expenses/claims", f"/expenses/{claim_id}", "/dashboard"])):
        client = login(who)
        for url in urls:
            en, zh = client.get(url, headers=EN), client.get(url, headers=ZH)
            assert en.status_code == zh.status_code == 200, url
            assert '<html lang="en">' in page_text(en) and '<html lang="zh-CN">' in page_text(zh)
            assert 'id="expense-actions"' in page_text(zh) if url == "/dashboard" else True
    page = page_text(login("sup.north").get(f"/expenses/{claim_id}", headers=EN))
    assert "Expense claim" in page and "Waiting for approval" in page and "Budget of 华北区 for 2026-03" in page


# --- the budget panel -------------------------------------------------------------------------------

def test_the_budget_panel_shows_the_hand_computed_figures(app, login):
    with app.app_context():
        north = db.session.execute(select(Region).where(Region.code == "NORTH")).scalar_one()
        written(lambda: es.set_budgets(MONTH, north, {"total": yuan("1000.00"), "travel": yuan("500.00")},
                                       by=user("finance")))
        approved = claim(lines=((date(2026, 3, 3), "travel", "300.00"),), submit=True)
        act(es.approve, approved, "sup.north")
        claim("merch.tianjin", lines=((date(2026, 3, 4), "travel", "150.00"),), submit=True)  # pending
        this = claim(lines=((date(2026, 3, 5), "travel", "100.00"), (date(2026, 3, 5), "meal", "80.00")),
                     title="This one", submit=True)
        claim_id = this.id
        db.session.remove()
    # total: 1000 budget - 300 approved - 180 this claim = 520 left (the 150 pending aside)
    # travel: 500 - 300 - 100 = 100 left; meal: no budget
    sup = login("sup.north")
    html = sup.get(f"/expenses/{claim_id}", headers=EN).get_data(as_text=True)
    assert _figures(html, "total") == {"budget": "¥1,000.00", "approved": "¥300.00", "pending": "¥150.00",
                                       "this": "¥180.00", "left": "¥520.00"}
    assert _figures(html, "travel") == {"budget": "¥500.00", "approved": "¥300.00", "pending": "¥150.00",
                                        "this": "¥100.00", "left": "¥100.00"}
    assert _figures(html, "meal") == {"budget": "not set", "approved": "¥0.00", "pending": "¥0.00",
                                      "this": "¥80.00", "left": "—"}
    assert 'id="over-budget"' not in html

    with app.app_context():  # travel cut to 350: the claim takes it 50 over
        north = db.session.execute(select(Region).where(Region.code == "NORTH")).scalar_one()
        written(lambda: es.set_budgets(MONTH, north, {"travel": yuan("350.00")}, by=user("finance")))
        db.session.remove()
    html = sup.get(f"/expenses/{claim_id}", headers=EN).get_data(as_text=True)
    assert _figures(html, "travel")["left"] == "-¥50.00"
    assert re.search(r'class="num bad" data-figure="left">-¥50.00', html)
    assert 'id="over-budget"' in html and 'name="override_reason"' in html
    resp = sup.post_form(f"/expenses/{claim_id}/approve", _decision(app, claim_id), headers=EN)
    assert resp.status_code == 422
    assert "takes the budget over by ¥50.00" in page_text(resp)
    assert _state(app, claim_id)[0] == "submitted"
    resp = sup.post_form(f"/expenses/{claim_id}/approve",
                         _decision(app, claim_id, override_reason="展会季 开拓新客户"), headers=EN)
    assert resp.status_code == 302
    page = page_text(sup.get(f"/expenses/{claim_id}", headers=EN))
    assert "Approved over the budget:" in page and "展会季 开拓新客户" in page


def test_the_claimant_is_warned_when_a_line_takes_the_budget_over(app, login):
    with app.app_context():
        north = db.session.execute(select(Region).where(Region.code == "NORTH")).scalar_one()
        written(lambda: es.set_budgets(MONTH, north, {"meal": yuan("100.00")}, by=user("finance")))
        db.session.remove()
    claim_id, _ = _make(app)
    rep = login("rep.beijing")
    rep.post_form(f"/expenses/{claim_id}/lines", {"spent_on": "2026-03-12", "category": "meal", "amount": "120.00"})
    page = page_text(rep.get(f"/expenses/{claim_id}", headers=EN))
    assert "Meal allowance: this claim goes over the budget by ¥20.00." in page
    assert 'id="budget"' not in page  # the approver's panel is not the claimant's


# --- the queues -------------------------------------------------------------------------------------

def test_bulk_approval_skips_a_flagged_claim(app, login):
    plain, _ = _make(app, submit=True)
    flagged, _ = _make(app, lines=((date(2026, 3, 10), "meal", "150.00"),), title="Meals", submit=True)
    sup = login("sup.north")
    html = sup.get("/expenses/approvals", headers=EN).get_data(as_text=True)
    # Each box names the claim and the version shown (submitted: version 2).
    assert f'name="claim" value="{plain}:2"' in html and f'name="claim" value="{flagged}:' not in html
    assert "Over the daily allowance" in page_text(sup.get("/expenses/approvals", headers=EN))
    resp = sup.post("/expenses/approvals/bulk", data={"csrf_token": sup.csrf_token(),
                                                      "claim": [f"{plain}:2", f"{flagged}:2"]}, headers=EN)
    assert resp.status_code == 302
    page = page_text(sup.get("/expenses/approvals", headers=EN))
    assert "1 claim approved." in page and "Flagged claims are approved one by one." in page
    assert _state(app, plain)[0] == "approved" and _state(app, flagged)[0] == "submitted"


def test_bulk_approval_refuses_a_claim_changed_since_it_was_shown(app, login):
    claim_id, _ = _make(app, submit=True)
    sup = login("sup.north")
    # Shown at version 2; meanwhile it was returned, revised and submitted again (version 4).
    rep = login("rep.beijing")
    assert login("admin").post_form(f"/expenses/{claim_id}/reject", {"version": "2", "comment": "Add the hotel"},
                                    headers=EN).status_code == 302
    assert rep.post_form(f"/expenses/{claim_id}/submit", {"version": "3"}).status_code == 302
    resp = sup.post("/expenses/approvals/bulk", data={"csrf_token": sup.csrf_token(), "claim": [f"{claim_id}:2"]},
                    headers=EN)
    assert resp.status_code == 302
    assert "changed while you were looking at it" in page_text(sup.get("/expenses/approvals", headers=EN))
    assert _state(app, claim_id)[0] == "submitted"


def test_the_queues_filter(app, login):
    beijing, _ = _make(app, submit=True)
    tianjin, _ = _make(app, "merch.tianjin", lines=((date(2026, 3, 10), "travel", "120.00"),), submit=True)
    sup = login("sup.north")
    assert _queue_ids(sup) >= {beijing, tianjin}
    html = sup.get("/expenses/approvals?q=田甜").get_data(as_text=True)
    assert f'id="claim-{tianjin}"' in html and f'id="claim-{beijing}"' not in html
    with app.app_context():
        tj = db.session.execute(select(Region.id).where(Region.code == "TJ")).scalar_one()
        db.session.remove()
    html = sup.get(f"/expenses/claims?region={tj}").get_data(as_text=True)
    assert f'href="/expenses/{tianjin}"' in html and f'href="/expenses/{beijing}"' not in html
    assert sup.get("/expenses/claims?month=bad").status_code == 400
    html = sup.get("/expenses/claims?status=submitted&month=2026-03").get_data(as_text=True)
    assert f'href="/expenses/{tianjin}"' in html


def test_the_dashboard_shows_what_waits(app, login):
    _make(app)  # a draft
    waiting, _ = _make(app, title="To approve", submit=True)
    to_pay, _ = _make(app, title="To pay", submit=True)
    with app.app_context():
        act(es.approve, db.session.get(ExpenseClaim, to_pay), "sup.north")
        db.session.remove()
    counts = lambda client: dict(re.findall(r'data-count="(\w+)">(\d+)<',  # noqa: E731
                                            client.get("/dashboard", headers=EN).get_data(as_text=True)))
    assert counts(login("rep.beijing")) == {"drafts": "1", "in_approval": "1", "to_be_paid": "1"}
    assert counts(login("sup.north"))["to_approve"] == "1"
    fin = counts(login("finance"))
    assert fin["to_pay"] == "1"
    assert "¥300.00" in page_text(login("finance").get("/dashboard", headers=EN))
    assert 'id="expense-actions"' not in page_text(login("dist.bj").get("/dashboard"))


def test_the_claim_lists(app, login):
    mine, _ = _make(app, submit=True)
    other, _ = _make(app, "merch.tianjin", submit=True)
    rep = login("rep.beijing")
    html = rep.get("/expenses/", headers=EN).get_data(as_text=True)
    assert f'href="/expenses/{mine}"' in html and f'href="/expenses/{other}"' not in html
    html = rep.get("/expenses/?status=draft", headers=EN).get_data(as_text=True)
    assert f'href="/expenses/{mine}"' not in html
    for who in ("finance", "admin", "sup.north"):
        html = login(who).get("/expenses/claims", headers=EN).get_data(as_text=True)
        assert f'href="/expenses/{mine}"' in html and f'href="/expenses/{other}"' in html, who
    html = login("sup.east").get("/expenses/claims", headers=EN).get_data(as_text=True)
    assert f'href="/expenses/{mine}"' not in html


def test_nav_links_by_role(app, login):
    def links(who):
        html = login(who).get("/dashboard").get_data(as_text=True)
        nav = html[html.index('id="mainnav"'):html.index("</nav>", html.index('id="mainnav"'))]
        return set(re.findall(r'href="(/expenses/[^"]*)"', nav))
    # One link into the expenses (their own bar links the rest): claimants to their claims,
    # finance to the payments, the admin to every claim.
    assert links("rep.beijing") == {"/expenses/"}
    assert links("sup.north") == {"/expenses/"}
    assert links("finance") == {"/expenses/payments"}
    assert links("admin") == {"/expenses/claims"}
    assert links("dist.bj") == set()
    # The expense pages' own bar: a supervisor reaches the approvals, finance the summary.
    bar = login("sup.north").get("/expenses/", headers=EN).get_data(as_text=True)
    assert 'href="/expenses/approvals"' in bar and 'href="/expenses/summary"' in bar
    bar = login("finance").get("/expenses/payments", headers=EN).get_data(as_text=True)
    assert 'href="/expenses/claims"' in bar and 'href="/expenses/budgets"' in bar
