"""The planning grid and plan pages through the test client: a rep drafts and submits, the
supervisor approves, the plan locks when its period starts and changes only with a reason (the
earlier version kept); sending back with a comment; scope (404) and roles (403); bad input (422,
nothing saved); "copy last period" and the payments of the grid; the approvals list; the
variance note; the dashboard panel; both languages.

"Today" is set by replacing services.business_today (the pages read it from there)."""
from datetime import date

import pytest
from sqlalchemy import func, select

from channel.extensions import db
from channel.plans import services as ps
from channel.plans.models import Plan, PlanVersion
from tests.helpers import EN, ZH, page_text
from tests.ledger import account, product, user, written, yuan

from . import BEFORE, DURING, PERIOD, pay, plan_input, saved, ship

URL = f"/plans/DL-BJ001/{PERIOD}"
PREV = PERIOD.prev()  # 2026-03-1


@pytest.fixture
def login(login):
    """Clients that read English unless a request says otherwise (messages are checked in English)."""
    def _login(username):
        client = login(username)
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client
    return _login


@pytest.fixture
def today(monkeypatch):
    """today(date): the business day the pages and services see from now on."""
    def set_today(day):
        monkeypatch.setattr(ps, "business_today", lambda: day)
    set_today(BEFORE)
    return set_today


def _ids(app, *codes):
    with app.app_context():
        values = [product(c).id if c.startswith("P-") else account(c).id for c in codes]
        db.session.remove()
    return values


def _plan(app, code="DL-BJ001", period=PERIOD):
    """(status, version, shipment fen, payment fen, payment date, [(product code, qty, price)]) or None."""
    with app.app_context():
        plan = db.session.execute(select(Plan).where(Plan.account_id == account(code).id,
                                                     Plan.period == str(period))).scalar_one_or_none()
        values = None if plan is None else (
            plan.status, plan.version, plan.shipment_fen, plan.payment_fen, plan.payment_on,
            [(ln.product.code, ln.quantity, ln.unit_price_fen) for ln in plan.lines])
        db.session.remove()
    return values


def _count(app, model=Plan):
    with app.app_context():
        n = db.session.execute(select(func.count()).select_from(model)).scalar_one()
        db.session.remove()
    return n


def _form(app, *lines, payment="", on="", stock=(), action="save", **extra):
    """The plan form as a browser sends it: lines (product code, quantity[, unit price text]),
    plus one blank line row and one blank stock row, as the page has them."""
    data = {"action": action, "payment": payment, "payment_on": on, "competitor_notes": "", "problems": ""}
    for n, (code, qty, *price) in enumerate(list(lines) + [("", "")]):
        data[f"lines-{n}-product_id"] = str(_ids(app, code)[0]) if code else ""
        data[f"lines-{n}-quantity"] = str(qty)
        data[f"lines-{n}-unit_price"] = price[0] if price else ""
    for n, (code, s, so) in enumerate(list(stock) + [("", "", "")]):
        data[f"stock-{n}-product_id"] = str(_ids(app, code)[0]) if code else ""
        data[f"stock-{n}-stock"] = str(s)
        data[f"stock-{n}-sellout"] = str(so)
    data.update(extra)
    return data


def _submitted(app):
    """DL-BJ001's plan for PERIOD: 100 × P-W550 at the list price, ¥2,000 on 15 March, submitted."""
    with app.app_context():
        plan = saved("DL-BJ001", plan_input(("P-W550", 100), payment="2000.00", on=date(2026, 3, 15)))
        written(ps.submit, plan, by=user("rep.beijing"), today=BEFORE)
        db.session.remove()


# --- the flow ---------------------------------------------------------------------------------

