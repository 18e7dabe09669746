"""The ledger's pages, through the test client: every kind of document posted through its form
(by finance for the company's customers, by a distributor for its dealers), then read back on
the document page, the ledger and the statement; bad input refused with a message (422) and
nothing posted; the credit limit and its override; reversal (红冲); month close and reopen;
ageing; and who may see and do what. Every test with `app` runs on SQLite and PostgreSQL."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from channel.audit.models import AuditEntry
from channel.core.periods import Month
from channel.extensions import db
from channel.ledger.models import Document, Period
from channel.ledger.views import business_today

from ..helpers import (
    EN,
    ZH,
    csv_rows,
    location_path,
    object_id,
    page_text,
    shared_demo_app,  # noqa: F401  (fixture)
    xlsx_rows,
)

NOTHING_SAVED = "Please correct the marked fields. Nothing was saved."


# --- helpers ------------------------------------------------------------------------------------

def today(app):
    with app.test_request_context():
        return business_today()


def acc(app, code):
    return object_id(app, "acc", code)


def prod(app, code):
    return str(object_id(app, "prod", code))


def new_url(app, code, kind):
    return f"/accounts/{acc(app, code)}/documents/new/{kind}"


def lines(app, *rows):
    """Form fields for product lines: (product code, quantity, unit price or "" for the list price)."""
    data = {}
    for i, (code, quantity, price) in enumerate(rows):
        data.update({f"lines-{i}-product_id": prod(app, code), f"lines-{i}-quantity": quantity,
                     f"lines-{i}-unit_price": price})
    return data


def post(client, app, code, kind, data, on=None, headers=EN):
    data = {"date": (on or today(app)).isoformat(), **data}
    return client.post_form(new_url(app, code, kind), data, headers=headers)


def posted_number(resp):
    """The number of the document a successful post redirected to."""
    assert resp.status_code == 302, page_text(resp)[:2000]
    match = re.fullmatch(r"/documents/([A-Z]{2}-\d{4}-\d{6})", location_path(resp))
    assert match, location_path(resp)
    return match.group(1)


def documents(app, code=None):
    with app.app_context():
        stmt = select(Document).order_by(Document.id)
        if code is not None:
            stmt = stmt.where(Document.account_id == acc(app, code))
        rows = [(d.number, d.kind, d.direction, d.amount_fen) for d in db.session.execute(stmt).scalars()]
        db.session.remove()
    return rows


def document_count(app):
    with app.app_context():
        n = db.session.execute(select(func.count()).select_from(Document)).scalar_one()
        db.session.remove()
    return n


def plain(resp):
    """The page's text without tags, whitespace squeezed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page_text(resp)))


def linked(resp):
    """The document numbers the page links to (not those merely named, as in a flash)."""
    return set(re.findall(r'href="/documents/([A-Z]{2}-\d{4}-\d{6})"', resp.get_data(as_text=True)))


def balances(resp):
    """The balance column of the ledger or statement table (English page): the opening balance,
    the balance after each entry, the closing balance."""
    return re.findall(r'<td class="num" data-label="Balance">([^<]*)</td>', resp.get_data(as_text=True))


# --- every kind through its form -------------------------------------------------------------

