"""Importing a month's budgets from an Excel workbook (.xlsx): columns region code, category
(its code, or its English or Chinese name), amount in yuan.

Reading (read_workbook), checking (check_rows: pure, given the regions and category names) and
saving (save) are apart. The whole file is checked first; every bad row is reported with its
row number and reason, and nothing is saved unless every row is good. A row whose amount is
empty is skipped (that budget stays as it is; budgets are cleared on the budgets page).
"""
import io
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import force_locale
from flask_babel import gettext as _
from openpyxl import Workbook
from sqlalchemy import select

from ..core.money import MoneyError, fen_to_decimal, parse_amount
from ..core.periods import Month
from ..extensions import db
from ..i18n import LABELS, label
from ..ledger.imports import read_rows
from ..masterdata.models import Region
from .models import BUDGET_CATEGORIES
from .services import budget_regions, budgets_of, set_budgets

MAX_BYTES = 2 * 1024 * 1024  # a budget file is a few kilobytes
MAX_UNPACKED_BYTES = 20 * 1024 * 1024  # an .xlsx is a zip: refuse one that unpacks to much more
MAX_ROWS = 2000
MAX_BUDGET_FEN = 10**12  # ¥10,000,000,000.00: anything above is a typing error

COLUMNS = ("region", "category", "amount")
HEADER_NAMES = {
    "region": ("region", "region code", "region_code", "区域", "区域代码", "大区", "大区代码"),
    "category": ("category", "类别", "费用类别", "科目", "费用科目"),
    "amount": ("amount", "amount (yuan)", "amount (¥)", "budget", "金额", "金额（元）", "金额(元)", "预算",
               "预算金额", "预算（元）", "预算(元)"),
}
# The names people in the business use, whatever the catalog says; the catalog's own labels in
# every language are accepted too.
CATEGORY_ALIASES = {
    "total": ("合计", "总计", "总额", "总预算", "全部"),
    "travel": ("差旅", "差旅费"),
    "accommodation": ("住宿", "住宿费"),
    "local_transport": ("交通", "交通费", "市内交通", "市内交通费", "transport"),
    "meal": ("餐补", "餐费补贴", "伙食补助", "meal"),
    "supplement": ("增补",),
    "misc": ("杂费", "miscellaneous"),
    "entertainment": ("招待", "招待费", "业务招待", "业务招待费", "entertainment"),
    "other": ("其他", "其它"),
}


class ImportRefused(ValueError):
    """The file as a whole cannot be read (not an .xlsx, too big, too many rows, no header)."""


@dataclass(frozen=True)
class BudgetRow:
    line: int  # the row number in the sheet (the header is row 1)
    region_code: str
    category: str
    amount_fen: int


@dataclass
class CheckResult:
    rows: list = field(default_factory=list)  # [BudgetRow]
    errors: list = field(default_factory=list)  # [(row number, message)]

    @property
    def ok(self):
        return not self.errors


def _norm(text) -> str:
    return " ".join(str(text or "").split()).casefold()


# --- reading ----------------------------------------------------------------------------------

def _mb(size: int) -> str:
    return format((Decimal(size) / (1024 * 1024)).quantize(Decimal("0.1")).normalize(), "f")


def read_workbook(data: bytes) -> list[list[str]]:
    """The first sheet's rows as text cells, or ImportRefused saying why the file is refused."""
    if not data:
        raise ImportRefused(_("The file is empty."))
    if len(data) > MAX_BYTES:
        raise ImportRefused(_("The file is too large (at most %(mb)s MB).", mb=_mb(MAX_BYTES)))
    if data[:4] != b"PK\x03\x04":
        raise ImportRefused(_("The file is not an Excel workbook (.xlsx). Save it as .xlsx and upload it again."))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise ImportRefused(_("The file is not a readable Excel workbook.")) from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise ImportRefused(_("The file is too large (at most %(mb)s MB).", mb=_mb(MAX_BYTES)))
    try:
        rows = read_rows("budgets.xlsx", data)
    except ValueError as err:
        raise ImportRefused(str(err)) from None
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()
    if len(rows) - 1 > MAX_ROWS:
        raise ImportRefused(_("At most %(n)s rows per file.", n=MAX_ROWS))
    if not rows:
        raise ImportRefused(_("The file is empty."))
    return rows


# --- checking ---------------------------------------------------------------------------------

def category_names() -> dict[str, str]:
    """{normalised name: category code}: the codes, the labels in every language, the aliases."""
    from flask import current_app

    names = {}
    for code in BUDGET_CATEGORIES:
        names[_norm(code)] = code
        lazy = LABELS["expense_category"][code]
        names[_norm(lazy._args[0])] = code  # the English text
        for alias in CATEGORY_ALIASES.get(code, ()):
            names[_norm(alias)] = code
    for locale in current_app.config["LANGUAGES"]:
        with force_locale(locale):
            for code in BUDGET_CATEGORIES:
                names.setdefault(_norm(str(LABELS["expense_category"][code])), code)
    return names