def test_draft_submit_approve_lock_and_change_with_a_reason(app, login, today):
    rep = login("rep.beijing")
    page = page_text(rep.get(URL, headers=EN))
    assert 'id="plan-form"' in page and 'id="submit-button"' in page and "No plan" in page

    resp = rep.post_form(URL, _form(app, ("P-W550", 100), ("P-GT500", 10, "40.00"), payment="2000.00",
                                    on="2026-03-15", stock=(("P-W550", 30, 120),)))
    assert resp.status_code == 302
    assert _plan(app) == ("draft", 1, 100 * 2880 + 10 * 4000, yuan("2000.00"), date(2026, 3, 15),
                          [("P-W550", 100, 2880), ("P-GT500", 10, 4000)])
    page = page_text(rep.get(URL, headers=EN))
    assert "¥2,880.00" in page and "¥400.00" in page  # each line's amount: 100 × ¥28.80, 10 × ¥40.00

    resp = rep.post_form(URL, _form(app, ("P-W550", 100), ("P-GT500", 10, "40.00"), payment="2000.00",
                                    on="2026-03-15", action="submit"))
    assert resp.status_code == 302 and _plan(app)[0] == "submitted"
    page = page_text(rep.get(URL, headers=EN))
    assert 'id="plan-form"' not in page and "Waiting for approval" in page  # the drafter may not edit it now

    sup = login("sup.north")
    page = page_text(sup.get(URL, headers=EN))
    assert 'id="approve-button"' in page and 'id="send-back-button"' in page
    assert sup.post_form(f"{URL}/approve", {"comment": "同意"}).status_code == 302
    assert _plan(app)[0] == "approved"
    # Approved before its period: the supervisor may still send it back, nobody edits it.
    page = page_text(sup.get(URL, headers=EN))
    assert 'id="plan-form"' not in page and 'id="send-back-button"' in page and 'id="approve-button"' not in page

    today(DURING)  # the period has started: the plan is locked
    page = page_text(rep.get(URL, headers=EN))
    assert "Locked" in page and 'id="plan-form"' not in page and 'id="change-button"' not in page
    assert rep.post_form(URL, _form(app, ("P-W550", 1))).status_code == 409
    page = page_text(sup.get(URL, headers=EN))
    assert 'id="change-button"' in page and 'name="reason"' in page and 'id="send-back-button"' not in page
    # No reason: refused with the message on the reason field, nothing changed.
    resp = sup.post_form(URL, _form(app, ("P-W550", 80), payment="2000.00", on="2026-03-15", action="change"))
    assert resp.status_code == 422 and "Give a reason for the change." in page_text(resp)
    assert _plan(app)[:3] == ("approved", 1, 100 * 2880 + 10 * 4000)
    resp = sup.post_form(URL, _form(app, ("P-W550", 80), payment="2000.00", on="2026-03-15", action="change",
                                    reason="库存偏高，减量"))
    assert resp.status_code == 302
    assert _plan(app) == ("approved", 2, 80 * 2880, yuan("2000.00"), date(2026, 3, 15), [("P-W550", 80, 2880)])
    assert _count(app, PlanVersion) == 1
    page = page_text(sup.get(URL, headers=EN))
    assert 'id="versions"' in page and "库存偏高，减量" in page
    versions = page.split('id="versions"')[1].split("</section>")[0]
    assert "清泉矿泉水 550ml×24" in versions and "茗香绿茶 500ml×15" in versions and "¥3,280.00" in versions
    history = page.split('id="history"')[1]
    for step in ("Submitted", "Approved", "Changed after it locked", "同意"):
        assert step in history


def test_send_back_needs_a_comment_and_the_drafter_sees_it(app, login, today):
    _submitted(app)
    sup = login("sup.north")
    resp = sup.post_form(f"{URL}/send-back", {"comment": "  "})
    assert resp.status_code == 422 and "Say why the plan is sent back." in page_text(resp)
    assert _plan(app)[0] == "submitted"
    assert sup.post_form(f"{URL}/send-back", {"comment": "回款计划偏低，请调整"}).status_code == 302
    assert _plan(app)[0] == "draft"
    page = page_text(login("rep.beijing").get(URL, headers=EN))
    assert 'id="sent-back"' in page and "回款计划偏低，请调整" in page and 'id="plan-form"' in page
    # Sending back again, or approving a draft: the plan moved on (409).
    assert sup.post_form(f"{URL}/send-back", {"comment": "x"}).status_code == 409
    assert sup.post_form(f"{URL}/approve", {}).status_code == 409


def test_only_a_supervisor_decides(app, login, today):
    _submitted(app)
    rep = login("rep.beijing")
    assert rep.post_form(f"{URL}/approve", {}).status_code == 403
    assert rep.post_form(f"{URL}/send-back", {"comment": "x"}).status_code == 403
    assert rep.get("/plans/approvals").status_code == 403
    assert login("finance").post_form(f"{URL}/approve", {}).status_code == 403
    assert _plan(app)[0] == "submitted"


# --- scope --------------------------------------------------------------------------------------