def test_finance_posts_every_kind_and_reads_it_back(app, login):
    client = login("finance")
    on = today(app)
    year = on.year
    steps = [
        ("opening", {"amount": "1000.00", "direction": "debit", "memo": "系统上线期初"}),
        # P-W550 at its list price (left empty), P-GT500 at an agreed price
        ("shipment", {**lines(app, ("P-W550", "10", ""), ("P-GT500", "2", "44.00")),
                      "external_ref": "ERP-FH-1", "memo": "月度补货"}),
        ("payment", {"amount": "500", "payment_method": "acceptance_bill", "bank_ref": "CDHP-778899"}),
        ("return", lines(app, ("P-W550", "1", ""))),
        ("rebate", {"amount": "100.00", "memo": "第一季度返利"}),
        ("adjustment", {"amount": "12.34", "direction": "credit", "reason": "运费差额"}),
    ]
    numbers = {}
    for kind, data in steps:
        resp = post(client, app, "GD-BJ01", kind, data)
        numbers[kind] = posted_number(resp)
        page = client.get(location_path(resp), headers=EN)
        assert page.status_code == 200
        assert f"Posted {numbers[kind]}" in page_text(page)  # the flash
    assert numbers == {"opening": f"QC-{year}-000001", "shipment": f"FH-{year}-000001",
                       "payment": f"HK-{year}-000001", "return": f"TH-{year}-000001",
                       "rebate": f"FL-{year}-000001", "adjustment": f"TZ-{year}-000001"}
    assert [(k, d, a) for _, k, d, a in documents(app, "GD-BJ01")] == [
        ("opening", "debit", 100_000), ("shipment", "debit", 37_600),  # 10 × 28.80 + 2 × 44.00
        ("payment", "credit", 50_000), ("return", "credit", 2_880), ("rebate", "credit", 10_000),
        ("adjustment", "credit", 1_234)]

    # The shipment's page: its lines, amounts, who posted it, the external reference.
    text = page_text(client.get(f"/documents/{numbers['shipment']}", headers=EN))
    for expected in ("P-W550", "P-GT500", "¥28.80", "¥288.00", "¥44.00", "¥88.00", "¥376.00",
                     "林晓梅", "ERP-FH-1", "月度补货", "北京鑫源商贸有限公司", "Reverse (红冲)"):
        assert expected in text
    text = page_text(client.get(f"/documents/{numbers['payment']}", headers=EN))
    assert "Bank acceptance bill" in text and "CDHP-778899" in text and "¥500.00" in text
    text = page_text(client.get(f"/documents/{numbers['adjustment']}", headers=EN))
    assert "运费差额" in text and "Credit" in text

    # The ledger: 1,000.00 + 376.00 - 500.00 - 28.80 - 100.00 - 12.34 = 734.86, step by step.
    resp = client.get(f"/accounts/{acc(app, 'GD-BJ01')}/ledger", headers=EN)
    assert resp.status_code == 200
    assert balances(resp) == ["¥0.00", "¥1,000.00", "¥1,376.00", "¥876.00", "¥847.20", "¥747.20",
                              "¥734.86", "¥734.86"]  # opening, after each entry, closing
    text = page_text(resp)
    assert "Current balance" in text and "¥734.86" in text
    assert "¥799,265.14" in text  # available: 800,000.00 - 734.86
    assert all(n in text for n in numbers.values())

    # The statement: opening 0, debits 1,376.00, credits 641.14, closing 734.86, by kind.
    resp = client.get(f"/accounts/{acc(app, 'GD-BJ01')}/statement?period={Month.of(on)}", headers=EN)
    assert resp.status_code == 200
    text = page_text(resp)
    assert re.search(r'id="opening">¥0\.00<', resp.get_data(as_text=True))
    assert re.search(r'id="closing">¥734\.86<', resp.get_data(as_text=True))
    assert "¥1,376.00" in text and "¥641.14" in text
    assert "-¥28.80" in text  # returns, net
    rows = xlsx_rows(client.get(f"/accounts/{acc(app, 'GD-BJ01')}/statement?period={Month.of(on)}&format=xlsx",
                                headers=EN))
    assert rows[0] == ["Date", "Number", "Kind", "Description", "Debit (¥)", "Credit (¥)", "Balance (¥)"]
    assert rows[1][3] == "Opening balance" and float(rows[1][6]) == 0
    assert [r[1] for r in rows[2:8]] == list(numbers.values())
    assert [r[2] for r in rows[2:8]] == ["Opening balance", "Shipment", "Payment received", "Return",
                                        "Rebate", "Adjustment"]
    assert rows[-2][3] == "Total" and float(rows[-2][4]) == 1376 and float(rows[-2][5]) == 641.14
    assert rows[-1][3] == "Closing balance" and float(rows[-1][6]) == 734.86

    # The account page shows the balance and links to the ledger.
    text = page_text(client.get(f"/accounts/{acc(app, 'GD-BJ01')}", headers=EN))
    assert "¥734.86" in text and f"/accounts/{acc(app, 'GD-BJ01')}/ledger" in text


def test_distributor_keeps_its_dealers_ledger(app, login):
    dist = login("dist.bj")
    shipment = posted_number(post(dist, app, "DL-BJ001", "shipment",
                                  lines(app, ("P-CL330", "3", "50.00"), ("P-PW600", "5", ""))))
    payment = posted_number(post(dist, app, "DL-BJ001", "payment",
                                 {"amount": "100.50", "payment_method": "cash"}))
    # 3 × 50.00 + 5 × 21.60 = 258.00; paid 100.50 in cash
    assert [(k, a) for _, k, _d, a in documents(app, "DL-BJ001")] == [("shipment", 25_800), ("payment", 10_050)]
    text = page_text(dist.get(f"/accounts/{acc(app, 'DL-BJ001')}/ledger", headers=EN))
    assert shipment in text and payment in text and "¥157.50" in text and "Cash" in text
    text = page_text(dist.get(f"/documents/{shipment}", headers=EN))
    assert "王建国" in text and "¥258.00" in text and "Reverse (红冲)" in text
    with app.app_context():
        supplier = db.session.execute(select(Document.supplier_id).where(Document.number == shipment)).scalar_one()
        db.session.remove()
    assert supplier == acc(app, "GD-BJ01")  # the dealer's ledger is kept against its distributor

    # Finance reads the dealer's ledger but posts nothing to it, nor reverses its documents.
    finance = login("finance")
    assert finance.get(f"/accounts/{acc(app, 'DL-BJ001')}/ledger", headers=EN).status_code == 200
    assert "Reverse (红冲)" not in page_text(finance.get(f"/documents/{shipment}", headers=EN))
    assert post(finance, app, "DL-BJ001", "payment", {"amount": "1", "payment_method": "cash"}).status_code == 403
    assert finance.post_form(f"/documents/{shipment}/reverse", {"reason": "x", "date": today(app).isoformat()},
                             headers=EN).status_code == 403
    # ... and the distributor posts nothing to its own account with the company.
    assert post(dist, app, "GD-BJ01", "payment", {"amount": "1", "payment_method": "cash"}).status_code == 403
    assert len(documents(app)) == 2


