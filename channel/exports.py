"""Export any list to CSV or Excel: columns are (header, getter) pairs. Amounts are Decimal
(never float): Excel gets them as numbers shown with two decimals."""
import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal

from flask import Response, abort
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
MAX_ROWS = 100_000
MONEY_FORMAT = "#,##0.00"


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, (int, Decimal, date, datetime)):
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.replace(tzinfo=None)
        return value
    text = str(value)
    # A cell starting with = + - @ would run as a formula in a spreadsheet: keep it text.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


def export_response(fmt, filename, columns, rows, sheet_title="Sheet1"):
    if fmt not in FORMATS:
        abort(404)
    headers = [str(h) for h, _ in columns]
    body = ([_cell(get(row)) for _, get in columns] for row in rows)
    if fmt == "csv":
        out = io.StringIO()
        out.write("\ufeff")  # so that Excel opens Chinese CSV as UTF-8
        writer = csv.writer(out)
        writer.writerow(headers)
        for n, line in enumerate(body):
            if n >= MAX_ROWS:
                break
            writer.writerow(line)
        data = out.getvalue().encode("utf-8")
    else:
        wb = Workbook(write_only=True)
        _write_sheet(wb, sheet_title, headers, body)
        data = _workbook_bytes(wb)
    return Response(
        data,
        mimetype=FORMATS[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'},
    )


def workbook_response(filename, sheets):
    """One Excel file of several sheets: sheets are (title, columns, rows) like export_response's."""
    wb = Workbook(write_only=True)
    for title, columns, rows in sheets:
        _write_sheet(wb, title, [str(h) for h, _ in columns],
                     ([_cell(get(row)) for _, get in columns] for row in rows))
    return Response(_workbook_bytes(wb), mimetype=FORMATS["xlsx"],
                    headers={"Content-Disposition": f'attachment; filename="{filename}.xlsx"'})


def _write_sheet(wb, title, headers, body):
    # Sheet names: at most 31 characters, none of []:*?/\
    ws = wb.create_sheet(title=re.sub(r"[\[\]:*?/\\]", " ", str(title))[:31] or "Sheet1")
    for i, h in enumerate(headers, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(12, min(40, len(h) * 2 + 4))
    ws.append(headers)
    for n, line in enumerate(body):
        if n >= MAX_ROWS:
            break
        ws.append([_money_cell(ws, v) if isinstance(v, Decimal) else v for v in line])


def _money_cell(ws, value):
    cell = WriteOnlyCell(ws, value=value)
    cell.number_format = MONEY_FORMAT
    return cell


def _workbook_bytes(wb) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