def test_a_rep_sees_only_their_accounts(app, login, today):
    rep = login("rep.beijing")
    assert rep.get(f"/plans/GD-SH01/{PERIOD}").status_code == 404
    assert rep.post_form(f"/plans/GD-SH01/{PERIOD}", _form(app, ("P-W550", 1))).status_code == 404
    assert login("sup.east").get(URL).status_code == 404
    assert login("sup.east").post_form(f"{URL}/approve", {}).status_code == 404
    assert rep.get("/plans/NO-SUCH/2026-03-2").status_code == 404
    assert rep.get("/plans/DL-BJ001/2026-13-2").status_code == 404
    assert rep.get("/plans/DL-BJ001/2026-03-4").status_code == 404
    assert rep.get("/plans/?period=2026-03").status_code == 400
    page = page_text(rep.get(f"/plans/?period={PERIOD}", headers=EN))
    assert 'id="row-DL-BJ001"' in page and 'id="row-GD-BJ01"' in page
    assert "GD-SH01" not in page and "DL-TJ001" not in page
    assert _count(app) == 0


def test_a_distributor_drafts_its_own_plan_and_reads_its_dealers(app, login, today):
    dist = login("dist.bj")
    page = page_text(dist.get(f"/plans/?period={PERIOD}", headers=EN))
    assert 'id="row-GD-BJ01"' in page and 'id="row-DL-BJ001"' in page and "GD-TJ01" not in page
    assert 'name="pay-%d"' % _ids(app, "GD-BJ01")[0] in page  # its own row is editable
    assert 'name="pay-%d"' % _ids(app, "DL-BJ001")[0] not in page  # a dealer's is not
    own = f"/plans/GD-BJ01/{PERIOD}"
    assert 'id="plan-form"' in page_text(dist.get(own))
    assert dist.post_form(own, _form(app, ("P-W550", 500), action="submit")).status_code == 302
    assert _plan(app, "GD-BJ01")[:3] == ("submitted", 1, 500 * 2880)
    # A dealer's plan: read only, and refused when posted anyway.
    assert 'id="plan-form"' not in page_text(dist.get(URL))
    assert dist.post_form(URL, _form(app, ("P-W550", 5))).status_code == 403
    assert _plan(app) is None
    assert dist.get(f"/plans/GD-TJ01/{PERIOD}").status_code == 404
    assert dist.get("/plans/approvals").status_code == 403


# --- bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize("lines, payment, on, message", [
    ((("P-W550", "1.5"),), "", "", "whole number above 0"),
    ((("P-W550", "0"),), "", "", "whole number above 0"),
    ((("P-W550", "10", "abc"),), "", "", "Enter an amount such as"),
    ((("P-W550", "10", "-1"),), "", "", "must not be negative"),
    ((("P-W550", "10"),), "1000.00", "2026-03-25", "The payment date must be in the period"),
    ((("P-W550", "10"),), "1000.00", "", "Give the expected payment date."),
    ((("P-W550", "10"),), "12.345", "2026-03-15", "At most two decimals"),
    ((("P-W550", "10"), ("P-W550", "5")), "", "", "P-W550 is listed twice."),
], ids=["fraction", "zero", "price", "negative-price", "date-outside", "no-date", "fen", "twice"])
def test_bad_input_is_refused_and_nothing_saved(app, login, today, lines, payment, on, message):
    resp = login("rep.beijing").post_form(URL, _form(app, *lines, payment=payment, on=on))
    assert resp.status_code == 422
    page = page_text(resp)
    assert message in page and 'class="error"' in page
    assert _count(app) == 0


def test_a_row_error_from_the_services_lands_on_its_row(app, login, today):
    # Three rows sent, the middle one blank: the service's "lines-1" is the third row of the form.
    data = _form(app, ("P-W550", "10"), ("", ""), ("P-W550", "5"))
    page = page_text(login("rep.beijing").post_form(URL, data))
    rows = page.split("<tr data-line>")
    assert len(rows) >= 4 and "listed twice" in rows[3] and "listed twice" not in rows[1]


def test_an_empty_plan_is_refused(app, login, today):
    resp = login("rep.beijing").post_form(URL, _form(app))
    assert resp.status_code == 422 and "The plan is empty" in page_text(resp)
    # Finance reads plans and writes none: refused before the form is even looked at.
    assert login("finance").post_form(URL, _form(app, ("P-W550", 1))).status_code == 403
    assert _count(app) == 0


