"""Importing shipments and payments from CSV and Excel through the page."""
import io
from datetime import date

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from channel.extensions import db
from channel.ledger.models import Document, DocumentLine

EN = {"Accept-Language": "en"}
ON = date.today().replace(day=1).isoformat()


def _csv(rows, encoding="utf-8"):
    return io.BytesIO(("\n".join(",".join(r) for r in rows) + "\n").encode(encoding))


def _xlsx(rows):
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return buf


def _upload(client, kind, data, name="f.csv"):
    return client.post_form(f"/imports/{kind}", {f"{kind}-file": (data, name)},
                            headers=EN, content_type="multipart/form-data")


def _count(app):
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(Document)).scalar_one()


SHIPMENTS = [
    ["external_ref", "date", "account", "product", "quantity", "unit_price", "memo"],
    ["ERP-1", ON, "GD-BJ01", "P-W550", "100", "28.80", "首批"],
    ["ERP-1", ON, "GD-BJ01", "P-GT500", "10", "", ""],
    ["ERP-2", ON, "DL-ZJ003", "P-CL330", "5", "50.00", ""],
]


def test_templates_download(login):
    finance = login("finance")
    csv_text = finance.get("/imports/template/shipment.csv").get_data().decode("utf-8-sig")
    assert csv_text.splitlines()[0] == "external_ref,date,account,product,quantity,unit_price,memo"
    book = load_workbook(io.BytesIO(finance.get("/imports/template/payment.xlsx").data))
    assert [c.value for c in book.active[1]][:5] == ["external_ref", "date", "account", "amount", "method"]
    assert finance.get("/imports/template/gift.csv").status_code == 404


def test_good_file_posts_everything_once(app, login):
    finance = login("finance")
    resp = _upload(finance, "shipment", _csv(SHIPMENTS))
    assert resp.status_code == 302, resp.get_data(as_text=True)[-2000:]
    with app.app_context():
        docs = db.session.execute(select(Document).order_by(Document.id)).scalars().all()
        assert [(d.external_ref, d.amount_fen, len(d.lines)) for d in docs] == [
            ("ERP-1", 100 * 2880 + 10 * 4500, 2), ("ERP-2", 25000, 1)]
    page = finance.get("/imports/", headers=EN).get_data(as_text=True)
    assert "2 documents posted, 0 already present" in page
    again = _upload(finance, "shipment", _csv(SHIPMENTS))
    assert again.status_code == 302 and _count(app) == 2
    assert "0 documents posted, 2 already present" in finance.get("/imports/", headers=EN).get_data(as_text=True)


def test_bad_rows_are_all_listed_and_nothing_is_posted(app, login):
    rows = SHIPMENTS + [
        ["ERP-3", "2026-02-30", "GD-BJ01", "P-W550", "1", "", ""],
        ["ERP-4", ON, "NOPE", "P-W550", "1", "", ""],
        ["ERP-5", ON, "GD-BJ01", "P-NOPE", "0", "1.005", ""],
        ["", ON, "GD-BJ01", "P-W550", "1", "", ""],
    ]
    resp = _upload(login("finance"), "shipment", _csv(rows))
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    for text in ("date must be YYYY-MM-DD", "unknown account NOPE", "unknown product P-NOPE",
                 "quantity must be a whole number", "unit_price must be an amount", "external_ref is required"):
        assert text in page, text
    for line in ("<td data-label=\"Line\">5</td>", "<td data-label=\"Line\">6</td>",
                 "<td data-label=\"Line\">7</td>", "<td data-label=\"Line\">8</td>"):
        assert line in page
    assert "Nothing was posted" in page and _count(app) == 0


def test_credit_limit_in_the_middle_posts_nothing(app, login):
    rows = [SHIPMENTS[0], ["ERP-9", ON, "DL-BJ005", "P-EN250", "10", "", ""],
            ["ERP-10", ON, "DL-BJ005", "P-EN250", "250", "", ""]]  # ¥1,200 then ¥30,000: over ¥30,000
    resp = _upload(login("dist.bj"), "shipment", _csv(rows))
    assert resp.status_code == 422 and "credit limit" in resp.get_data(as_text=True)
    assert _count(app) == 0


def test_payments_from_excel_and_gb18030_csv(app, login):
    finance = login("finance")
    rows = [["external_ref", "date", "account", "amount", "method", "bank_ref", "memo"],
            ["HK-A", ON, "GD-TJ01", "50000.00", "acceptance_bill", "CDHP001", "承兑汇票"],
            ["HK-B", ON, "GD-SH01", "1234.5", "bank_transfer", "", ""]]
    assert _upload(finance, "payment", _xlsx(rows), "pay.xlsx").status_code == 302
    gbk = [rows[0], ["HK-C", ON, "GD-GZ01", "100.00", "cash", "", "现金回款"]]
    assert _upload(finance, "payment", _csv(gbk, "gb18030"), "pay.csv").status_code == 302
    with app.app_context():
        got = dict(db.session.execute(select(Document.external_ref, Document.amount_fen)).all())
        memo = db.session.execute(select(Document.memo).where(Document.external_ref == "HK-C")).scalar_one()
    assert got == {"HK-A": 5000000, "HK-B": 123450, "HK-C": 10000} and memo == "现金回款"
    dup = [rows[0], rows[1], rows[1]]
    assert _upload(finance, "payment", _csv(dup)).status_code == 422


def test_not_a_table_and_access(app, login, client):
    finance = login("finance")
    resp = _upload(finance, "payment", io.BytesIO(b"\x00\xff\xfe garbage"), "x.csv")
    assert resp.status_code == 422 and "neither an Excel workbook nor a CSV" in resp.get_data(as_text=True)
    missing = _upload(finance, "payment", _csv([["external_ref", "date"]]))
    assert missing.status_code == 422 and "Missing columns" in missing.get_data(as_text=True)
    assert login("sup.north").get("/imports/").status_code == 403
    assert client.get("/imports/").status_code == 302
    # a distributor may import only into its dealers' ledgers
    resp = _upload(login("dist.bj"), "shipment", _csv(SHIPMENTS))
    assert resp.status_code == 422 and "not one whose ledger you keep" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(DocumentLine)).scalar_one() == 0