def test_without_javascript_five_empty_rows_and_blank_ones_ignored(app, login):
    client = login("finance")
    resp = client.get(new_url(app, "GD-BJ01", "shipment"), headers=EN)
    html = resp.get_data(as_text=True)
    assert html.count("<tr data-line>") == 5
    assert f'value="{today(app).isoformat()}"' in html  # the date defaults to today
    assert 'data-price="28.80"' in html and "P-W550 清泉矿泉水 550ml×24 · ¥28.80/箱" in page_text(resp)
    assert "P-OLD01" not in html  # discontinued products are not shipped
    assert "P-OLD01" in client.get(new_url(app, "GD-BJ01", "return"), headers=EN).get_data(as_text=True)
    # rows 0, 2, 3 and 4 blank, row 1 used; a row the script added may come with any number
    data = {f"lines-{i}-{f}": "" for i in range(5) for f in ("product_id", "quantity", "unit_price")}
    data.update({"lines-1-product_id": prod(app, "P-W550"), "lines-1-quantity": "4",
                 "lines-17-product_id": prod(app, "P-MT250"), "lines-17-quantity": "1",
                 "lines-17-unit_price": "60"})
    number = posted_number(post(client, app, "GD-BJ01", "shipment", data))
    assert documents(app) == [(number, "shipment", "debit", 4 * 2880 + 6000)]


# --- bad input: refused with a message, nothing posted -----------------------------------------

AMOUNTS = [
    ("-1", "The amount must not be negative."),
    ("1.005", "At most two decimals (fen)."),
    ("NaN", "Enter an amount such as 12345.60 (no commas)."),
    ("1e309", "Enter an amount such as 12345.60 (no commas)."),
    ("1,000.00", "Enter an amount such as 12345.60 (no commas)."),
    ("0", "The amount must be greater than zero."),
    ("", "Enter the amount."),
    ("99999999999999", "The amount is too large."),
]


@pytest.mark.parametrize(("amount", "message"), AMOUNTS, ids=[a or "empty" for a, _ in AMOUNTS])
def test_bad_amount_is_refused(shared_demo_app, amount, message):
    app = shared_demo_app
    client = app.test_client().login("finance")
    before = document_count(app)
    resp = post(client, app, "GD-BJ01", "payment", {"amount": amount, "payment_method": "bank_transfer"})
    assert resp.status_code == 422
    text = page_text(resp)
    assert NOTHING_SAVED in text and message in text
    assert document_count(app) == before


LINE_CASES = [
    ({**{"lines-0-product_id": "P", "lines-0-quantity": "1.5", "lines-0-unit_price": ""}},
     "The quantity must be a whole number above 0."),
    ({"lines-0-product_id": "P", "lines-0-quantity": "0", "lines-0-unit_price": ""},
     "The quantity must be a whole number above 0."),
    ({"lines-0-product_id": "P", "lines-0-quantity": "-3", "lines-0-unit_price": ""},
     "The quantity must be a whole number above 0."),
    ({"lines-0-product_id": "P", "lines-0-quantity": "", "lines-0-unit_price": "28.80"},
     "Enter the quantity."),
    ({"lines-0-product_id": "P", "lines-0-quantity": "20000000", "lines-0-unit_price": ""},
     "At most 10,000,000 units per line."),
    ({"lines-0-product_id": "", "lines-0-quantity": "3", "lines-0-unit_price": ""},
     "Choose a product from the list."),
    ({"lines-0-product_id": "OLD", "lines-0-quantity": "3", "lines-0-unit_price": ""},
     "Choose a product from the list."),
    ({"lines-0-product_id": "999999", "lines-0-quantity": "3", "lines-0-unit_price": ""},
     "Choose a product from the list."),
    ({"lines-0-product_id": "P", "lines-0-quantity": "3", "lines-0-unit_price": "1,000"},
     "Enter an amount such as 12345.60 (no commas)."),
    ({"lines-0-product_id": "P", "lines-0-quantity": "3", "lines-0-unit_price": "-2"},
     "The amount must not be negative."),
    ({"lines-0-product_id": "P", "lines-0-quantity": "3", "lines-0-unit_price": "0"},
     "The amount must be above zero."),  # the service's word: every line at price 0
    ({}, "Add at least one product line."),
]


