"""One journey per role: / → login form → dashboard and the role's own menu → a page of its own
data → switch language in the top bar → log out."""
import re

import openpyxl
import pytest
from playwright.sync_api import expect

from channel.demo import DEALERS, DISTRIBUTORS

from .conftest import ARTIFACTS

pytestmark = pytest.mark.e2e

# The menu by address, so that it holds in either language.
ALL_LINKS = ["/dashboard", "/accounts", "/regions", "/products", "/ageing", "/periods", "/reconciliation/", "/reports/",
             "/imports/", "/admin/users", "/admin/audit", "/system/schedules",
             "/expenses/", "/expenses/claims", "/expenses/payments", "/plans/", "/meetings/", "/promotions/"]
# The dashboard link in both languages (channel/translations/zh_CN/LC_MESSAGES/messages.po).
DASHBOARD = {"en": "Dashboard", "zh-CN": "工作台"}


def nav_link(page, href):
    return page.locator(f'#mainnav a[href="{href}"]')


def check_menu(page, *, present):
    for href in ALL_LINKS:
        expect(nav_link(page, href)).to_have_count(1 if href in present else 0)


def check_language(page, lang):
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(nav_link(page, "/dashboard")).to_have_text(DASHBOARD[lang])
    other = "en" if lang == "zh-CN" else "zh-CN"
    expect(nav_link(page, "/dashboard")).not_to_have_text(DASHBOARD[other])


def switch_language(page):
    """English, then 中文, with the buttons in the top bar: each time the same page comes back."""
    path = re.sub(r"^https?://[^/]+", "", page.url).rstrip("?")
    same_page = re.compile(re.escape(path) + r"\??$")
    heading = page.locator("h1").inner_text()
    for button, lang in (("English", "en"), ("中文", "zh-CN")):
        page.locator("header.topbar form.lang").get_by_role("button", name=button).click()
        expect(page).to_have_url(same_page)
        check_language(page, lang)
        expect(page.locator("header.topbar form.lang button.active")).to_have_text(button)
    expect(page.locator("h1")).to_have_text(heading)  # back in Chinese: the page as it was


def logout(page):
    page.locator('#mainnav form[action="/logout"] button[type=submit]').click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator("input[name=password]")).to_be_visible()
    expect(page.locator(".flash-info")).to_be_visible()  # "You have logged out."
    expect(page.locator("#mainnav")).to_have_count(0)
    page.goto("/dashboard")  # the session is really gone
    expect(page).to_have_url(re.compile(r"/login\?next="))


def check_dashboard(page, full_name):
    expect(page.locator("h1")).to_contain_text(full_name)
    expect(page.locator("#mainnav .whoami")).to_contain_text(full_name)
    expect(nav_link(page, "/dashboard")).to_have_class(re.compile(r"\bactive\b"))


def test_admin(page, login, live_server):
    login(page, "admin")
    check_dashboard(page, "系统管理员")
    check_menu(page, present=[link for link in ALL_LINKS if link not in ("/expenses/", "/expenses/payments")])
    expect(page.locator(".tiles .tile")).to_have_count(4)

    nav_link(page, "/admin/users").click()
    expect(page).to_have_url(re.compile(r"/admin/users$"))
    expect(nav_link(page, "/admin/users")).to_have_class(re.compile(r"\bactive\b"))
    rows = page.locator("table.list tbody tr")
    expect(rows).to_have_count(16)
    rows.locator("a", has_text=re.compile(r"^sup\.north$")).click()
    expect(page).to_have_url(re.compile(rf"/admin/users/{live_server.ids['sup.north']}$"))
    expect(page.locator("h1")).to_contain_text("马国栋")
    expect(page.locator("dl.facts")).to_contain_text("华北区")

    switch_language(page)
    logout(page)


