"""Monthly meetings in a real browser: 华北's supervisor schedules a meeting for 北京 (every account
ticked with meetings.js), adds a market item, sets an account's target for the month, raises an
action item for the Beijing rep, marks the meeting as held and publishes the minutes. And the
meeting pages on a phone, without sideways scroll."""
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from channel.extensions import db
from channel.masterdata.models import Region
from channel.meetings import services as ms
from channel.meetings.models import Meeting

from .conftest import ARTIFACTS
from .test_access import PHONE, no_sideways_scroll

pytestmark = pytest.mark.e2e


def _today(live_server):
    with live_server.app.app_context():
        return ms.business_today()


def _region_id(live_server, code):
    with live_server.app.app_context():
        found = db.session.execute(select(Region.id).where(Region.code == code)).scalar_one()
        db.session.remove()
    return found


def _meeting(live_server, meeting_id):
    with live_server.app.app_context():
        m = db.session.get(Meeting, meeting_id)
        out = {"status": m.status, "region": m.region.code, "agenda": [(a.kind, a.title) for a in m.agenda],
               "targets": {t.account_id: (t.shipment_fen, t.payment_fen) for t in m.targets},
               "items": [(i.title, i.owner.username) for i in m.action_items],
               "invited": len(m.accounts)}
        db.session.remove()
    return out


def test_a_meeting_from_scheduling_to_published_minutes(page, login, live_server):
    today = _today(live_server)
    bj = _region_id(live_server, "BJ")
    login(page, "sup.north")
    page.locator('#mainnav a[href="/meetings/"]').click()
    expect(page).to_have_url(re.compile(r"/meetings/$"))
    expect(page.locator("#regions-without-meeting")).to_contain_text("天津")  # the demo's missing one
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "meetings-list.png"), full_page=True)

    page.locator("#schedule-meeting").click()
    expect(page).to_have_url(re.compile(r"/meetings/new$"))
    page.locator(".region-picker select[name=region]").select_option(str(bj))  # meetings.js sends it
    expect(page).to_have_url(re.compile(rf"/meetings/new\?region={bj}$"))
    expect(page.locator("h1")).to_contain_text("北京")
    page.locator("[data-check=all]").click()
    expect(page.locator("input[name=accounts]:not(:checked)")).to_have_count(0)
    page.locator("input[name=meeting_date]").fill(today.isoformat())
    page.locator("input[name=meeting_time]").fill("15:30")
    page.locator("input[name=place]").fill("北京办事处三楼会议室")
    page.locator("input[name=title]").fill("北京经销商补充会议")
    page.locator(f'input[name=staff][value="{live_server.ids["rep.beijing"]}"]').check()
    page.screenshot(path=str(ARTIFACTS / "meeting-form.png"), full_page=True)
    page.locator("#save-meeting").click()
    expect(page).to_have_url(re.compile(r"/meetings/\d+$"))
    meeting_id = int(page.url.rsplit("/", 1)[1])
    expect(page.locator("h1")).to_contain_text("北京经销商补充会议")

    # A market item (the promotion picker is only for policy items).
    page.locator("#add-agenda summary").click()
    page.locator("select[name=kind]").select_option("market")
    promotion_field = page.locator("[data-promotion-field]")
    if promotion_field.count():
        expect(promotion_field).to_be_hidden()
        page.locator("select[name=kind]").select_option("policy")
        expect(promotion_field).to_be_visible()
        page.locator("select[name=kind]").select_option("market")
    page.locator("input[name=agenda_title]").fill("竞品降价五个点")
    page.locator("textarea[name=body]").fill("朝阳区两家超市康师傅绿茶买五送一")
    page.locator("#add-agenda-button").click()
    expect(page.locator("#agenda ol.agenda-items")).to_contain_text("竞品降价五个点")

    # A target: the first account whose month target was not set at another meeting.
    row = page.locator("table.targets-grid tbody tr:has(input)").first
    account_id = int(row.get_attribute("id").removeprefix("target-"))
    row.locator("input[name^=ship-]").fill("30000.00")
    row.locator("input[name^=pay-]").fill("25000")
    page.locator("#save-targets").click()
    expect(page).to_have_url(re.compile(rf"/meetings/{meeting_id}#targets$"))
    expect(page.locator(f"#target-{account_id} input[name^=ship-]")).to_have_value("30000.00")

    # A problem raised: an action item for the Beijing rep.
    page.locator("#raise-item summary").click()
    page.locator("input[name=item_title]").fill("补发破损货品")
    page.locator("select[name=owner_id]").select_option(str(live_server.ids["rep.beijing"]))
    page.locator("input[name=due_on]").fill((today + timedelta(days=7)).isoformat())
    page.locator("#raise-item-button").click()
    expect(page.locator("#items table.action-items")).to_contain_text("补发破损货品")
    expect(page.locator("#items table.action-items")).to_contain_text("高峰")
    page.screenshot(path=str(ARTIFACTS / "meeting-planned.png"), full_page=True)

    # Held, then the minutes published (the button asks first).
    page.locator("#hold-button").click()
    expect(page.locator("#meeting-status .meeting-status")).to_have_attribute("data-status", "held")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#publish-button").click()
    expect(page.locator("#meeting-status .meeting-status")).to_have_attribute("data-status", "published")
    expect(page.locator("#targets-form")).to_have_count(0)
    expect(page.locator("#targets table.targets")).to_contain_text("¥30,000.00")
    page.screenshot(path=str(ARTIFACTS / "meeting-published.png"), full_page=True)

    m = _meeting(live_server, meeting_id)
    assert m["status"] == "published" and m["region"] == "BJ" and m["invited"] >= 7
    assert m["agenda"] == [("market", "竞品降价五个点")]
    assert m["targets"] == {account_id: (3_000_000, 2_500_000)}
    assert m["items"] == [("补发破损货品", "rep.beijing")]


@pytest.mark.parametrize("context_options", [PHONE], ids=["phone"])
def test_the_meeting_pages_on_a_phone(page, login, live_server):
    login(page, "sup.east")
    page.goto("/meetings/")
    expect(page.locator("table.meetings thead")).to_be_hidden()  # rows become cards
    no_sideways_scroll(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "phone-meetings.png"), full_page=True)
    # A meeting still to be run (its forms open), else the latest one.
    planned = page.locator("table.meetings tbody tr:has([data-status=planned]) td a")
    (planned.first if planned.count() else page.locator("table.meetings tbody tr td a").first).tap()
    expect(page).to_have_url(re.compile(r"/meetings/\d+$"))
    for summary in page.locator("details.add-form summary").all():
        summary.tap()
    no_sideways_scroll(page)
    page.screenshot(path=str(ARTIFACTS / "phone-meeting.png"), full_page=True)
    page.goto("/meetings/items?status=all")
    for summary in page.locator("td.follow-up details summary").all()[:3]:
        summary.tap()
    no_sideways_scroll(page)
    page.screenshot(path=str(ARTIFACTS / "phone-meeting-items.png"), full_page=True)