@pytest.mark.parametrize(("data", "message"), LINE_CASES, ids=[f"case{i}" for i in range(len(LINE_CASES))])
def test_bad_lines_are_refused(shared_demo_app, data, message):
    app = shared_demo_app
    client = app.test_client().login("finance")
    values = {"P": prod(app, "P-W550"), "OLD": prod(app, "P-OLD01")}
    data = {k: values.get(v, v) for k, v in data.items()}
    before = document_count(app)
    resp = post(client, app, "GD-BJ01", "shipment", data)
    assert resp.status_code == 422
    text = page_text(resp)
    assert message in text
    assert document_count(app) == before


OTHER_CASES = [
    ("adjustment", {"amount": "5", "direction": "debit", "reason": "   "}, "Give the reason for the adjustment."),
    ("adjustment", {"amount": "5", "reason": "运费"}, "Choose debit or credit."),
    ("opening", {"amount": "5", "direction": "sideways"}, "Choose debit or credit."),
    ("payment", {"amount": "5", "payment_method": "cheque"}, "Choose the payment method."),
    ("payment", {"amount": "5", "payment_method": "cash", "date": "2026-02-30"}, "Not a valid date value."),
    ("payment", {"amount": "5", "payment_method": "cash", "date": "1999-12-31"}, "Enter a date between 2000 and 2999."),
    ("payment", {"amount": "5", "payment_method": "cash", "date": ""}, "Enter the date."),
    ("rebate", {"amount": "5", "external_ref": "x" * 65}, "Field cannot be longer than 64 characters."),
]


@pytest.mark.parametrize(("kind", "data", "message"), OTHER_CASES, ids=[f"{k}{i}" for i, (k, _d, _m) in enumerate(OTHER_CASES)])
def test_bad_fields_are_refused(shared_demo_app, kind, data, message):
    app = shared_demo_app
    client = app.test_client().login("finance")
    before = document_count(app)
    resp = client.post_form(new_url(app, "GD-BJ01", kind), {"date": today(app).isoformat(), **data}, headers=EN)
    assert resp.status_code == 422
    assert message in page_text(resp)
    assert document_count(app) == before


def test_refusals_are_in_chinese_for_a_chinese_user(shared_demo_app):
    app = shared_demo_app
    client = app.test_client().login("finance")
    resp = post(client, app, "GD-BJ01", "payment", {"amount": "1,000.00", "payment_method": "cash"}, headers=ZH)
    assert resp.status_code == 422
    text = page_text(resp)
    assert "录入回款" in text and "付款方式" in text and "单位：元" in text
    resp = post(client, app, "GD-BJ01", "shipment", lines(app, ("P-W550", "1.5", "")), headers=ZH)
    assert "数量必须是大于 0 的整数。" in page_text(resp)


# --- the credit limit ---------------------------------------------------------------------------

def test_credit_limit_refusal_then_override_with_a_reason(app, login):
    client = login("finance")
    # DL-ZJ003 buys from the company directly; its limit is ¥300,000.00.
    posted_number(post(client, app, "DL-ZJ003", "opening", {"amount": "250000", "direction": "debit"}))
    big = lines(app, ("P-EN250", "500", ""))  # 500 × 120.00 = 60,000.00: 10,000.00 over
    resp = post(client, app, "DL-ZJ003", "shipment", big)
    assert resp.status_code == 422
    text = page_text(resp)
    assert ("This shipment would exceed the credit limit: limit ¥300,000.00, balance ¥250,000.00, "
            "shortfall ¥10,000.00.") in text
    assert 'name="override_reason"' in resp.get_data(as_text=True)
    assert len(documents(app, "DL-ZJ003")) == 1  # only the opening balance

    resp = post(client, app, "DL-ZJ003", "shipment", {**big, "override_reason": "总经理批准：旺季备货"})
    number = posted_number(resp)
    text = page_text(client.get(f"/documents/{number}", headers=EN))
    assert "Credit limit overridden" in text and "总经理批准：旺季备货" in text and "¥60,000.00" in text
    with app.app_context():
        entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "credit_override")).scalar_one()
        assert entry.reason == "总经理批准：旺季备货" and entry.object_label == number
        db.session.remove()
    admin = login("admin")
    assert "Credit limit overridden" in page_text(admin.get("/admin/audit?q=credit_override", headers=EN))
    # the account page and the ledger show the balance over the limit, nothing available
    text = page_text(client.get(f"/accounts/{acc(app, 'DL-ZJ003')}/ledger", headers=EN))
    assert "¥310,000.00" in text


