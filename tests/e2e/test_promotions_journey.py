"""Promotions in a real browser: 华北's supervisor enrols a dealer in a running promotion, 北京's rep
finds it under "my promotions" and reports execution with a photo (the phone camera's file input),
the supervisor sees the thumbnail and verifies the report. And the promotion page and the
calendar on a phone: rows become cards, the calendar a list, nothing scrolls sideways."""
import io
import re
from datetime import timedelta

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from channel.auth.models import User
from channel.extensions import db
from channel.masterdata.models import Account, Product, Region
from channel.plans.services import business_today
from channel.promotions import services as ps
from channel.promotions.models import Enrolment, ExecutionReport, Promotion
from channel.transactions import begin_write

from .conftest import ARTIFACTS
from .test_access import PHONE, no_sideways_scroll

pytestmark = pytest.mark.e2e


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "orange").save(out, "PNG")
    return out.getvalue()


def _promotion(live_server, code):
    """A per-outlet promotion of 华北 running today (made once per code): its id."""
    with live_server.app.app_context():
        found = db.session.execute(select(Promotion.id).where(Promotion.code == code)).scalar_one_or_none()
        if found is None:
            today = business_today()
            finance = db.session.execute(select(User).where(User.username == "finance")).scalar_one()
            north = db.session.execute(select(Region).where(Region.code == "NORTH")).scalar_one()
            product = db.session.execute(select(Product).where(Product.code == "P-W550")).scalar_one()
            begin_write()
            p = ps.create_promotion(ps.PromotionInput(
                code=code, name="铺货奖励 浏览器测试", kind="per_outlet", rate=5_000,
                starts_on=today - timedelta(days=10), ends_on=today + timedelta(days=20),
                product_ids=[product.id], budgets={north.id: 1_000_000}), by=finance)
            ps.publish(p, version=p.version, by=finance)
            db.session.commit()
            found = p.id
        db.session.remove()
    return found


def _switch_user(page, login, username):
    page.wait_for_load_state("networkidle")
    page.context.clear_cookies()
    login(page, username)


