"""The monthly expense summary against a case worked out by hand, on the page and in Excel.

March 2026. Budgets: 华北 NORTH ¥2,000 in total, travel ¥800, meal ¥300; 华东 EAST ¥1,000 in
total; 华南 SOUTH none.

    claim  who             region lines                                  state
    A      rep.beijing     NORTH  travel 300, meal 150 (cut to 100)      paid 400
    B      merch.tianjin   NORTH  travel 600, accommodation 400          approved 1,000 (travel over budget: override)
    C      rep.beijing     NORTH  local transport 80                     submitted
    D      merch.tianjin   NORTH  misc 50                                draft (not counted)
    E      rep.shanghai    EAST   entertainment 500                      paid 500
    F      promo.zhejiang  EAST   meal 90                                submitted
    G      rep.shanghai    EAST   travel 200                             returned (a draft: not counted)
    H      rep.guangdong   SOUTH  travel 120                             approved 120

    region  budget  approved  paid  pending  left  use
    NORTH   2,000   1,400     400   80       600   70.0%
    EAST    1,000   500       500   90       500   50.0%
    SOUTH   —       120       0     0        —     —
    total   3,000   2,020     900   170      980   67.3%
"""
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from channel.expenses import services as es
from channel.extensions import db
from tests.helpers import EN, ZH, object_id, page_text

from channel.masterdata.models import Region
from tests.ledger import user, written, yuan

from . import MONTH, act, claim

D1, D2 = date(2026, 3, 10), date(2026, 3, 11)
PAID_ON = date(2026, 3, 25)


def _set(app, month, code, amounts):
    with app.app_context():
        region = db.session.execute(db.select(Region).where(Region.code == code)).scalar_one()
        written(es.set_budgets, month, region, {k: yuan(v) for k, v in amounts.items()}, by=user("finance"))
        db.session.remove()


def _case(app):
    _set(app, MONTH, "NORTH", {"total": "2000.00", "travel": "800.00", "meal": "300.00"})
    _set(app, MONTH, "EAST", {"total": "1000.00"})
    with app.app_context():
        a = claim("rep.beijing", [(D1, "travel", "300.00"), (D2, "meal", "150.00")], submit=True)
        act(es.approve, a, "sup.north", cuts={a.lines[1].id: (10000, "餐补每天100元")})
        act(es.pay, a, "finance", paid_on=PAID_ON, reference="PAY-A")
        b = claim("merch.tianjin", [(D1, "travel", "600.00"), (D2, "accommodation", "400.00", 2, 2)], submit=True)
        act(es.approve, b, "sup.north", override_reason="天津展会，差旅预算已报批")
        claim("rep.beijing", [(D1, "local_transport", "80.00")], submit=True)
        claim("merch.tianjin", [(D1, "misc", "50.00")])
        e = claim("rep.shanghai", [(D1, "entertainment", "500.00")], submit=True)
        act(es.approve, e, "sup.east")
        act(es.pay, e, "finance", paid_on=PAID_ON, reference="PAY-E")
        claim("promo.zhejiang", [(D1, "meal", "90.00")], submit=True)
        g = claim("rep.shanghai", [(D1, "travel", "200.00")], submit=True)
        act(es.reject, g, "sup.east", comment="缺少发票")
        h = claim("rep.guangdong", [(D1, "travel", "120.00")], submit=True)
        act(es.approve, h, "sup.south")
        assert [c.status for c in (a, b, e, g, h)] == ["paid", "approved", "paid", "draft", "approved"]
        db.session.remove()