def test_a_suspended_account_gets_no_shipment(app, login):
    client = login("dist.tj")
    resp = post(client, app, "DL-TJ005", "shipment", lines(app, ("P-W550", "1", "")))
    assert resp.status_code == 422
    assert "Account DL-TJ005 is suspended: it accepts no shipments." in page_text(resp)
    posted_number(post(client, app, "DL-TJ005", "payment", {"amount": "10", "payment_method": "cash"}))


def test_the_same_external_reference_posts_once(app, login):
    client = login("finance")
    data = {"amount": "800.00", "payment_method": "bank_transfer", "external_ref": "ERP-HK-77"}
    first = posted_number(post(client, app, "GD-TJ01", "payment", data))
    resp = post(client, app, "GD-TJ01", "payment", data)
    assert posted_number(resp) == first
    follow = client.get(location_path(resp), headers=EN)
    assert f"This external reference was posted before as {first}: nothing new was posted." in page_text(follow)
    resp = post(client, app, "GD-TJ01", "payment", {**data, "amount": "900.00"})
    assert resp.status_code == 422
    assert f"External reference already used by {first} with different content (Amount)." in page_text(resp)
    assert len(documents(app)) == 1


# --- reversal (红冲) ----------------------------------------------------------------------------

def test_reverse_through_the_document_page(app, login):
    client = login("finance")
    shipment = posted_number(post(client, app, "GD-SH01", "shipment", lines(app, ("P-CF280", "10", ""))))
    page = client.get(f"/documents/{shipment}", headers=EN)
    assert 'action="/documents/%s/reverse"' % shipment in page.get_data(as_text=True)

    resp = client.post_form(f"/documents/{shipment}/reverse", {"reason": " ", "date": today(app).isoformat()},
                            headers=EN)
    assert resp.status_code == 422 and "Give the reason for the reversal." in page_text(resp)
    assert len(documents(app)) == 1

    resp = client.post_form(f"/documents/{shipment}/reverse", {"reason": "单价录入错误", "date": today(app).isoformat()},
                            headers=EN)
    reversal = posted_number(resp)
    assert documents(app) == [(shipment, "shipment", "debit", 87_000), (reversal, "shipment", "credit", 87_000)]
    text = page_text(client.get(f"/documents/{reversal}", headers=EN))
    assert f"Posted {reversal}, reversing {shipment}" in text
    assert "This document reverses" in text and shipment in text and "单价录入错误" in text
    assert "Reverse (红冲)" not in text  # a reversal is not reversed again
    text = page_text(client.get(f"/documents/{shipment}", headers=EN))
    assert "This document was reversed by" in text and reversal in text and "Reverse (红冲)" not in text
    text = plain(client.get(f"/accounts/{acc(app, 'GD-SH01')}/ledger", headers=EN))
    assert f"Reversed by {reversal}" in text and f"Reversal {shipment}" in text
    resp = client.get(f"/accounts/{acc(app, 'GD-SH01')}/ledger", headers=EN)
    assert balances(resp) == ["¥0.00", "¥870.00", "¥0.00", "¥0.00"]  # back where it started

    again = client.post_form(f"/documents/{shipment}/reverse", {"reason": "再冲", "date": today(app).isoformat()},
                             headers=EN)
    assert again.status_code == 422 and f"{shipment} has already been reversed." in page_text(again)
    twice = client.post_form(f"/documents/{reversal}/reverse", {"reason": "再冲", "date": today(app).isoformat()},
                             headers=EN)
    assert twice.status_code == 422 and "is itself a reversal and cannot be reversed" in page_text(twice)
    assert len(documents(app)) == 2
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(AuditEntry)
                                  .where(AuditEntry.action == "reversed")).scalar_one() == 1
        db.session.remove()
    # Others may read it but not reverse it.
    sup = login("sup.east")
    assert sup.get(f"/documents/{shipment}", headers=EN).status_code == 200
    assert sup.post_form(f"/documents/{shipment}/reverse", {"reason": "x", "date": today(app).isoformat()},
                         headers=EN).status_code == 403


# --- month close and reopen -------------------------------------------------------------------