def test_stock_rows_are_checked(app, login, today):
    resp = login("rep.beijing").post_form(URL, _form(app, ("P-W550", 1), stock=(("P-W550", "-3", "1"),)))
    assert resp.status_code == 422 and "Enter a whole number." in page_text(resp)
    resp = login("rep.beijing").post_form(URL, _form(app, ("P-W550", 1), stock=(("", "3", "1"),)))
    assert resp.status_code == 422 and "Choose a product from the list." in page_text(resp)
    assert _count(app) == 0


# --- the grid -----------------------------------------------------------------------------------

def _last_period_plans(app):
    """Approved plans for the period before PERIOD for DL-BJ001 and DL-BJ002, and what happened."""
    with app.app_context():
        for code, qty in (("DL-BJ001", 50), ("DL-BJ002", 20)):
            plan = saved(code, plan_input(("P-W550", qty), ("P-GT500", 4), payment="1000.00", on=date(2026, 3, 7),
                                          stock=(("P-W550", 10, 30),)),
                         period=PREV, today=date(2026, 2, 27))
            written(ps.submit, plan, by=user("rep.beijing"), today=date(2026, 2, 27))
            written(ps.approve, plan, by=user("sup.north"), today=date(2026, 2, 27))
        ship("DL-BJ001", date(2026, 3, 5), ("P-W550", 40, 2880))
        pay("DL-BJ001", date(2026, 3, 6), yuan("500.00"))
        db.session.remove()


def test_the_grid_shows_status_and_last_period(app, login, today):
    _last_period_plans(app)
    _submitted(app)
    page = page_text(login("rep.beijing").get("/plans/", headers=EN))  # the coming period: PERIOD
    assert "Plans for 2026-03 second ten days" in page
    row = page.split('id="row-DL-BJ001"')[1].split("</tr>")[0]
    assert 'data-status="submitted"' in row
    # Last period: planned 50 × 28.80 + 4 × 45.00 = 1,620.00, shipped 40 × 28.80 = 1,152.00 (71.1%);
    # payment planned 1,000.00, paid 500.00 (50.0%).
    assert "¥1,620.00 / ¥1,152.00" in row and "71.1%" in row
    assert "¥1,000.00 / ¥500.00" in row and "50.0%" in row
    row = page.split('id="row-DL-BJ002"')[1].split("</tr>")[0]
    assert 'data-status="none"' in row and 'name="copy"' in row and "0.0%" in row
    row = page.split('id="row-DL-BJ003"')[1].split("</tr>")[0]
    assert 'name="copy"' not in row  # no plan last period: nothing to copy


def test_a_new_plan_starts_from_last_periods(app, login, today):
    _last_period_plans(app)
    w550, gt500 = _ids(app, "P-W550", "P-GT500")
    page = page_text(login("rep.beijing").get(URL, headers=EN))
    assert 'id="plan-form"' in page and "No plan" in page
    assert f'selected value="{w550}"' in page and f'selected value="{gt500}"' in page
    assert 'name="lines-0-quantity" type="text" value="50"' in page
    assert 'name="payment_on" type="date" value="2026-03-17"' in page  # 7 March's day in the new period
    assert 'name="stock-0-stock" type="text" value=""' in page  # to be counted again
    assert _count(app) == 2  # nothing saved by looking


def test_copy_last_period_for_one_row_and_for_the_selected(app, login, today):
    _last_period_plans(app)
    rep = login("rep.beijing")
    b1, b2, b3 = _ids(app, "DL-BJ001", "DL-BJ002", "DL-BJ003")
    assert rep.post_form(f"/plans/?period={PERIOD}", {"copy": str(b1)}).status_code == 302
    # The same lines and payment; the payment on the same day of the new period (7 March -> 17 March).
    assert _plan(app, "DL-BJ001") == ("draft", 1, 50 * 2880 + 4 * 4500, yuan("1000.00"), date(2026, 3, 17),
                                      [("P-W550", 50, 2880), ("P-GT500", 4, 4500)])
    resp = rep.post_form(f"/plans/?period={PERIOD}", {"action": "copy", "pick": [str(b1), str(b2), str(b3)]})
    assert resp.status_code == 302
    assert _plan(app, "DL-BJ002")[:4] == ("draft", 1, 20 * 2880 + 4 * 4500, yuan("1000.00"))
    assert _plan(app, "DL-BJ003") is None  # no plan last period
    assert _count(app) == 4
    page = page_text(rep.get(f"/plans/?period={PERIOD}", headers=EN))
    assert "DL-BJ001 (it has a plan already)" in page and "DL-BJ003 (no plan last period)" in page
    # The supervisor may not copy into another region's accounts: they are not even listed.
    assert login("sup.east").post_form(f"/plans/?period={PERIOD}", {"copy": str(b2)}).status_code == 302
    assert _count(app) == 4


