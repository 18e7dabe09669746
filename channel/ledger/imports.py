"""Importing shipments or payments from a CSV or Excel file (e.g. an ERP export).

The whole file is checked first; every bad row is reported with its line number and reason and
then nothing is posted. A good file posts all its documents in one transaction, as one batch
(post_documents: the ledger's rules, at a cost per file rather than per document). Every row
carries the ERP's external reference, so uploading the same file again posts nothing new.
Shipment rows with the same external reference are the lines of one shipment.
"""
import csv
import io
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from ..auth.permissions import can
from ..core.money import MoneyError, parse_amount
from ..extensions import db
from ..masterdata.models import Account, Product
from .messages import ledger_message
from .models import PAYMENT_METHODS
from .services import DocumentInput, LedgerError, LineInput, post_documents

COLUMNS = {
    "shipment": ["external_ref", "date", "account", "product", "quantity", "unit_price", "memo"],
    "payment": ["external_ref", "date", "account", "amount", "method", "bank_ref", "memo"],
}
REQUIRED = {
    "shipment": {"external_ref", "date", "account", "product", "quantity"},
    "payment": {"external_ref", "date", "account", "amount", "method"},
}
EXAMPLES = {
    "shipment": [["ERP-FH-0001", "2026-11-03", "GD-BJ01", "P-W550", "120", "28.80", "月度补货"],
                 ["ERP-FH-0001", "2026-11-03", "GD-BJ01", "P-GT500", "40", "", ""]],
    "payment": [["ERP-HK-0001", "2026-11-05", "GD-BJ01", "50000.00", "bank_transfer", "BT20261105001", ""]],
}
MAX_ROWS = 20_000


@dataclass
class ImportResult:
    errors: list = field(default_factory=list)  # (line number, message)
    posted: list = field(default_factory=list)  # document numbers
    replayed: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.errors


def template_file(kind: str, fmt: str) -> bytes:
    rows = [COLUMNS[kind], *EXAMPLES[kind]]
    if fmt == "csv":
        out = io.StringIO()
        out.write("\ufeff")
        csv.writer(out).writerows(rows)
        return out.getvalue().encode("utf-8")
    wb = Workbook()
    ws = wb.active
    ws.title = kind
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def read_rows(filename: str, data: bytes) -> list[list[str]]:
    """Rows of text cells. Excel files by content (a zip), CSV as UTF-8 or, as Chinese Excel
    saves it, GB18030."""
    if data[:4] == b"PK\x03\x04":
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:
            raise ValueError(_("The file is not a readable Excel workbook.")) from None
        rows = []
        for row in wb.worksheets[0].iter_rows(values_only=True):
            rows.append([_cell_text(v) for v in row])
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValueError(_("The file is neither an Excel workbook nor a CSV file in UTF-8 or GB18030."))
    if "\x00" in text:
        raise ValueError(_("The file is neither an Excel workbook nor a CSV file in UTF-8 or GB18030."))
    return [row for row in csv.reader(io.StringIO(text))][: MAX_ROWS + 2]


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        # Excel stores every number as a float: keep whole numbers whole, refuse to guess decimals.
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, date):
        return value.isoformat()[:10]
    return str(value).strip()