def test_enrol_report_with_a_photo_and_verify(page, login, live_server):
    pid = _promotion(live_server, "PR-E2E-ROLL")
    login(page, "sup.north")
    page.locator('#mainnav a[href="/promotions/"]').click()
    expect(page).to_have_url(re.compile(r"/promotions/$"))
    page.locator(f'#promotion-{pid} a').first.click()
    expect(page).to_have_url(re.compile(rf"/promotions/{pid}$"))
    enrol = page.locator("#enrol")
    dealer = live_server.ids["DL-BJ004"]
    enrol.locator("select[name=account_id]").select_option(str(dealer))
    enrol.locator("input[name=target_qty]").fill("200")
    enrol.locator("input[name=target_outlets]").fill("8")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "promotion-enrol.png"), full_page=True)
    page.locator("#enrol-button").click()
    expect(page).to_have_url(re.compile(rf"/promotions/{pid}#enrolment-\d+$"))
    row = page.locator('#progress tr[data-account="DL-BJ004"]')
    expect(row).to_contain_text("0 / 0 / 8")
    with live_server.app.app_context():
        eid = db.session.execute(select(Enrolment.id).where(Enrolment.promotion_id == pid,
                                                            Enrolment.account_id == dealer)).scalar_one()
        db.session.remove()

    _switch_user(page, login, "rep.beijing")
    page.goto("/promotions/")
    mine = page.locator(f"#mine-{eid}")
    expect(mine).to_contain_text("DL-BJ004")
    mine.locator("a.report-button").click()
    expect(page).to_have_url(re.compile(rf"/promotions/{pid}/enrolments/{eid}/report$"))
    expect(page.locator("input[name=executed_on]")).not_to_have_value("")  # today, prefilled
    page.locator("input[name=outlets]").fill("5")
    page.locator("textarea[name=note]").fill("五家门店端架陈列完成")
    page.locator("input[name=photos]").set_input_files([{"name": "shelf.png", "mimeType": "image/png",
                                                          "buffer": _png()}])
    expect(page.locator("[data-photo-names] li")).to_have_count(1)  # promotions.js lists the chosen photo
    page.screenshot(path=str(ARTIFACTS / "promotion-report-form.png"), full_page=True)
    page.locator("#report-button").click()
    expect(page).to_have_url(re.compile(rf"/promotions/{pid}/reports#report-\d+$"))
    with live_server.app.app_context():
        report = db.session.execute(select(ExecutionReport).where(ExecutionReport.enrolment_id == eid)).scalar_one()
        rid, status, photos = report.id, report.status, len(report.photos)
        db.session.remove()
    assert (status, photos) == ("submitted", 1)
    card = page.locator(f"#report-{rid}")
    expect(card).to_contain_text("五家门店端架陈列完成")

    _switch_user(page, login, "sup.north")
    page.goto(f"/promotions/{pid}/reports?status=pending")
    card = page.locator(f"#report-{rid}")
    thumb = card.locator(".photos img")
    expect(thumb).to_be_visible()
    assert thumb.evaluate("img => img.complete && img.naturalWidth") == 64  # the photo itself, served
    page.screenshot(path=str(ARTIFACTS / "promotion-reports.png"), full_page=True)
    card.locator(f"#verify-{rid}").click()
    expect(page).to_have_url(re.compile(rf"/promotions/{pid}/reports\?status=pending#report-{rid}$"))
    expect(page.locator(f"#report-{rid}")).to_have_count(0)  # no longer waiting
    page.goto(f"/promotions/{pid}")
    expect(page.locator('#progress tr[data-account="DL-BJ004"]')).to_contain_text("5 / 5 / 8")
    page.locator(".promotion-links a[href='/promotions/calendar']").click()
    expect(page).to_have_url(re.compile(r"/promotions/calendar$"))
    expect(page.locator('#calendar-grid .cal-bar[data-promotion="PR-E2E-ROLL"]').first).to_be_visible()
    expect(page.locator("#calendar-list")).to_be_hidden()
    page.screenshot(path=str(ARTIFACTS / "promotion-calendar.png"), full_page=True)
    with live_server.app.app_context():
        assert db.session.get(ExecutionReport, rid).status == "verified"
        db.session.remove()


@pytest.mark.parametrize("context_options", [PHONE], ids=["phone"])
def test_the_promotion_page_and_calendar_on_a_phone(page, login, live_server):
    pid = _promotion(live_server, "PR-E2E-PHONE")
    with live_server.app.app_context():
        p = db.session.get(Promotion, pid)
        if not p.enrolments:
            sup = db.session.execute(select(User).where(User.username == "sup.north")).scalar_one()
            account = db.session.execute(select(Account).where(Account.code == "DL-BJ005")).scalar_one()
            begin_write()
            ps.enrol(p, account, target_qty=50, target_outlets=4, by=sup)
            db.session.commit()
        db.session.remove()
    login(page, "sup.north")
    page.goto(f"/promotions/{pid}")
    expect(page.locator("table.progress thead")).to_be_hidden()  # rows become cards
    expect(page.locator('#progress tr[data-account="DL-BJ005"]')).to_be_visible()
    no_sideways_scroll(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "phone-promotion.png"), full_page=True)
    page.goto("/promotions/calendar")
    expect(page.locator("#calendar-grid")).to_be_hidden()
    expect(page.locator('#calendar-list li[data-promotion="PR-E2E-PHONE"]')).to_be_visible()
    no_sideways_scroll(page)
    page.screenshot(path=str(ARTIFACTS / "phone-promotion-calendar.png"), full_page=True)
    page.goto("/promotions/")
    no_sideways_scroll(page)
    rep_page = f"/promotions/{pid}/reports"
    page.goto(rep_page)
    no_sideways_scroll(page)
