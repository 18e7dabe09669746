"""Targets set at a monthly meeting are the month's targets on the plan pages: the trend page's
monthly roll-up sets the month's net shipments and payments against them, for one account and
for its region; the plan page of an account shows its month target.

The case, worked by hand (March 2026, Beijing; P-W550 at ¥28.80):

    targets set at the March meeting        shipments      payments
      GD-BJ01                              ¥10,000.00     ¥8,000.00
      DL-BJ001                              ¥2,000.00     ¥1,500.00
      together                             ¥12,000.00     ¥9,500.00

    the ledger in March
      GD-BJ01   5 Mar shipment 100 × 28.80 = ¥2,880.00; 25 Mar shipment 50 × 28.80 = ¥1,440.00;
                15 Mar payment ¥4,000.00
      DL-BJ001 12 Mar shipment 20 × 28.80 = ¥576.00; 20 Mar return 5 × 28.80 = ¥144.00;
                18 Mar payment ¥300.00

    GD-BJ01:  shipped ¥4,320.00 of ¥10,000.00 = 43.2%;  paid ¥4,000.00 of ¥8,000.00 = 50.0%
    北京:     shipped ¥4,752.00 of ¥12,000.00 = 39.6%;  paid ¥4,300.00 of ¥9,500.00 = 45.3% (45.263…)
"""
import re
from datetime import date

import pytest

from channel.core.periods import Month, TenDay
from channel.plans import rollup
from tests.helpers import EN, ZH, page_text
from tests.ledger import account, yuan
from tests.meetings import meeting, region
from tests.plans import pay, ship


@pytest.fixture
def case(app, login):
    with app.app_context():
        m = meeting()  # 5 March 2026, GD-BJ01, DL-BJ001 and DL-BJ002 invited
        ids = {"meeting": m.id, "version": m.version, "BJ": region("BJ").id, "TJ": region("TJ").id}
        ids.update({c: account(c).id for c in ("GD-BJ01", "DL-BJ001", "DL-BJ002", "DL-TJ001")})
        ship("GD-BJ01", date(2026, 3, 5), ("P-W550", 100, 2880))
        ship("GD-BJ01", date(2026, 3, 25), ("P-W550", 50, 2880))
        pay("GD-BJ01", date(2026, 3, 15), yuan("4000.00"))
        ship("DL-BJ001", date(2026, 3, 12), ("P-W550", 20, 2880))
        ship("DL-BJ001", date(2026, 3, 20), ("P-W550", 5, 2880), kind="return")
        pay("DL-BJ001", date(2026, 3, 18), yuan("300.00"))
    # The targets, typed into the meeting's grid in yuan.
    resp = login("sup.north").post_form(f"/meetings/{ids['meeting']}/targets", {
        "version": ids["version"],
        f"ship-{ids['GD-BJ01']}": "10000.00", f"pay-{ids['GD-BJ01']}": "8000",
        f"ship-{ids['DL-BJ001']}": "2000", f"pay-{ids['DL-BJ001']}": "1500.00",
        f"ship-{ids['DL-BJ002']}": "", f"pay-{ids['DL-BJ002']}": ""})
    assert resp.status_code == 302
    return ids


def month_rows(html):
    """{month: {data attribute: value}} of the trend page's monthly roll-up."""
    out = {}
    for m in re.finditer(r'<tr data-month="([^"]+)"(.*?)</tr>', html, re.S):
        out[m.group(1)] = dict(re.findall(r'data-([a-z-]+)="(-?\d+)"', m.group(2)))
        out[m.group(1)]["text"] = m.group(2)
    return out


def test_the_month_target_of_one_account(login, case):
    resp = login("sup.north").get(f"/plans/actual/trend?period=2026-03-3&account={case['GD-BJ01']}", headers=EN)
    assert resp.status_code == 200
    march = month_rows(page_text(resp))["2026-03"]
    assert march["target-fen"] == "1000000" and march["target-paid"] == "800000"
    assert march["actual-fen"] == str(yuan("4320.00")) and march["actual-paid"] == str(yuan("4000.00"))
    assert "43.2%" in march["text"] and "50.0%" in march["text"]
    assert "of the target ¥10,000.00" in march["text"] and "of the target ¥8,000.00" in march["text"]
    february = month_rows(page_text(resp))["2026-02"]
    assert "target-fen" not in february and "No target set" in february["text"]


def test_the_month_target_of_a_region_sums_its_accounts(login, case):
    for headers in (EN, ZH):
        resp = login("sup.north").get(f"/plans/actual/trend?period=2026-03-3&region={case['BJ']}", headers=headers)
        assert resp.status_code == 200
        march = month_rows(page_text(resp))["2026-03"]
        assert march["target-fen"] == "1200000" and march["target-paid"] == "950000"
        assert march["actual-fen"] == str(yuan("4752.00")) and march["actual-paid"] == str(yuan("4300.00"))
        assert "39.6%" in march["text"] and "45.3%" in march["text"]
    # Tianjin set no target; the rep of Beijing sees Beijing's.
    resp = login("sup.north").get(f"/plans/actual/trend?period=2026-03-3&region={case['TJ']}", headers=EN)
    assert "target-fen" not in month_rows(page_text(resp))["2026-03"]
    resp = login("rep.beijing").get("/plans/actual/trend?period=2026-03-3", headers=EN)
    assert month_rows(page_text(resp))["2026-03"]["target-fen"] == "1200000"


def test_the_rollup_takes_the_accounts_of_the_trend(app, case):
    with app.app_context():
        accounts = rollup.accounts_in(account_ids=[case["GD-BJ01"], case["DL-BJ001"]])
        months = rollup.monthly(rollup.trend(accounts, rollup.trend_periods(TenDay.parse("2026-03-3"))),
                                [a.id for a in accounts])
        march = months[-1]
        assert (march.target.plan_fen, march.target.plan_paid_fen, march.target.accounts) == (1_200_000, 950_000, 2)
        assert str(march.target_shipped_pct) == "39.6" and str(march.target_paid_pct) == "45.3"
        assert rollup.targets([case["DL-BJ002"]], Month(2026, 3)) is None  # left blank: no target
        assert rollup.targets([], Month(2026, 3)) is None and months[-2].target is None


def test_the_plan_page_shows_the_month_target_of_its_account(login, case):
    resp = login("rep.beijing").get("/plans/GD-BJ01/2026-03-2", headers=EN)
    assert resp.status_code == 200
    text = page_text(resp)
    box = re.search(r'id="month-target".*?</section>', text, re.S).group(0)
    assert "Month target set at" in box and "三月经销商会议" in box
    assert "shipments ¥10,000.00, payments ¥8,000.00" in box
    assert "¥4,320.00" in box and "43.2%" in box and "¥4,000.00" in box and "50.0%" in box
    assert f'href="/meetings/{case["meeting"]}"' in box
    resp = login("rep.beijing").get("/plans/DL-BJ002/2026-03-2", headers=ZH)
    assert resp.status_code == 200 and 'id="month-target"' not in resp.get_data(as_text=True)
    # A distributor sees its month target, not a link to a meeting whose minutes are not published.
    resp = login("dist.bj").get("/plans/GD-BJ01/2026-03-1", headers=ZH)
    box = re.search(r'id="month-target".*?</section>', page_text(resp), re.S).group(0)
    assert "¥10,000.00" in box and "/meetings/" not in box