def check_and_post(kind: str, rows: list[list[str]], *, user) -> ImportResult:
    """Validate every row; if all are good, post every document (the caller commits, or rolls
    back when `errors` is not empty)."""
    result = ImportResult()
    if not rows:
        result.errors.append((1, _("The file is empty.")))
        return result
    header = [h.strip().lower() for h in rows[0]]
    missing = REQUIRED[kind] - set(header)
    if missing:
        result.errors.append((1, _("Missing columns: %(names)s. Download the template to see the layout.",
                                   names=", ".join(sorted(missing)))))
        return result
    if len(rows) - 1 > MAX_ROWS:
        result.errors.append((1, _("At most %(n)s rows per file.", n=MAX_ROWS)))
        return result
    col = {name: header.index(name) for name in header if name in COLUMNS[kind]}
    accounts, products = {}, {}
    documents = {}  # external_ref -> {"lines": [...], "first": line number, ...}
    for n, raw in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in raw):
            continue
        cell = {name: (raw[i].strip() if i < len(raw) else "") for name, i in col.items()}
        problems = []
        ref = cell.get("external_ref", "")
        if not ref or len(ref) > 64:
            problems.append(_("external_ref is required (at most 64 characters)."))
        try:
            on = date.fromisoformat(cell.get("date", ""))
        except ValueError:
            on = None
            problems.append(_("date must be YYYY-MM-DD."))
        code = cell.get("account", "")
        if code not in accounts:
            account = db.session.execute(select(Account).where(Account.code == code)).scalar_one_or_none()
            accounts[code] = account if account is not None and can("post_documents", account, user=user) else None
        account = accounts[code]
        if account is None:
            problems.append(_("unknown account %(code)s, or not one whose ledger you keep.", code=code[:40]))
        doc = documents.get(ref)
        if kind == "shipment":
            pcode = cell.get("product", "")
            if pcode not in products:
                products[pcode] = db.session.execute(select(Product).where(Product.code == pcode)).scalar_one_or_none()
            product = products[pcode]
            if product is None:
                problems.append(_("unknown product %(code)s.", code=pcode[:40]))
            quantity = cell.get("quantity", "")
            if not quantity.isdigit() or int(quantity) <= 0:
                problems.append(_("quantity must be a whole number above zero."))
            price = None
            if cell.get("unit_price"):
                try:
                    price = parse_amount(cell["unit_price"])
                except MoneyError:
                    problems.append(_("unit_price must be an amount such as 28.80."))
            elif product is not None:
                price = product.list_price_fen
            if doc is not None and (doc["on"], doc["account"]) != (on, account):
                problems.append(_("rows of %(ref)s (line %(first)s) have another date or account.",
                                  ref=ref, first=doc["first"]))
            if not problems:
                doc = documents.setdefault(ref, {"first": n, "on": on, "account": account, "lines": [],
                                                 "memo": cell.get("memo") or None, "rows": []})
                doc["lines"].append(LineInput(product, int(quantity), price))
                doc["rows"].append(n)
        else:
            amount = None
            try:
                amount = parse_amount(cell.get("amount", ""), allow_zero=False)
            except MoneyError:
                problems.append(_("amount must be an amount above zero such as 50000.00 (no commas)."))
            method = cell.get("method", "")
            if method not in PAYMENT_METHODS:
                problems.append(_("method must be one of: %(names)s.", names=", ".join(PAYMENT_METHODS)))
            if doc is not None:
                problems.append(_("external_ref %(ref)s appears twice (line %(first)s).", ref=ref, first=doc["first"]))
            if not problems:
                documents[ref] = {"first": n, "on": on, "account": account, "amount": amount, "method": method,
                                  "bank_ref": cell.get("bank_ref") or None, "memo": cell.get("memo") or None,
                                  "rows": [n]}
        for problem in problems:
            result.errors.append((n, problem))
    if result.errors:
        return result
    if not documents:
        result.errors.append((2, _("The file has no rows.")))
        return result
    inputs = [_document_input(kind, ref, doc) for ref, doc in documents.items()]
    try:
        posted = post_documents(inputs, by=user)
    except LedgerError as err:
        firsts = [doc["first"] for doc in documents.values()]
        result.errors.extend((firsts[refused.index], ledger_message(refused)) for refused in err.refused)
        return result
    for one in posted:
        (result.posted if one.created else result.replayed).append(one.document.number)
    return result


def _document_input(kind, ref, doc) -> DocumentInput:
    if kind == "shipment":
        return DocumentInput(kind="shipment", account=doc["account"], on=doc["on"], lines=doc["lines"],
                             external_ref=ref, memo=doc["memo"])
    return DocumentInput(kind="payment", account=doc["account"], on=doc["on"], amount_fen=doc["amount"],
                         payment_method=doc["method"], bank_ref=doc["bank_ref"], external_ref=ref,
                         memo=doc["memo"])