def test_the_grid_saves_changed_payments_only(app, login, today):
    _last_period_plans(app)
    rep = login("rep.beijing")
    b1, b2, b3 = _ids(app, "DL-BJ001", "DL-BJ002", "DL-BJ003")
    data = {"action": "save",
            f"pay-{b1}": "3000.00", f"on-{b1}": "2026-03-18", f"was-{b1}": "", f"was-on-{b1}": "",
            f"pay-{b2}": "", f"on-{b2}": "", f"was-{b2}": "", f"was-on-{b2}": "",  # untouched: no plan made
            f"pay-{b3}": "800", f"on-{b3}": "2026-03-25", f"was-{b3}": "", f"was-on-{b3}": ""}
    resp = rep.post_form(f"/plans/?period={PERIOD}", data)
    assert resp.status_code == 422  # 25 March is outside the period: nothing saved at all
    page = page_text(resp)
    assert "The payment date must be in the period" in page and 'value="3000.00"' in page
    assert _count(app) == 2
    data[f"on-{b3}"] = "2026-03-20"
    assert rep.post_form(f"/plans/?period={PERIOD}", data).status_code == 302
    assert _plan(app, "DL-BJ001")[2:5] == (50 * 2880 + 4 * 4500, yuan("3000.00"), date(2026, 3, 18))  # from last
    assert _plan(app, "DL-BJ003")[2:5] == (0, yuan("800.00"), date(2026, 3, 20))
    assert _plan(app, "DL-BJ002") is None
    data = {"action": "save", f"pay-{b1}": "abc", f"on-{b1}": "2026-03-18", f"was-{b1}": "3000.00",
            f"was-on-{b1}": "2026-03-18"}
    resp = rep.post_form(f"/plans/?period={PERIOD}", data)
    assert resp.status_code == 422 and "Enter an amount such as" in page_text(resp)


def test_the_reminder_stands_out_from_the_reminder_day(app, login, today):
    rep = login("rep.beijing")
    today(date(2026, 3, 7))
    page = page_text(rep.get("/plans/", headers=EN))
    assert 'id="reminder"' in page and "flash-info" in page and 'class="missing"' not in page
    assert "no submitted plan for 2026-03 second ten days" in page
    today(date(2026, 3, 8))
    page = page_text(rep.get("/plans/", headers=EN))
    assert "flash-warning plan-reminder" in page and 'class="missing"' in page
    dash = page_text(rep.get("/dashboard", headers=EN))
    assert 'id="plans-missing"' in dash and f'href="/plans/DL-BJ001/{PERIOD}"' in dash


# --- approvals ----------------------------------------------------------------------------------

def test_approvals_list_and_approve_many(app, login, today):
    _submitted(app)
    with app.app_context():
        plan = saved("DL-BJ002", plan_input(("P-W550", 10)))
        written(ps.submit, plan, by=user("rep.beijing"), today=BEFORE)
        plan_ids = [p.id for p in db.session.execute(select(Plan).order_by(Plan.id)).scalars()]
        db.session.remove()
    sup = login("sup.north")
    page = page_text(sup.get("/plans/approvals", headers=EN))
    assert all(f'id="plan-{i}"' in page for i in plan_ids)
    assert f'id="plan-{plan_ids[0]}"' not in page_text(sup.get("/plans/approvals?period=2026-03-3"))
    assert page_text(login("sup.east").get("/plans/approvals", headers=EN)).count('name="plan"') == 0
    dash = page_text(sup.get("/dashboard", headers=EN))
    assert 'data-count="plans_to_approve">2<' in dash
    # One from its row (back to the list), then the rest selected.
    resp = sup.post_form(f"{URL}/approve", {"next": "approvals", "plan": str(plan_ids[1])})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/plans/approvals")
    assert _plan(app)[0] == "approved" and _plan(app, "DL-BJ002")[0] == "submitted"
    resp = sup.post_form("/plans/approvals", {"plan": [str(i) for i in plan_ids]})
    assert resp.status_code == 302
    assert _plan(app, "DL-BJ002")[0] == "approved"
    assert "1 plan approved." in page_text(sup.get("/plans/approvals", headers=EN))


