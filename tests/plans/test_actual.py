"""Plan versus actual pages (channel/plans/actual_views.py) and their charts: the figures on the
page are the ledger's (the hand-worked case of test_rollup), scope, bad arguments, both
languages, and the charts' SVG (no style attributes, no script; WeasyPrint draws it)."""
import re
from datetime import date

import pytest
from flask import render_template
from sqlalchemy import select

from channel.core.periods import TenDay
from channel.extensions import db
from channel.masterdata.models import Region
from channel.plans import charts
from channel.plans import services as ps
from tests.ledger import account, yuan

from . import PERIOD
from .test_rollup import AFTER, BJ, BOTH, TJ, hand_case

URL = f"/plans/actual?period={PERIOD}"


@pytest.fixture
def case(app, monkeypatch):
    monkeypatch.setattr(ps, "business_today", lambda: AFTER)
    with app.app_context():
        hand_case()
        ids = {code: account(code).id for code in ("DL-BJ001", "DL-TJ001", "GD-BJ01")}
        ids.update({code: db.session.execute(select(Region.id).where(Region.code == code)).scalar_one()
                    for code in ("NORTH", "BJ", "TJ", "EAST")})
    return ids


def rows(html, attr="data-account"):
    """{key: (plan qty, actual qty, plan fen, actual fen, plan paid, actual paid)} from the rows' data."""
    out = {}
    for m in re.finditer(rf'<tr {attr}="([^"]+)"([^>]*)>', html):
        data = dict(re.findall(r'data-([a-z-]+)="(-?\d+)"', m.group(2)))
        out[m.group(1)] = tuple(int(data[k]) if k in data else None for k in
                                ("plan-qty", "actual-qty", "plan-fen", "actual-fen", "plan-paid", "actual-paid"))
    return out


def svgs(html):
    return re.findall(r"<svg\b.*?</svg>", html, re.S)


def test_period_page_shows_the_ledger_figures(login, case):
    resp = login("admin").get(URL)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    table = rows(html)
    assert table["DL-BJ001"] == BJ and table["DL-TJ001"] == TJ
    assert table["total"][2:] == BOTH[2:]
    # Furthest below plan first.
    order = [k for k in table if k != "total"]
    assert order == ["DL-TJ001", "DL-BJ001"]
    # Accounts with neither a plan nor a movement: listed apart.
    assert 'data-idle="DL-BJ002"' in html and 'data-idle="DL-BJ001"' not in html
    # Figures as people read them.
    assert "¥3,180.00" in html and "¥3,780.00" in html and "84.1%" in html and "40.0%" in html
    assert "¥3,756.00" in html and "72.0%" in html
    # Summary cards per region (sub-regions rolled up) and per rep.
    assert 'data-region="NORTH"' in html and 'data-rep="rep.beijing"' in html
    # The chart: one group per account with a plan or a movement, furthest below first.
    (bars,) = svgs(html)
    assert "<title" in bars and 'role="img"' in bars
    assert re.findall(r'<g data-key="([^"]+)"', bars) == ["DL-TJ001", "DL-BJ001"]


def test_variance_notes_flagged_where_missing(login, case, app):
    html = login("sup.north").get(URL).get_data(as_text=True)
    flagged = re.findall(r'<tr data-account="([^"]+)"[^>]*data-note-missing', html)
    assert sorted(flagged) == ["DL-BJ001", "DL-TJ001"]
    assert f'href="/plans/DL-TJ001/{PERIOD}#variance"' in html  # where the note is written
    with app.app_context():
        plan = ps.find(account("DL-TJ001"), PERIOD)
        plan.variance_note = "竞品降价"
        db.session.commit()
    html = login("sup.north").get(URL).get_data(as_text=True)
    assert re.findall(r'<tr data-account="([^"]+)"[^>]*data-note-missing', html) == ["DL-BJ001"]
    assert "竞品降价" in html


def test_under_way_no_flags(login, case, monkeypatch):
    monkeypatch.setattr(ps, "business_today", lambda: date(2026, 3, 15))
    html = login("admin").get(URL).get_data(as_text=True)
    assert "data-note-missing" not in html
    # Without a period: the last finished one (the one under way is a step forward).
    html = login("admin").get("/plans/actual").get_data(as_text=True)
    assert f'<option value="{PERIOD.prev()}" selected' in html