def region_index() -> dict[str, tuple[str, bool]]:
    """{normalised region code: (code, is a top region)}."""
    return {_norm(code): (code, parent is None) for code, parent in
            db.session.execute(select(Region.code, Region.parent_id)).all()}


def check_rows(rows: list[list[str]], *, regions: dict, categories: dict) -> CheckResult:
    """Every row checked; `regions` and `categories` as region_index() and category_names()."""
    result = CheckResult()
    header = [_norm(h) for h in rows[0]] if rows else []
    col = {}
    for name, accepted in HEADER_NAMES.items():
        for i, h in enumerate(header):
            if h in {_norm(a) for a in accepted}:
                col[name] = i
                break
    missing = [name for name in COLUMNS if name not in col]
    if missing:
        result.errors.append((1, _("The first row must name the columns region, category and amount "
                                   "(missing: %(names)s). Download the template to see the layout.",
                                   names=", ".join(missing))))
        return result
    seen = {}
    for n, raw in enumerate(rows[1:], start=2):
        cell = {name: (raw[i].strip() if i < len(raw) else "") for name, i in col.items()}
        if not any(cell.values()):
            continue
        if not cell["amount"]:
            continue  # an empty amount leaves that budget as it is
        problems = []
        region = regions.get(_norm(cell["region"]))
        if region is None:
            problems.append(_("unknown region %(code)s.", code=cell["region"][:40] or "—"))
        elif not region[1]:
            problems.append(_("%(code)s is not a top region: budgets are set for the top regions.",
                              code=region[0]))
        category = categories.get(_norm(cell["category"]))
        if category is None:
            problems.append(_("unknown category %(name)s.", name=cell["category"][:40] or "—"))
        amount = None
        try:
            amount = parse_amount(cell["amount"])
            if amount > MAX_BUDGET_FEN:
                raise MoneyError("range", "too large")
        except MoneyError:
            problems.append(_("bad amount %(value)s: enter the budget in yuan, such as 20000.00 (not "
                              "negative, at most two decimals, no commas).", value=cell["amount"][:40]))
        if region is not None and category is not None:
            key = (region[0], category)
            if key in seen:
                problems.append(_("duplicate row: %(region)s %(category)s is on row %(first)s too.",
                                  region=region[0], category=label(category, "expense_category"),
                                  first=seen[key]))
            else:
                seen[key] = n
        if problems:
            result.errors.extend((n, p) for p in problems)
        else:
            result.rows.append(BudgetRow(n, region[0], category, amount))
    if not result.errors and not result.rows:
        result.errors.append((2, _("The file has no rows with an amount.")))
    return result


def read_upload(stream) -> bytes:
    """At most one byte more than the limit: enough to refuse an oversized file."""
    return stream.read(MAX_BYTES + 1)


def check_file(data: bytes) -> CheckResult:
    """read_workbook then check_rows (ImportRefused when the file cannot be read at all)."""
    return check_rows(read_workbook(data), regions=region_index(), categories=category_names())


# --- saving -----------------------------------------------------------------------------------

def save(month: Month, rows: list[BudgetRow], *, by) -> int:
    """Sets the budgets of good rows (one audited change per region); how many changed."""
    by_region = {}
    for row in rows:
        by_region.setdefault(row.region_code, {})[row.category] = row.amount_fen
    regions = {r.code: r for r in db.session.execute(
        select(Region).where(Region.code.in_(list(by_region)))).scalars()}
    return sum(set_budgets(month, regions[code], amounts, by=by) for code, amounts in by_region.items())


# --- the template -----------------------------------------------------------------------------

def template_file(month: Month) -> bytes:
    """A workbook with a row per top region and category, the month's budgets filled in, and a
    second sheet naming the categories in both languages."""
    budgets = budgets_of(month)
    wb = Workbook()
    ws = wb.active
    ws.title = "budgets"
    ws.append(list(COLUMNS))
    for region in budget_regions():
        for category in BUDGET_CATEGORIES:
            fen = budgets.get((region.id, category))
            ws.append([region.code, category, fen_to_decimal(fen) if fen is not None else None])
            ws.cell(ws.max_row, 3).number_format = "0.00"
    for column, width in zip("ABC", (14, 18, 16)):
        ws.column_dimensions[column].width = width
    names = wb.create_sheet("categories")
    names.append(["category", "English", "中文"])
    for code in BUDGET_CATEGORIES:
        english = LABELS["expense_category"][code]._args[0]
        with force_locale("zh_CN"):
            chinese = str(LABELS["expense_category"][code])
        if chinese == english:  # not in the catalog yet: the name the business uses
            chinese = CATEGORY_ALIASES[code][0]
        names.append([code, english, chinese])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