# --- plan versus actual on the plan page --------------------------------------------------------

def test_the_variance_note_is_asked_for_below_the_threshold(app, login, today):
    _submitted(app)
    with app.app_context():
        written(ps.approve, db.session.execute(select(Plan)).scalar_one(), by=user("sup.north"), today=BEFORE)
        ship("DL-BJ001", date(2026, 3, 12), ("P-W550", 60, 2880))
        pay("DL-BJ001", date(2026, 3, 16), yuan("1500.00"))
        db.session.remove()
    today(date(2026, 3, 21))  # the period is over: 60% shipped, 75% paid
    rep = login("rep.beijing")
    page = page_text(rep.get(URL, headers=EN))
    assert 'id="actual-so-far"' in page and 'id="below-threshold"' in page and 'id="variance"' in page
    figures = page.split('id="now-figures"')[1].split("</table>")[0]
    assert "60.0%" in figures and "75.0%" in figures and "¥1,728.00" in figures
    assert rep.post_form(f"{URL}/variance", {"variance_note": "竞品促销，终端动销慢"}).status_code == 302
    assert "竞品促销，终端动销慢" in page_text(rep.get(URL))
    assert login("dist.tj").post_form(f"{URL}/variance", {"variance_note": "x"}).status_code == 404
    # Last period's figures beside the next period's plan.
    page = page_text(rep.get(f"/plans/DL-BJ001/{PERIOD.next()}", headers=EN))
    last = page.split('id="last-figures"')[1].split("</table>")[0]
    assert "¥2,880.00" in last and "¥1,728.00" in last and "60.0%" in last


def test_no_variance_note_before_the_period(app, login, today):
    _submitted(app)
    page = page_text(login("rep.beijing").get(URL, headers=EN))
    assert 'id="variance"' not in page and 'id="actual-so-far"' not in page
    assert login("rep.beijing").post_form(f"{URL}/variance", {"variance_note": "x"}).status_code == 409


# --- languages and the menu ---------------------------------------------------------------------

def test_both_languages_render_the_pages(app, login, today):
    _last_period_plans(app)
    _submitted(app)
    for who, urls in (("rep.beijing", ["/plans/", URL, f"/plans/DL-BJ002/{PERIOD}", "/dashboard"]),
                      ("sup.north", ["/plans/approvals", "/plans/", URL, f"/plans/DL-BJ001/{PREV}", "/dashboard"]),
                      ("finance", ["/plans/", URL]), ("admin", ["/plans/", "/plans/approvals", "/dashboard"]),
                      ("dist.bj", ["/plans/", URL, "/dashboard"])):
        client = login(who)
        for url in urls:
            en, zh = client.get(url, headers=EN), client.get(url, headers=ZH)
            assert en.status_code == zh.status_code == 200, (who, url)
            assert '<html lang="en">' in page_text(en) and '<html lang="zh-CN">' in page_text(zh)
            assert 'href="/plans/"' in page_text(en)  # the menu link
    assert "2026-03 second ten days" in page_text(login("sup.north").get(URL, headers=EN))


def test_the_dashboard_links_the_latest_report(app, login, today, monkeypatch):
    from types import SimpleNamespace

    from channel.plans import reports
    monkeypatch.setattr(reports, "latest_for", lambda user: SimpleNamespace(
        url="/plans/reports/7.pdf", title="华北 2026-03-2 plan versus actual"))
    dash = page_text(login("sup.north").get("/dashboard", headers=EN))
    assert 'id="latest-plan-report"' in dash and 'href="/plans/reports/7.pdf"' in dash
    assert 'id="latest-plan-report"' not in page_text(login("rep.beijing").get("/dashboard", headers=EN))


def test_the_grid_decides_who_drafts_as_the_services_do(app):
    from channel.plans.views import _grid_actor
    with app.app_context():
        for username in ("admin", "finance", "sup.north", "rep.beijing", "merch.tianjin", "dist.bj"):
            who = user(username)
            for a in ps.plannable_accounts(who):
                assert _grid_actor(who, a) == ps.actor(who, a), (username, a.code)
        db.session.remove()