def test_scope(login, case):
    rep = login("rep.beijing").get(URL).get_data(as_text=True)
    assert "DL-BJ001" in rep and "DL-TJ001" not in rep and "GD-SH01" not in rep
    assert rows(rep)["DL-BJ001"] == BJ
    dist = login("dist.bj").get(URL).get_data(as_text=True)
    assert "DL-BJ001" in dist and "DL-TJ001" not in dist and 'data-rep=' not in dist
    east = login("sup.east").get(URL).get_data(as_text=True)
    assert "DL-BJ001" not in east and "DL-SH001" in east
    north_tj = login("sup.north").get(f"{URL}&region={case['TJ']}").get_data(as_text=True)
    assert "DL-TJ001" in north_tj and "DL-BJ001" not in north_tj
    assert rows(north_tj)["DL-TJ001"] == TJ
    # A region or an account outside one's scope: 404.
    assert login("rep.beijing").get(f"{URL}&region={case['TJ']}").status_code == 404
    assert login("sup.east").get(f"{URL}&region={case['NORTH']}").status_code == 404
    assert login("dist.bj").get(f"{URL}&region={case['BJ']}").status_code == 404
    assert login("rep.beijing").get(f"/plans/actual/trend?account={case['DL-TJ001']}").status_code == 404
    assert login("dist.tj").get(f"/plans/actual/trend?account={case['DL-BJ001']}").status_code == 404
    assert login("admin").get(
        f"/plans/actual/trend?account={case['DL-TJ001']}&region={case['BJ']}").status_code == 404
    assert login("finance").get(f"/plans/actual/trend?account={case['DL-TJ001']}").status_code == 200


@pytest.mark.parametrize("query, status", [
    ("period=2026-13-1", 400), ("period=2999-12-3", 400), ("period=2000-03-1", 400), ("period=2026-03-4", 400), ("period=x", 400), ("period=2026-3-1", 400),
    ("region=abc", 404), ("region=999999", 404), ("region=1234567890123", 404),
])
def test_bad_arguments(login, case, query, status):
    client = login("admin")
    assert client.get(f"/plans/actual?{query}").status_code == status
    assert client.get(f"/plans/actual/trend?{query}").status_code == status
    assert client.get("/plans/actual/trend?account=abc").status_code == 404


def test_anonymous_sent_to_login(app):
    client = app.test_client()
    for url in ("/plans/actual", "/plans/actual/trend"):
        resp = client.get(url)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_trend_page(login, case, app):
    with app.app_context():
        from . import plan_input, saved, ship
        saved("DL-BJ001", plan_input(("P-W550", 10)), period=TenDay.parse("2026-02-3"), today=date(2026, 2, 19))
        ship("DL-BJ001", date(2026, 2, 28), ("P-W550", 5, 2880))
    html = login("sup.north").get("/plans/actual/trend?period=2026-03-3").get_data(as_text=True)
    periods = rows(html, "data-period")
    assert len(periods) == 18 and periods["2026-03-2"][2:] == BOTH[2:]
    assert periods["2026-02-3"][2:] == (28800, 14400, 0, 0)
    assert periods["2026-03-3"][2:] == (0, yuan("1440.00"), 0, 0)
    months = rows(html, "data-month")
    assert list(months) == ["2026-03", "2026-02", "2026-01", "2025-12", "2025-11", "2025-10"]
    assert months["2026-03"][2:] == (yuan("5220.00"), yuan("3756.00") + yuan("1440.00"), yuan("3000.00"),
                                     yuan("2700.00"))
    assert months["2026-02"][2:] == (28800, 14400, 0, 0)
    (trend,) = svgs(html)
    assert trend.count("<rect") == 2 and "<polyline" in trend and "<title" in trend
    # One account.
    one = login("rep.beijing").get(
        f"/plans/actual/trend?period=2026-03-3&account={case['DL-BJ001']}").get_data(as_text=True)
    assert rows(one, "data-period")["2026-03-2"][2:] == BJ[2:]
    assert "朝阳区惠民便利店" in one
    # Default: six months up to today's period.
    assert login("admin").get("/plans/actual/trend").status_code == 200


