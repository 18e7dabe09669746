"""Ten-day plans in a real browser: 北京's rep opens the planning grid for the coming period, fills
in the plan of an account that has none (adds a line and sees its amount computed), submits it;
华北's supervisor approves it from the approvals list. And the grid and a plan on a phone."""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from channel.extensions import db
from channel.masterdata.models import Account
from channel.plans import services as ps
from channel.plans.models import Plan

from .conftest import ARTIFACTS
from .test_access import PHONE, no_sideways_scroll

pytestmark = pytest.mark.e2e


def _plan(live_server, code, period):
    """(status, [(product code, quantity, unit price fen)], payment fen) of the plan, or None."""
    with live_server.app.app_context():
        plan = db.session.execute(select(Plan).join(Account, Plan.account_id == Account.id).where(
            Account.code == code, Plan.period == period)).scalar_one_or_none()
        values = None if plan is None else (
            plan.status, [(ln.product.code, ln.quantity, ln.unit_price_fen) for ln in plan.lines], plan.payment_fen)
        db.session.remove()
    return values


def _coming(live_server):
    with live_server.app.app_context():
        return ps.coming_period()


def _switch_user(page, login, username):
    page.wait_for_load_state("networkidle")
    page.context.clear_cookies()
    login(page, username)


def test_a_plan_from_the_grid_to_approval(page, login, live_server):
    period = _coming(live_server)
    login(page, "rep.beijing")
    page.locator('#mainnav a[href="/plans/"]').click()
    expect(page).to_have_url(re.compile(r"/plans/$"))
    expect(page.locator("h1")).to_contain_text(str(period.month))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "plans-grid.png"), full_page=True)
    row = page.locator("table.plan-grid tbody tr[data-status=none]").first
    expect(row).to_be_visible()
    code = row.get_attribute("id").removeprefix("row-")
    row.locator("td.row-actions a").click()
    expect(page).to_have_url(re.compile(rf"/plans/{re.escape(code)}/{period}$"))

    editor = page.locator("[data-lines]")
    before = editor.locator("tr[data-line]").count()
    page.locator("#add-line").click()  # ledger.js: a new row
    expect(editor.locator("tr[data-line]")).to_have_count(before + 1)
    new = editor.locator("tr[data-line]").last
    # A product not on the plan yet (the form may start from last period's lines).
    taken = editor.locator("select[data-product]").evaluate_all("els => els.map(e => e.value)")
    choice = new.locator("select[data-product] option").evaluate_all(
        "(opts, taken) => opts.map(o => o.value).filter(v => v && !taken.includes(v))[0]", taken)
    new.locator("select[data-product]").select_option(choice)
    price = new.locator("[data-unit-price]")
    expect(price).not_to_have_value("")  # prefilled from the list price
    price.fill("28.80")
    new.locator("[data-quantity]").fill("10")
    expect(new.locator("[data-amount]")).to_have_text("¥288.00")
    expect(page.locator("#lines-total")).not_to_have_text("—")
    page.locator("input[name=payment]").fill("1000.00")
    page.locator("input[name=payment_on]").fill(period.start.isoformat())
    page.screenshot(path=str(ARTIFACTS / "plan-form.png"), full_page=True)
    page.locator("#submit-button").click()
    expect(page).to_have_url(re.compile(rf"/plans/{re.escape(code)}/{period}$"))
    expect(page.locator("#plan-status .plan-status")).to_have_attribute("data-status", "submitted")
    status, lines, paid = _plan(live_server, code, str(period))
    assert status == "submitted" and paid == 100000 and (lines[-1][1], lines[-1][2]) == (10, 2880)

    _switch_user(page, login, "sup.north")
    page.goto("/plans/approvals")
    with live_server.app.app_context():
        plan_id = db.session.execute(select(Plan.id).join(Account, Plan.account_id == Account.id).where(
            Account.code == code, Plan.period == str(period))).scalar_one()
        db.session.remove()
    queued = page.locator(f"tr#plan-{plan_id}")
    expect(queued).to_contain_text(code)
    page.screenshot(path=str(ARTIFACTS / "plan-approvals.png"), full_page=True)
    queued.locator(f"#approve-{plan_id}").click()
    expect(page).to_have_url(re.compile(r"/plans/approvals$"))
    expect(page.locator(f"tr#plan-{plan_id}")).to_have_count(0)
    assert _plan(live_server, code, str(period))[0] == "approved"
    page.goto(f"/plans/{code}/{period}")
    expect(page.locator("#history li")).to_have_count(3)  # created, submitted, approved


@pytest.mark.parametrize("context_options", [PHONE], ids=["phone"])
def test_the_grid_and_a_plan_on_a_phone(page, login, live_server):
    login(page, "rep.beijing")
    page.goto("/plans/")
    expect(page.locator("table.plan-grid thead")).to_be_hidden()  # rows become cards
    expect(page.locator("table.plan-grid tbody tr").first).to_be_visible()
    no_sideways_scroll(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "phone-plans-grid.png"), full_page=True)
    page.locator("table.plan-grid tbody tr td.account a").first.tap()
    expect(page).to_have_url(re.compile(r"/plans/[^/]+/\d{4}-\d{2}-\d$"))
    no_sideways_scroll(page)
    page.screenshot(path=str(ARTIFACTS / "phone-plan.png"), full_page=True)