def test_close_and_reopen_through_the_periods_page(app, login):
    finance = login("finance")
    this = Month.of(today(app))
    m1, m2 = this.prev(), this.prev().prev()
    posted_number(post(finance, app, "GD-GZ01", "payment", {"amount": "10", "payment_method": "cash"},
                       on=m2.first_day))
    posted_number(post(finance, app, "GD-GZ01", "payment", {"amount": "20", "payment_method": "cash"},
                       on=m1.first_day))
    page = finance.get("/periods", headers=EN)
    assert page.status_code == 200
    assert f'action="/periods/{m2}/close"' in page.get_data(as_text=True)  # the oldest open month
    assert f"/periods/{m2}/reopen" not in page.get_data(as_text=True)  # finance does not reopen

    # Months close in order, once ended.
    resp = finance.post_form(f"/periods/{m1}/close", headers=EN)
    assert resp.status_code == 422 and f"Close {m2} before {m1}." in page_text(resp)
    resp = finance.post_form(f"/periods/{this}/close", headers=EN)
    assert resp.status_code == 422 and f"{this} has not ended yet and cannot be closed." in page_text(resp)
    resp = finance.post_form(f"/periods/{m2}/close", headers=EN)
    assert resp.status_code == 302 and location_path(resp) == "/periods"
    page = finance.get("/periods", headers=EN)
    assert f"{m2} closed." in page_text(page) and f'action="/periods/{m1}/close"' in page.get_data(as_text=True)
    resp = finance.post_form(f"/periods/{m2}/close", headers=EN)
    assert resp.status_code == 422 and f"{m2} is already closed." in page_text(resp)

    # Nothing is posted into a closed month, by the form or by a reversal.
    resp = post(finance, app, "GD-GZ01", "payment", {"amount": "5", "payment_method": "cash"}, on=m2.last_day)
    assert resp.status_code == 422 and f"{m2} is closed: nothing can be posted into it." in page_text(resp)
    resp = post(finance, app, "GD-GZ01", "rebate", {"amount": "5"}, on=(m2 - 1).last_day)
    assert resp.status_code == 422
    assert f"The books are closed up to {m2}: nothing can be posted into {m2 - 1}." in page_text(resp)
    first = documents(app, "GD-GZ01")[0][0]
    resp = finance.post_form(f"/documents/{first}/reverse", {"reason": "错", "date": m2.last_day.isoformat()},
                             headers=EN)
    assert resp.status_code == 422 and f"{m2} is closed" in page_text(resp)
    assert len(documents(app)) == 2
    statement = finance.get(f"/accounts/{acc(app, 'GD-GZ01')}/statement?period={m2}", headers=EN)
    assert '<span class="badge ok">Closed</span>' in statement.get_data(as_text=True)
    assert "¥10.00" in page_text(statement)

    finance.post_form(f"/periods/{m1}/close", headers=EN)
    # Reopening: the admin only, the latest closed month only, with a reason.
    assert finance.post_form(f"/periods/{m1}/reopen", {"reason": "补录"}, headers=EN).status_code == 403
    admin = login("admin")
    resp = admin.post_form(f"/periods/{m2}/reopen", {"reason": "补录"}, headers=EN)
    assert resp.status_code == 422
    assert f"Only the latest closed month can be reopened: reopen {m1} first." in page_text(resp)
    resp = admin.post_form(f"/periods/{m1}/reopen", {"reason": "  "}, headers=EN)
    assert resp.status_code == 422 and "Give the reason for reopening the month." in page_text(resp)
    resp = admin.post_form(f"/periods/{m1}/reopen", {"reason": "漏记一笔回款，补录"}, headers=EN)
    assert resp.status_code == 302
    page = admin.get("/periods", headers=EN)
    assert f"{m1} reopened." in page_text(page) and "漏记一笔回款，补录" in page_text(page)
    resp = admin.post_form(f"/periods/{m1}/reopen", {"reason": "again"}, headers=EN)
    assert resp.status_code == 422  # the latest closed month is m2 now
    with app.app_context():
        rows = {p.month: p.status for p in db.session.execute(select(Period)).scalars()}
        actions = db.session.execute(select(AuditEntry.action).where(AuditEntry.object_type == "periods")
                                     .order_by(AuditEntry.id)).scalars().all()
        db.session.remove()
    assert rows == {str(m2): "closed", str(m1): "open"}
    assert actions == ["period_closed", "period_closed", "period_reopened"]
    posted_number(post(finance, app, "GD-GZ01", "payment", {"amount": "5", "payment_method": "cash"},
                       on=m1.last_day))


def test_a_month_before_the_first_closed_one_takes_no_postings(app, login):
    """Closing a month with nothing before it leaves the earlier months open in name only: a
    posting there would be missed by every balance (they start from the snapshot)."""
    finance = login("finance")
    m1 = Month.of(today(app)).prev()
    assert finance.post_form(f"/periods/{m1}/close", headers=EN).status_code == 302
    resp = post(finance, app, "GD-BJ01", "payment", {"amount": "5", "payment_method": "cash"},
                on=(m1 - 2).first_day)
    assert resp.status_code == 422
    assert f"The books are closed up to {m1}" in page_text(resp)
    assert "Before the first closed month" in page_text(finance.get("/periods", headers=EN))
    assert document_count(app) == 0