@pytest.mark.parametrize("locale, lang", [("en", "en"), ("zh_CN", "zh-CN")])
def test_both_languages(login, case, locale, lang):
    client = login("sup.north")
    client.post_form("/language", {"locale": locale, "next": "/"})
    for url in (URL, "/plans/actual/trend?period=2026-03-3"):
        resp = client.get(url)
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200 and f'<html lang="{lang}">' in html
        assert len(svgs(html)) == 1


def test_no_style_attribute_or_inline_script(login, case):
    for url in (URL, "/plans/actual/trend?period=2026-03-3"):
        html = login("admin").get(url).get_data(as_text=True)
        assert " style=" not in html
        assert not re.search(r"<script(?![^>]*\bsrc=)", html)


def test_empty_period(login, case):
    html = login("admin").get("/plans/actual?period=2025-01-1").get_data(as_text=True)
    assert "<svg" not in html and 'class="plan-chart"' in html


# --- the charts -----------------------------------------------------------------------------------

def test_bars_scaled_on_one_scale():
    chart = charts.bars([("a", "A", 1000, 500), ("b", "B", 400, 0), ("c", "C", 0, 250)], threshold=80)
    span = charts.BARS_WIDTH - charts.VALUE_SPACE
    a, b, c = chart.groups
    assert (a.plan.width, a.actual.width) == (span, span // 2)
    assert (b.plan.width, b.actual.width) == ((400 * span * 2 + 1000) // 2000, 0)
    assert c.plan.width == 0 and c.actual.width == (250 * span * 2 + 1000) // 2000 and c.pct is None
    assert (str(a.pct), a.below, str(b.pct), b.below, c.below) == ("50.0", True, "0.0", True, False)
    assert a.label_y < a.plan.y < a.actual.y < b.label_y and chart.height > c.actual.y
    assert charts.bars([("x", "x", 10**12, 1)]).groups[0].actual.width == 1  # a tiny amount still shows
    many = charts.bars([(i, str(i), 100, 50) for i in range(25)], limit=20)
    assert len(many.groups) == 20 and many.more == 5
    assert charts.bars([]).empty


def test_trend_geometry():
    from decimal import Decimal as D
    chart = charts.trend([("1", "2026-03 1", "2026-03", D("50.0"), None),
                          ("2", "2026-03 2", "2026-03", D("100.0"), D("100.0")),
                          ("3", "2026-03 3", "2026-03", None, D("50.0")),
                          ("1", "2026-04 1", "2026-04", D("400.0"), D("75.0"))], threshold=80)
    assert [t.pct for t in chart.ticks] == [0, 50, 100, 150, 200, 250, 300]
    s1, s2, s3, s4 = chart.slots
    assert s2.shipped.y == chart.hundred_y and abs(s1.shipped.height * 2 - s2.shipped.height) <= 1
    assert s3.shipped is None and s4.shipped.clipped and s4.shipped.y == chart.top
    assert s1.paid_y is None and chart.paid_lines == (f"{s2.x},{s2.paid_y} {s3.x},{s3.paid_y} {s4.x},{s4.paid_y}",)
    assert [m.label for m in chart.months] == ["2026-03", "2026-04"]
    assert chart.threshold_y > chart.hundred_y
    low = charts.trend([("1", "t", "m", D("20"), D("10"))])
    assert low.ticks[-1].pct == charts.PCT_FLOOR
    assert charts.trend([("1", "t", "m", None, None)]).empty


def test_charts_render_in_weasyprint(app):
    """The chart templates as P3's PDF includes them: WeasyPrint draws them without complaint."""
    from decimal import Decimal as D

    from weasyprint import HTML

    bars = charts.bars([("DL-BJ001", "DL-BJ001 朝阳区惠民便利店", 378000, 318000), ("x", "x", 100, 10)])
    trend = charts.trend([("1", "2026-03 1", "2026-03", D("84.1"), D("75.0")),
                          ("2", "2026-03 2", "2026-03", D("40.0"), D("120.0"))])
    with app.test_request_context():
        html = ("<html><body>"
                + render_template("plans/chart_bars.html", chart=bars, chart_font="Noto Sans CJK SC")
                + render_template("plans/chart_trend.html", chart=trend)
                + "</body></html>")
    assert " style=" not in html and "<script" not in html
    pdf = HTML(string=html).write_pdf()
    assert pdf.startswith(b"%PDF")
