"""Expense claims in a real browser: 北京's rep claims a train ticket with a photo of it and
submits; 华北's supervisor opens it from the approval queue, looks at the receipt and approves;
finance pays it from the payment queue. And the claim page on a phone."""
import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from channel.core.periods import Month
from channel.expenses import services as es
from channel.expenses.models import ExpenseClaim
from channel.extensions import db
from tests.ledger import user, written

from .conftest import ARTIFACTS
from .test_access import PHONE, no_sideways_scroll

pytestmark = pytest.mark.e2e


def _claim(live_server, claim_id):
    with live_server.app.app_context():
        c = db.session.get(ExpenseClaim, claim_id)
        values = (c.status, c.claimed_fen, c.approved_fen, c.paid_fen, c.number)
        db.session.remove()
    return values


def _shows_image(page, size):
    """The page shows an image of this size (a receipt opened in its own tab)."""
    expect(page.locator("img")).to_have_count(1)
    page.wait_for_function("document.images.length === 1 && document.images[0].complete")
    assert page.evaluate("[document.images[0].naturalWidth, document.images[0].naturalHeight]") == list(size)


def _switch_user(page, login, username):
    """Log in as another user once the current page is done: a request still in flight (a
    receipt thumbnail) would bring the old session cookie back after it was cleared."""
    page.wait_for_load_state("networkidle")
    page.context.clear_cookies()
    login(page, username)


def test_a_claim_from_receipt_to_payment(page, login, live_server, tmp_path):
    login(page, "rep.beijing")
    page.goto("/expenses/")
    page.locator("#new-claim").click()
    expect(page).to_have_url(re.compile(r"/expenses/new$"))
    page.locator("input[name=title]").fill("北京经销商拜访（浏览器）")
    page.locator("#create-claim").click()
    expect(page).to_have_url(re.compile(r"/expenses/\d+$"))
    claim_id = int(page.url.rsplit("/", 1)[1])

    form = page.locator("#add-line form")
    category = form.locator("select[name=category]")
    expect(form.locator("[data-accommodation]")).to_be_hidden()  # expenses.js: only for accommodation
    category.select_option("accommodation")
    expect(form.locator("[data-accommodation]")).to_be_visible()
    category.select_option("travel")
    expect(form.locator("[data-accommodation]")).to_be_hidden()
    form.locator("input[name=amount]").fill("268.50")
    form.locator("input[name=description]").fill("高铁 北京南—天津")
    page.locator("#add-line-button").click()
    row = page.locator("table.claim-lines tbody tr").first
    expect(row).to_contain_text("¥268.50")
    expect(row).to_contain_text("高铁 北京南—天津")

    photo = tmp_path / "高铁票.png"
    Image.new("RGB", (60, 40), "white").save(photo, "PNG")
    row.locator("input[type=file]").set_input_files(str(photo))
    row.locator("form.upload button[type=submit]").click()
    link = page.locator("a.receipt-link", has_text="高铁票.png")
    expect(link).to_be_visible()
    thumb = page.locator(".receipt a.thumb img")
    expect(thumb).to_be_visible()
    page.wait_for_function("document.querySelector('.receipt a.thumb img').complete")
    assert thumb.evaluate("img => img.naturalWidth") == 60
    page.locator("#submit-button").click()
    expect(page.locator("#submit-button")).to_have_count(0)
    status, claimed, _, _, number = _claim(live_server, claim_id)
    assert (status, claimed) == ("submitted", 26850)

    # The supervisor: from the queue to the claim, the receipt opened, approved.
    _switch_user(page, login, "sup.north")
    page.goto("/expenses/approvals")
    page.screenshot(path=str(ARTIFACTS / "expense-approvals.png"), full_page=True)
    queued = page.locator(f"tr#claim-{claim_id}")
    expect(queued).to_contain_text("高峰")
    queued.get_by_role("link", name=number).click()
    expect(page).to_have_url(re.compile(rf"/expenses/{claim_id}$"))
    expect(page.locator("#budget table")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "expense-approval.png"), full_page=True)
    with page.expect_popup() as popup_info:
        page.locator("a.receipt-link", has_text="高铁票.png").click()
    receipt = popup_info.value
    receipt.wait_for_load_state()
    assert re.search(rf"/expenses/{claim_id}/receipts/\d+$", receipt.url)
    _shows_image(receipt, (60, 40))
    response = page.request.get(receipt.url)
    assert response.status == 200 and response.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(response.body())).size == (60, 40)
    receipt.close()
    if page.locator("#over-budget").count():  # the demo month's budget may be used up already
        page.locator("textarea[name=override_reason]").fill("拜访计划内，预算超支已报备")
    page.locator("textarea[name=comment]").fill("同意")
    page.locator("#approve-button").click()
    expect(page).to_have_url(re.compile(rf"/expenses/{claim_id}$"))
    expect(page.locator("#approve-button")).to_have_count(0)
    assert _claim(live_server, claim_id)[:3] == ("approved", 26850, 26850)

    # Finance pays from the queue.
    _switch_user(page, login, "finance")
    page.goto("/expenses/payments")
    row = page.locator(f"tr#claim-{claim_id}")
    expect(row).to_contain_text("¥268.50")
    row.locator("input[name=reference]").fill("WY-20261125-01")
    row.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/expenses/payments$"))
    expect(page.locator(f"tr#claim-{claim_id}")).to_have_count(0)
    assert _claim(live_server, claim_id)[:4] == ("paid", 26850, 26850, 26850)
    page.goto(f"/expenses/{claim_id}")
    expect(page.locator("#paid-total")).to_have_text("¥268.50")
    expect(page.locator("#history li")).to_have_count(4)  # created, submitted, approved, paid


