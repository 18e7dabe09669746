"""Export any list to CSV or Excel: columns are (header, getter) pairs."""
import csv
import io
from datetime import date, datetime
from decimal import Decimal

from flask import Response, abort
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
MAX_ROWS = 100_000


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
        ws = wb.create_sheet(title=sheet_title[:31])
        for i, h in enumerate(headers, start=1):
            ws.column_dimensions[get_column_letter(i)].width = max(12, min(40, len(h) * 2 + 4))
        ws.append(headers)
        for n, line in enumerate(body):
            if n >= MAX_ROWS:
                break
            ws.append(line)
        buf = io.BytesIO()
        wb.save(buf)
        data = buf.getvalue()
    return Response(
        data,
        mimetype=FORMATS[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'},
    )