def test_finance(page, login, tmp_path):
    login(page, "finance")
    check_dashboard(page, "林晓梅")
    check_menu(page, present=["/dashboard", "/accounts", "/regions", "/products", "/ageing", "/periods",
                              "/reconciliation/", "/reports/", "/imports/", "/expenses/payments", "/plans/",
                              "/meetings/", "/promotions/"])

    nav_link(page, "/accounts").click()
    expect(page).to_have_url(re.compile(r"/accounts$"))
    expect(page.locator("table.list tbody tr")).to_have_count(25)  # the first page
    with page.expect_download() as info:
        page.locator(".exports a", has_text="Excel").click()
    download = info.value
    assert download.suggested_filename == "accounts.xlsx"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.read_bytes()[:2] == b"PK"  # a zip container, as xlsx is
    wb = openpyxl.load_workbook(saved, read_only=True)
    rows = list(wb.active.iter_rows(values_only=True))
    wb.close()
    assert len(rows) == 1 + len(DISTRIBUTORS) + len(DEALERS)  # the header and every account
    assert len(rows[0]) == 11 and all(rows[0])
    codes = [r[0] for r in rows[1:]]
    assert codes == sorted(d[0] for d in DISTRIBUTORS + DEALERS)
    bj = next(r for r in rows if r[0] == "GD-BJ01")
    assert bj[1] == "北京鑫源商贸有限公司" and float(bj[8]) == 800_000

    switch_language(page)
    logout(page)


def test_supervisor(page, login, live_server):
    login(page, "sup.north")
    check_dashboard(page, "马国栋")
    check_menu(page, present=["/dashboard", "/accounts", "/regions", "/products", "/ageing", "/reconciliation/",
                              "/reports/", "/expenses/", "/plans/", "/meetings/", "/promotions/"])
    distributors = page.locator(".grid.two section.card").first.locator("table.list tbody tr")
    expect(distributors).to_have_count(2)  # only the north: Beijing and Tianjin
    expect(distributors).to_contain_text(["北京鑫源商贸有限公司", "天津恒通商贸有限公司"])
    expect(page.locator("main")).not_to_contain_text("上海沪联贸易有限公司")
    expect(page.locator("main")).to_contain_text("高峰")  # the region's field staff
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "supervisor-dashboard.png"), full_page=True)

    distributors.get_by_role("link", name="北京鑫源商贸有限公司").click()
    expect(page).to_have_url(re.compile(rf"/accounts/{live_server.ids['GD-BJ01']}$"))
    expect(page.locator("h1")).to_contain_text("GD-BJ01")
    dealers = page.locator("section.card table.list tbody tr")
    expect(dealers).to_have_count(6)
    expect(page.locator(".titlebar a.button")).to_have_count(1)  # may edit the customer file

    switch_language(page)
    logout(page)


def test_field_staff(page, login, live_server):
    login(page, "rep.beijing")
    check_dashboard(page, "高峰")
    check_menu(page, present=["/dashboard", "/accounts", "/regions", "/products", "/ageing", "/expenses/", "/plans/",
                              "/meetings/", "/promotions/"])

    nav_link(page, "/accounts").click()
    rows = page.locator("table.list tbody tr")
    expect(rows).to_have_count(7)  # Beijing: the distributor and its six dealers
    expect(page.locator("table.list")).not_to_contain_text("DL-TJ001")
    rows.get_by_role("link", name="DL-BJ002").click()
    expect(page).to_have_url(re.compile(rf"/accounts/{live_server.ids['DL-BJ002']}$"))
    expect(page.locator("h1")).to_contain_text("海淀万家超市")
    expect(page.locator(".titlebar a.button")).to_have_count(0)  # reads, does not edit

    switch_language(page)
    logout(page)


def test_distributor(page, login, live_server):
    login(page, "dist.bj")
    check_dashboard(page, "王建国")
    check_menu(page, present=["/dashboard", "/accounts", "/products", "/reconciliation/", "/reports/", "/imports/",
                              "/plans/", "/meetings/", "/promotions/"])
    expect(page.locator(".tiles")).to_have_count(0)  # no company-wide figures
    expect(page.locator("main table.list tbody tr")).to_have_count(6)  # its own dealers

    page.locator("dl.facts a", has_text="北京鑫源商贸有限公司").click()
    expect(page).to_have_url(re.compile(rf"/accounts/{live_server.ids['GD-BJ01']}$"))
    expect(page.locator("h1")).to_contain_text("GD-BJ01")
    dealers = page.locator("section.card table.list tbody tr")
    expect(dealers).to_have_count(6)
    dealers.get_by_role("link", name="DL-BJ003").click()
    expect(page).to_have_url(re.compile(rf"/accounts/{live_server.ids['DL-BJ003']}$"))
    expect(page.locator("h1")).to_contain_text("丰台鑫旺批发部")
    expect(page.locator("dl.facts a", has_text="北京鑫源商贸有限公司")).to_be_visible()  # supplier
    expect(page.locator(".titlebar a.button")).to_have_count(0)

    switch_language(page)
    logout(page)