#            budget      approved    paid      pending   left        use
REGIONS = {
    "NORTH": ("¥2,000.00", "¥1,400.00", "¥400.00", "¥80.00", "¥600.00", "70.0%"),
    "EAST": ("¥1,000.00", "¥500.00", "¥500.00", "¥90.00", "¥500.00", "50.0%"),
    "SOUTH": ("—", "¥120.00", "¥0.00", "¥0.00", "—", "—"),
    "total": ("¥3,000.00", "¥2,020.00", "¥900.00", "¥170.00", "¥980.00", "67.3%"),
}
CATEGORIES = {
    ("NORTH", "travel"): ("¥800.00", "¥900.00", "¥300.00", "¥0.00", "-¥100.00", "112.5%"),
    ("NORTH", "accommodation"): ("—", "¥400.00", "¥0.00", "¥0.00", "—", "—"),
    ("NORTH", "local_transport"): ("—", "¥0.00", "¥0.00", "¥80.00", "—", "—"),
    ("NORTH", "meal"): ("¥300.00", "¥100.00", "¥100.00", "¥0.00", "¥200.00", "33.3%"),
    ("EAST", "meal"): ("—", "¥0.00", "¥0.00", "¥90.00", "—", "—"),
    ("EAST", "entertainment"): ("—", "¥500.00", "¥500.00", "¥0.00", "—", "—"),
    ("SOUTH", "travel"): ("—", "¥120.00", "¥0.00", "¥0.00", "—", "—"),
}
#                 region   claims claimed       approved     paid
PEOPLE = {
    "rep.beijing": ("华北区", "2", "¥530.00", "¥400.00", "¥400.00"),
    "merch.tianjin": ("华北区", "1", "¥1,000.00", "¥1,000.00", "¥0.00"),
    "rep.shanghai": ("华东区", "1", "¥500.00", "¥500.00", "¥500.00"),
    "promo.zhejiang": ("华东区", "1", "¥90.00", "¥0.00", "¥0.00"),
    "rep.guangdong": ("华南区", "1", "¥120.00", "¥120.00", "¥0.00"),
}