# --- ledger page: filters, pages, exports ------------------------------------------------------

def test_ledger_month_range_kind_and_export(app, login):
    client = login("finance")
    this = Month.of(today(app))
    last = this.prev()
    a = posted_number(post(client, app, "GD-TJ01", "shipment", lines(app, ("P-W550", "10", "")), on=last.first_day))
    b = posted_number(post(client, app, "GD-TJ01", "payment", {"amount": "100", "payment_method": "cash"},
                           on=last.last_day))
    c = posted_number(post(client, app, "GD-TJ01", "rebate", {"amount": "8"}, on=this.first_day))
    url = f"/accounts/{acc(app, 'GD-TJ01')}/ledger"
    assert linked(client.get(url, headers=EN)) == {c}  # this month by default
    assert balances(client.get(url, headers=EN)) == ["¥188.00", "¥180.00", "¥180.00"]  # 288 - 100, - 8
    assert linked(client.get(f"{url}?month={last}", headers=EN)) == {a, b}
    resp = client.get(f"{url}?month={last}&kind=payment", headers=EN)
    assert linked(resp) == {b}
    assert balances(resp) == ["¥0.00", "¥188.00", "¥188.00"]  # the account's balance, all kinds
    assert linked(client.get(f"{url}?start={last.last_day}&end={this.first_day}", headers=EN)) == {b, c}
    resp = client.get(f"{url}?start={last.first_day}&end={this.last_day}&format=csv", headers=EN)
    rows = csv_rows(resp)
    assert resp.headers["Content-Disposition"] == (
        f'attachment; filename="ledger-GD-TJ01-{last.first_day}-{this.last_day}.csv"')
    assert [r[1] for r in rows[1:]] == ["", a, b, c, ""]
    assert [r[6] for r in rows[1:]] == ["0.00", "288.00", "188.00", "180.00", "180.00"]
    assert rows[2][4] == "288.00" and rows[3][5] == "100.00"
    assert client.get(f"{url}?month=2026-1", headers=EN).status_code == 400
    assert client.get(f"{url}?start=yesterday", headers=EN).status_code == 400


def test_ledger_pages_of_fifty(app, login):
    client = login("dist.bj")
    for i in range(52):
        posted_number(post(client, app, "DL-BJ002", "payment", {"amount": f"{i + 1}", "payment_method": "cash"}))
    url = f"/accounts/{acc(app, 'DL-BJ002')}/ledger"
    first = client.get(url, headers=EN)
    assert "Page 1 of 2" in page_text(first) and "Closing balance" not in page_text(first)
    second = client.get(f"{url}?page=2", headers=EN)
    assert "Closing balance" in page_text(second) and "-¥1,378.00" in page_text(second)  # 1 + ... + 52


# --- ageing --------------------------------------------------------------------------------------

def test_ageing_by_region_and_scope(app, login):
    finance = login("finance")
    on = today(app)
    old = on - timedelta(days=45)  # nothing is closed in this database: any month is open
    posted_number(post(finance, app, "GD-BJ01", "shipment", lines(app, ("P-W550", "10", "")), on=old))
    posted_number(post(finance, app, "GD-BJ01", "shipment", lines(app, ("P-W550", "5", ""))))
    posted_number(post(finance, app, "GD-SH01", "opening", {"amount": "1000", "direction": "debit"}))
    posted_number(post(finance, app, "GD-GZ01", "payment", {"amount": "50", "payment_method": "cash"}))
    resp = finance.get("/ageing", headers=EN)
    assert resp.status_code == 200
    text = page_text(resp)
    assert "GD-BJ01" in text and "GD-SH01" in text and "GD-GZ01" in text
    assert "¥288.00" in text and "¥144.00" in text and "¥432.00" in text  # 31-60, 0-30, total
    assert "Total 华北区 › 北京" in text
    rows = xlsx_rows(finance.get("/ageing?format=xlsx", headers=EN))
    assert rows[0][:8] == ["Region", "Code", "Name", "0-30 days (¥)", "31-60 days (¥)", "61-90 days (¥)",
                           ">90 days (¥)", "Total (¥)"]
    bj = next(r for r in rows if r[1] == "GD-BJ01")
    assert [float(x) for x in bj[3:9]] == [144, 288, 0, 0, 432, 288]  # overdue: past 30 days' terms
    gz = next(r for r in rows if r[1] == "GD-GZ01")
    assert float(gz[7]) == 0 and float(gz[9]) == 50  # a prepayment
    assert rows[-1][0] == "All regions" and float(rows[-1][7]) == 1432

    text = page_text(login("sup.north").get("/ageing", headers=EN))
    assert "GD-BJ01" in text and "GD-SH01" not in text and "GD-GZ01" not in text
    text = page_text(finance.get(f"/ageing?region={object_id(app, 'reg', 'EAST')}", headers=EN))
    assert "GD-SH01" in text and "GD-BJ01" not in text
    text = page_text(finance.get(f"/ageing?as_of={(old - timedelta(days=1)).isoformat()}", headers=EN))
    assert "GD-BJ01" not in text and "Nothing outstanding." in text
    assert login("dist.bj").get("/ageing", headers=EN).status_code == 403


