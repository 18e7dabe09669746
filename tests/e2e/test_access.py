"""What a browser may not see, a wrong password, and the phone layout."""
import re

import pytest
from playwright.sync_api import expect

from .conftest import ARTIFACTS

pytestmark = pytest.mark.e2e

REFUSED_LOG = re.compile(r"^Failed to load resource: .*\b40[34]\b")


def test_distributor_cannot_open_another_distributors_accounts(page, login, live_server,
                                                               console_errors):
    login(page, "dist.bj")
    for code, name in (("GD-TJ01", "天津恒通商贸有限公司"), ("DL-TJ001", "和平区利民超市")):
        response = page.goto(f"/accounts/{live_server.ids[code]}")
        assert response.status == 404
        expect(page.locator("main h1 small")).to_have_text("404")
        expect(page.locator("main")).not_to_contain_text(name)
        expect(page.locator("main")).not_to_contain_text(code)
    for path in ("/regions", "/admin/users", "/admin/audit"):  # features it does not have
        assert page.goto(path).status == 403
        expect(page.locator("main h1 small")).to_have_text("403")
    # its own account still opens in the same session
    response = page.goto(f"/accounts/{live_server.ids['GD-BJ01']}")
    assert response.status == 200
    expect(page.locator("h1")).to_contain_text("北京鑫源商贸有限公司")
    # Chromium logs every 4xx document in the console: expected here, nothing else is.
    console_errors[:] = [e for e in console_errors if not REFUSED_LOG.search(e)]


@pytest.mark.parametrize("context_options", [{"locale": "en-US"}], ids=["en"])
def test_wrong_password_stays_on_login_page(page, console_errors):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.locator("input[name=username]").fill("merch.tianjin")
    page.locator("input[name=password]").fill("not-the-password")
    with page.expect_response(re.compile(r"/login$")) as info:
        page.get_by_role("button", name="Log in").click()
    assert info.value.status == 422
    expect(page).to_have_url(re.compile(r"/login$"))
    error = page.locator(".field.has-error .error")
    expect(error).to_have_text("Wrong username or password.")
    expect(page.locator("input[name=password]")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("input[name=password]")).to_have_value("")
    expect(page.locator("input[name=username]")).to_have_value("merch.tianjin")
    expect(page.locator("#mainnav")).to_have_count(0)
    console_errors[:] = [e for e in console_errors if not re.search(r"\b422\b", e)]


PHONE = {"locale": "zh-CN", "viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}


def no_sideways_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px phone"


@pytest.mark.parametrize("context_options", [PHONE], ids=["phone"])
def test_phone_menu(page, login):
    login(page, "sup.north")
    toggle = page.locator("button.nav-toggle")
    nav = page.locator("#mainnav")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()
    no_sideways_scroll(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "phone-dashboard.png"), full_page=True)

    toggle.tap()
    expect(nav).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(nav.locator('a[href="/regions"]')).to_be_visible()
    expect(nav.locator('form[action="/logout"] button')).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "phone-menu-open.png"))

    nav.locator('a[href="/accounts"]').tap()  # a link in the opened menu works
    expect(page).to_have_url(re.compile(r"/accounts$"))
    expect(nav).to_be_hidden()  # the new page starts with the menu folded
    expect(page.locator("table.list thead")).to_be_hidden()  # rows become cards
    no_sideways_scroll(page)
    page.screenshot(path=str(ARTIFACTS / "phone-accounts.png"))
    toggle.tap()
    expect(nav).to_be_visible()
    toggle.tap()
    expect(nav).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