def _rows(page, table, key):
    """{key attribute(s): (cell texts after the first)} of the table's data rows."""
    body = page[page.index(f'id="{table}"'):]
    body = body[:body.index("</table>")]
    out = {}
    for attrs, cells in re.findall(r"<tr ((?:data-[a-z]+=\"[^\"]*\" ?)+)>(.*?)</tr>", body, re.S):
        values = dict(re.findall(r'data-([a-z]+)="([^"]*)"', attrs))
        texts = [re.sub(r"<[^>]+>", " ", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", cells, re.S)]
        texts = [" ".join(t.split()) for t in texts]
        out[tuple(values[k] for k in key) if len(key) > 1 else values[key[0]]] = tuple(texts[1:])
    return out


def test_the_summary_adds_up_as_worked_out_by_hand(app, login):
    _case(app)
    finance = login("finance")
    resp = finance.get(f"/expenses/summary?month={MONTH}", headers=EN)
    assert resp.status_code == 200
    page = page_text(resp)
    assert _rows(page, "by-region", ["region"]) == REGIONS
    assert _rows(page, "by-category", ["region", "category"]) == CATEGORIES
    people = _rows(page, "by-person", ["user"])
    assert {k: v[1:] for k, v in people.items()} == {k: v[1:] for k, v in PEOPLE.items()}
    assert {k: v[0] for k, v in people.items()} == {k: v[0] for k, v in PEOPLE.items()}
    # Another month is empty; a region filter keeps that region.
    other = page_text(finance.get(f"/expenses/summary?month={MONTH.next()}", headers=EN))
    assert "No claims this month." in other
    east = page_text(finance.get(f"/expenses/summary?month={MONTH}&region={object_id(app, 'reg', 'EAST')}",
                                 headers=EN))
    assert _rows(east, "by-region", ["region"]) == {"EAST": REGIONS["EAST"]}
    assert set(_rows(east, "by-person", ["user"])) == {"rep.shanghai", "promo.zhejiang"}


def test_both_languages_render(app, login):
    _case(app)
    admin = login("admin")
    for headers in (EN, ZH):
        resp = admin.get(f"/expenses/summary?month={MONTH}", headers=headers)
        assert resp.status_code == 200
        page = page_text(resp)
        assert "华北区" in page and "¥1,400.00" in page and "高峰" in page  # rep.beijing's name
    assert 'lang="zh-CN"' in admin.get(f"/expenses/summary?month={MONTH}", headers=ZH).get_data(as_text=True)


def test_a_supervisor_sees_only_their_regions(app, login):
    _case(app)
    sup = login("sup.north")
    page = page_text(sup.get(f"/expenses/summary?month={MONTH}", headers=EN))
    assert _rows(page, "by-region", ["region"]) == {"NORTH": REGIONS["NORTH"]}
    assert set(_rows(page, "by-category", ["region", "category"])) == {k for k in CATEGORIES if k[0] == "NORTH"}
    assert set(_rows(page, "by-person", ["user"])) == {"rep.beijing", "merch.tianjin"}
    assert "华东区" not in page and "宋磊" not in page  # rep.shanghai
    east = object_id(app, "reg", "EAST")
    assert sup.get(f"/expenses/summary?month={MONTH}&region={east}").status_code == 404
    assert sup.get(f"/expenses/summary.xlsx?month={MONTH}&region={east}").status_code == 404
    assert sup.get(f"/expenses/summary?month={MONTH}&region=abc").status_code == 404
    assert sup.get("/expenses/summary?month=2026-13").status_code == 400
    rows = _sheets(sup.get(f"/expenses/summary.xlsx?month={MONTH}"))
    assert [r[0] for r in rows[0][1:]] == ["NORTH", None]  # the region and the total line
    assert {r[0] for r in rows[2][1:]} == {"rep.beijing", "merch.tianjin"}


def _sheets(resp, formats=None):
    """Every sheet's rows; `formats` gets {sheet title: number formats of its numeric cells}."""
    assert resp.status_code == 200
    wb = load_workbook(io.BytesIO(resp.get_data()))
    out = [[list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets]
    if formats is not None:  # of the amounts (the header names them with ¥ or %)
        for ws, rows in zip(wb.worksheets, out):
            money = [i for i, h in enumerate(rows[0]) if "(¥)" in h or "(%)" in h]
            formats[ws.title] = {row[i].number_format for row in ws.iter_rows(min_row=2)
                                 for i in money if row[i].value is not None}
    wb.close()
    return out


def _yuan(text):
    """"¥1,400.00" -> Decimal("1400.00"); "—" -> None."""
    if text == "—":
        return None
    return Decimal(text.replace("¥", "").replace(",", "").replace("%", ""))


def _num(value):
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def test_the_excel_export_holds_the_same_figures(app, login):
    _case(app)
    finance = login("finance")
    resp = finance.get(f"/expenses/summary.xlsx?month={MONTH}", headers=EN)
    assert resp.mimetype.endswith("spreadsheetml.sheet")
    assert 'filename="expense-summary-2026-03.xlsx"' in resp.headers["Content-Disposition"]
    formats = {}
    regions, categories, people = _sheets(resp, formats)
    assert regions[0] == ["Region code", "Region", "Budget (¥)", "Approved (¥)", "Paid (¥)", "Pending (¥)",
                          "Left (¥)", "Use (%)"]
    got = {(r[0] or "total"): tuple(_num(v) for v in r[2:]) for r in regions[1:]}
    assert got == {k: tuple(_num(_yuan(t)) for t in v) for k, v in REGIONS.items()}
    assert regions[-1][1] == "Total"
    got = {(r[0], code): tuple(_num(v) for v in r[3:]) for r in categories[1:]
           for code in [k[1] for k in CATEGORIES if k[0] == r[0]] if _label(code) == r[2]}
    assert got == {k: tuple(_num(_yuan(t)) for t in v) for k, v in CATEGORIES.items()}
    assert people[0] == ["Username", "Name", "Region", "Claims", "Claimed (¥)", "Approved (¥)", "Paid (¥)"]
    got = {r[0]: (r[2], str(r[3]), *(_num(v) for v in r[4:])) for r in people[1:]}
    assert got == {k: (v[0], v[1], *(_num(_yuan(t)) for t in v[2:])) for k, v in PEOPLE.items()}
    # Amounts are numbers shown with two decimals, never text.
    assert formats["Regions"] == formats["People"] == {"#,##0.00"}
    assert all(isinstance(v, (int, float)) or v is None for r in regions[1:] for v in r[2:])


def _label(code):
    return {"travel": "Travel", "accommodation": "Accommodation", "local_transport": "Local transport",
            "meal": "Meal allowance", "entertainment": "Customer entertainment"}[code]


@pytest.mark.parametrize("username, status", [("rep.beijing", 403), ("dist.bj", 403), ("sup.east", 200)])
def test_who_opens_the_summary(app, login, username, status):
    client = login(username)
    assert client.get(f"/expenses/summary?month={MONTH}").status_code == status
    assert client.get(f"/expenses/summary.xlsx?month={MONTH}").status_code == status