def _draft(live_server, username="rep.beijing"):
    """A draft of this month with a meal line over the daily cap, made through the services."""
    with live_server.app.app_context():
        def make():
            today = es.business_today()
            claim = es.create_claim(user(username), month=Month.of(today), title="手机端测试 phone check")
            es.add_line(claim, es.LineInput(today, "meal", 12000, "客户拜访 午餐"), by=user(username))
            es.add_line(claim, es.LineInput(today, "accommodation", 45000, "如家 一晚", nights=1, city_tier=2),
                        by=user(username))
            return claim.id
        claim_id = written(make)
        db.session.remove()
    return claim_id


@pytest.mark.parametrize("context_options", [PHONE], ids=["phone"])
def test_the_claim_form_on_a_phone(page, login, live_server):
    claim_id = _draft(live_server)
    login(page, "rep.beijing")
    page.goto(f"/expenses/{claim_id}")
    expect(page.locator("table.claim-lines thead")).to_be_hidden()  # lines become cards
    expect(page.locator("table.claim-lines tbody tr.flagged")).to_have_count(2)  # both over a cap
    expect(page.locator("#add-line-button")).to_be_visible()
    no_sideways_scroll(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "phone-expense-claim.png"), full_page=True)
    page.locator("#add-line select[name=category]").select_option("accommodation")
    expect(page.locator("#add-line [data-accommodation]")).to_be_visible()
    no_sideways_scroll(page)
    page.locator("#submit-button").tap()
    expect(page.locator("#submit-button")).to_have_count(0)

    _switch_user(page, login, "sup.north")  # the approver's view, cut inputs and budget panel, on the phone too
    page.goto(f"/expenses/{claim_id}")
    expect(page.locator("#approve-button")).to_be_visible()
    expect(page.locator("td.cut input.cut-amount")).to_have_count(2)
    no_sideways_scroll(page)
    page.screenshot(path=str(ARTIFACTS / "phone-expense-approval.png"), full_page=True)
    with live_server.app.app_context():
        assert db.session.execute(select(ExpenseClaim.status).where(ExpenseClaim.id == claim_id)).scalar_one() \
            == "submitted"
        db.session.remove()