# --- who sees what -------------------------------------------------------------------------------

def test_access_to_ledgers_statements_and_documents(app, login):
    finance = login("finance")
    sh = posted_number(post(finance, app, "GD-SH01", "payment", {"amount": "1", "payment_method": "cash"}))
    bj = posted_number(post(finance, app, "GD-BJ01", "payment", {"amount": "2", "payment_method": "cash"}))
    dist = login("dist.bj")
    for url in (f"/accounts/{acc(app, 'GD-SH01')}/ledger", f"/accounts/{acc(app, 'GD-SH01')}/statement",
                f"/accounts/{acc(app, 'GD-SH01')}/ledger?format=csv", f"/documents/{sh}",
                new_url(app, "DL-SH001", "shipment")):
        resp = dist.get(url, headers=EN)
        assert resp.status_code == 404, url
        assert "GD-SH01" not in page_text(resp) and "上海沪联" not in page_text(resp)
    assert dist.post_form(f"/documents/{sh}/reverse", {"reason": "x", "date": today(app).isoformat()},
                          headers=EN).status_code == 404
    assert dist.get(f"/documents/{bj}", headers=EN).status_code == 200  # its own account's

    sup = login("sup.north")
    assert sup.get(f"/accounts/{acc(app, 'GD-BJ01')}/ledger", headers=EN).status_code == 200
    assert sup.get(f"/accounts/{acc(app, 'DL-TJ001')}/statement", headers=EN).status_code == 200
    assert sup.get(f"/documents/{bj}", headers=EN).status_code == 200
    assert sup.get(f"/documents/{sh}", headers=EN).status_code == 404
    ledger = page_text(sup.get(f"/accounts/{acc(app, 'GD-BJ01')}/ledger", headers=EN))
    assert "+ Shipment" not in ledger  # no buttons to post
    assert sup.get(new_url(app, "GD-BJ01", "shipment"), headers=EN).status_code == 403
    assert post(sup, app, "DL-BJ001", "payment", {"amount": "1", "payment_method": "cash"}).status_code == 403
    assert sup.get("/periods", headers=EN).status_code == 403

    rep = login("rep.beijing")
    assert rep.get(f"/accounts/{acc(app, 'DL-BJ003')}/ledger", headers=EN).status_code == 200
    assert rep.get(f"/accounts/{acc(app, 'GD-TJ01')}/ledger", headers=EN).status_code == 404
    merch = login("merch.tianjin")
    assert merch.get(f"/accounts/{acc(app, 'GD-TJ01')}/statement", headers=EN).status_code == 200
    assert merch.get(f"/accounts/{acc(app, 'GD-BJ01')}/statement", headers=EN).status_code == 404
    assert merch.get(f"/documents/{bj}", headers=EN).status_code == 404
    assert len(documents(app)) == 2


def test_menu_links_by_role(shared_demo_app):
    app = shared_demo_app
    for who, ageing, periods in (("finance", True, True), ("admin", True, True), ("sup.north", True, False),
                                 ("rep.beijing", True, False), ("dist.bj", False, False)):
        html = app.test_client().login(who).get("/dashboard", headers=EN).get_data(as_text=True)
        assert ('href="/ageing"' in html) is ageing, who
        assert ('href="/periods"' in html) is periods, who


def test_pages_in_chinese(app, login):
    client = login("finance")
    number = posted_number(post(client, app, "GD-BJ01", "shipment", lines(app, ("P-W550", "1", ""))))
    text = page_text(client.get(f"/accounts/{acc(app, 'GD-BJ01')}/ledger", headers=ZH))
    for word in ("台帐", "期初余额", "期末余额", "借方", "贷方", "余额", "发货单", "信用额度", "可用额度"):
        assert word in text, word
    text = page_text(client.get(f"/documents/{number}", headers=ZH))
    assert "红冲原因" in text and "产品明细" in text
    text = page_text(client.get(f"/accounts/{acc(app, 'GD-BJ01')}/statement", headers=ZH))
    assert "对账单" in text and "未结账" in text and "按单据类型合计" in text
    assert "账龄" in page_text(client.get("/ageing", headers=ZH))
    assert "月结" in page_text(client.get("/periods", headers=ZH))
