"""Finance in a real browser: a shipment of two lines through the form (the script adds the
second row, prefills the list price and keeps the total live), the ledger shows it, it is
reversed (红冲); and the ledger pages fit a phone. The demo company here has a year of history."""
import re

import pytest
from playwright.sync_api import expect

from .conftest import ARTIFACTS

pytestmark = pytest.mark.e2e

PHONE = {"locale": "zh-CN", "viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}


def option_value(select, code):
    """The value of the product option whose text starts with the product code."""
    return select.locator("option", has_text=re.compile(rf"^{re.escape(code)} ")).get_attribute("value")


def fill_line(row, code, quantity, price=None):
    select = row.locator("select[data-product]")
    select.select_option(option_value(select, code))
    if price is not None:
        row.locator("input[data-unit-price]").fill(price)
    row.locator("input[data-quantity]").fill(quantity)


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_finance_posts_a_shipment_with_two_lines_and_reverses_it(page, login, live_server):
    account_id = live_server.ids["GD-BJ01"]
    login(page, "finance")
    page.goto(f"/accounts/{account_id}")
    page.locator(".titlebar a", has_text="台帐").click()
    expect(page).to_have_url(re.compile(rf"/accounts/{account_id}/ledger$"))
    expect(page.locator("h1")).to_contain_text("北京鑫源商贸有限公司")
    shot(page, "ledger-desktop.png")

    page.locator(".post-buttons a", has_text="发货单").click()
    expect(page).to_have_url(re.compile(rf"/accounts/{account_id}/documents/new/shipment$"))
    rows = page.locator("tr[data-line]")
    expect(rows).to_have_count(1)  # the script keeps only the rows in use
    add = page.locator("[data-add-line]")
    expect(add).to_be_visible()
    total = page.locator("output[data-total]")
    expect(total).to_have_text("¥0.00")

    fill_line(rows.nth(0), "P-W550", "10")
    expect(rows.nth(0).locator("input[data-unit-price]")).to_have_value("28.80")  # the list price
    expect(rows.nth(0).locator("output[data-amount]")).to_have_text("¥288.00")
    expect(total).to_have_text("¥288.00")

    add.click()
    expect(rows).to_have_count(2)
    expect(rows.nth(1).locator("[data-line-no]")).to_have_text("2")
    fill_line(rows.nth(1), "P-GT500", "2")
    expect(rows.nth(1).locator("input[data-unit-price]")).to_have_value("45.00")
    expect(total).to_have_text("¥378.00")
    rows.nth(1).locator("input[data-unit-price]").fill("44.00")  # an agreed price
    expect(rows.nth(1).locator("output[data-amount]")).to_have_text("¥88.00")
    expect(total).to_have_text("¥376.00")

    add.click()  # a third row, then removed again
    expect(rows).to_have_count(3)
    fill_line(rows.nth(2), "P-CL330", "1")
    expect(total).to_have_text("¥428.80")
    rows.nth(2).locator("[data-remove-line]").click()
    expect(rows).to_have_count(2)
    expect(total).to_have_text("¥376.00")
    page.locator("input[name=memo]").fill("浏览器录入测试")
    shot(page, "shipment-form-desktop.png")

    page.get_by_role("button", name="过账").click()
    expect(page).to_have_url(re.compile(r"/documents/FH-\d{4}-\d{6}$"))
    number = page.url.rsplit("/", 1)[1]
    expect(page.locator(".flash-success")).to_have_text(f"已过账 {number}")
    lines = page.locator("section.card table.list tbody tr")
    expect(lines).to_have_count(3)  # two lines and the total
    expect(lines.nth(0)).to_contain_text("P-W550")
    expect(lines.nth(1)).to_contain_text("¥88.00")
    expect(lines.nth(2)).to_contain_text("¥376.00")

    page.locator(".titlebar a", has_text="台帐").click()
    row = page.locator("table.ledger tbody tr", has=page.locator(f'a[href="/documents/{number}"]'))
    expect(row).to_have_count(1)
    expect(row.locator('td[data-label="借方"]')).to_have_text("¥376.00")
    expect(row).to_contain_text("浏览器录入测试")

    row.locator(f'a[href="/documents/{number}"]').click()
    page.locator("input[name=reason]").fill("数量录入错误")
    page.once("dialog", lambda dialog: dialog.accept())  # "确定红冲 ...吗？"
    page.get_by_role("button", name="红冲", exact=True).click()
    expect(page).to_have_url(re.compile(r"/documents/FH-\d{4}-\d{6}$"))
    reversal = page.url.rsplit("/", 1)[1]
    assert reversal != number
    expect(page.locator(".flash-success")).to_contain_text(f"已过账红冲单 {reversal}")
    expect(page.locator("main")).to_contain_text(f"此单据红冲了 {number}")
    expect(page.locator("form[action$='/reverse']")).to_have_count(0)

    page.locator(".titlebar a", has_text="台帐").click()
    original = page.locator("table.ledger tbody tr", has=page.locator(f'a[href="/documents/{number}"]'))
    expect(original.first).to_contain_text(f"已被红冲： {reversal}")
    undo = page.locator("table.ledger tbody tr", has_text=reversal).last
    expect(undo.locator('td[data-label="贷方"]')).to_have_text("¥376.00")


@pytest.mark.parametrize("context_options", [PHONE], ids=["phone"])
def test_ledger_pages_fit_a_phone(page, login, live_server):
    account_id = live_server.ids["GD-BJ01"]
    login(page, "finance")
    for path, name in ((f"/accounts/{account_id}/ledger", "ledger-phone.png"),
                       (f"/accounts/{account_id}/statement", "statement-phone.png"),
                       (f"/accounts/{account_id}/documents/new/shipment", "shipment-form-phone.png"),
                       ("/ageing", "ageing-phone.png"), ("/periods", "periods-phone.png")):
        page.goto(path)
        if "shipment" in path:
            fill_line(page.locator("tr[data-line]").nth(0), "P-W550", "10")
            page.locator("[data-add-line]").tap()
            fill_line(page.locator("tr[data-line]").nth(1), "P-GT500", "2", "44.00")
            expect(page.locator("output[data-total]")).to_have_text("¥376.00")
        else:
            expect(page.locator("table.list thead").first).to_be_hidden()  # rows are cards
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width}px wide on a 390px phone"
        shot(page, name)
    page.set_viewport_size({"width": 1280, "height": 800})
    for path, name in ((f"/accounts/{account_id}/statement", "statement-desktop.png"),
                       ("/ageing", "ageing-desktop.png"), ("/periods", "periods-desktop.png")):
        page.goto(path)
        shot(page, name)
