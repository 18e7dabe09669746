"""The promotion pages through the test client: finance sets a promotion up (a percentage typed as
"1.5" is 150 basis points) and publishes it, after which only its name, description and budgets
change; a supervisor enrols accounts, the rep reports execution with a phone photo, supervisors
verify one report and reject another with a reason; refused input (422, nothing saved), stale
versions (409), roles (403) and scope (404); the calendar's bars; the cost and uplift figures as
the services compute them, checked against a hand computation."""
import io
import re
from datetime import date, timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from channel.extensions import db
from channel.masterdata.models import Product
from channel.plans.services import business_today
from channel.promotions import services as ps
from channel.promotions.forms import basis_points_text, percent_to_basis_points
from channel.promotions.models import Enrolment, ExecutionPhoto, ExecutionReport, Promotion
from tests.helpers import EN, ZH, page_text
from tests.ledger import account, user, written
from tests.promotions import enrol, new_product, promotion, region, ship


def _png(color="red", size=(8, 8)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def _today(app):
    with app.app_context():
        return business_today()


def _running(app, kind="per_unit", rate=200, budgets=(("NORTH", 1_000_000),), code=None, **kw):
    """A published promotion of P-PROMO running today (20 days in, 10 to go): its id."""
    with app.app_context():
        if db.session.execute(select(Product.id).where(Product.code == "P-PROMO")).scalar_one_or_none() is None:
            new_product()
        today = business_today()
        p = promotion(kind, rate, budgets=budgets, code=code, start=today - timedelta(days=20),
                      end=today + timedelta(days=10), **kw)
        pid = p.id
        db.session.remove()
    return pid


def _enrol(app, pid, code, **kw):
    with app.app_context():
        e = enrol(db.session.get(Promotion, pid), code, today=business_today(), **kw)
        eid = e.id
        db.session.remove()
    return eid


def _get(app, model, id_):
    """Some columns of a row, read fresh (a dict)."""
    with app.app_context():
        row = db.session.get(model, id_)
        values = None if row is None else {c.name: getattr(row, c.name) for c in model.__table__.columns}
        db.session.remove()
    return values


def _count(app, model, **where):
    with app.app_context():
        stmt = select(func.count()).select_from(model)
        for name, value in where.items():
            stmt = stmt.where(getattr(model, name) == value)
        n = db.session.execute(stmt).scalar_one()
        db.session.remove()
    return n


def _ids(app, **codes):
    """{"north": region id, "promo": product id, ...} by kind:code pairs."""
    out = {}
    with app.app_context():
        for name, (kind, code) in codes.items():
            if kind == "region":
                out[name] = region(code).id
            elif kind == "product":
                out[name] = db.session.execute(select(Product.id).where(Product.code == code)).scalar_one()
            else:
                out[name] = account(code).id
        db.session.remove()
    return out


def _report(client, pid, eid, *photos, outlets="4", on=None, note="货架已陈列 shelves set up", headers=EN):
    data = {"executed_on": on, "outlets": outlets, "note": note,
            "photos": [(io.BytesIO(content), name) for content, name in photos]}
    return client.post_form(f"/promotions/{pid}/enrolments/{eid}/report", data, content_type="multipart/form-data",
                            headers=headers)


# --- the percentage as typed --------------------------------------------------------------------

@pytest.mark.parametrize("typed, bp", [("1.5", 150), ("1.25", 125), ("100", 10_000), ("0", 0), (" 2% ", 200),
                                       ("0.01", 1), ("12.50", 1250)])
def test_a_typed_percentage_is_whole_basis_points(typed, bp):
    assert percent_to_basis_points(typed) == bp


@pytest.mark.parametrize("typed", ["", "abc", "1.555", "-1", "1e2", "1,5"])
def test_a_wrong_percentage_is_refused(typed):
    with pytest.raises(ValueError):
        percent_to_basis_points(typed)


def test_basis_points_show_as_typed():
    assert [basis_points_text(bp) for bp in (150, 125, 10_000, 0, 1)] == ["1.5", "1.25", "100", "0", "0.01"]


# --- head office sets a promotion up --------------------------------------------------------------

def _form(ids, today, **over):
    data = {"code": "pr-web-1", "name": "冬季促销 winter promotion", "description": "年末冲量",
            "kind": "percent", "rate": "1.5", "min_quantity": "10", "cap": "500.00",
            "starts_on": (today + timedelta(days=5)).isoformat(),
            "ends_on": (today + timedelta(days=35)).isoformat(),
            "products": [str(ids["promo"])], "rows-0-region_id": str(ids["north"]), "rows-0-budget": "20000.00",
            "rows-1-region_id": "", "rows-1-budget": ""}
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def test_finance_creates_and_publishes_then_only_name_description_budgets_change(app, login):
    with app.app_context():
        new_product()
    ids = _ids(app, north=("region", "NORTH"), east=("region", "EAST"), promo=("product", "P-PROMO"))
    today = _today(app)
    finance = login("finance")
    page = finance.get("/promotions/new", headers=ZH)
    assert page.status_code == 200 and 'name="rows-0-region_id"' in page_text(page)
    resp = finance.post_form("/promotions/new", _form(ids, today))
    assert resp.status_code == 302
    pid = int(re.search(r"/promotions/(\d+)$", resp.headers["Location"]).group(1))
    p = _get(app, Promotion, pid)
    assert (p["code"], p["kind"], p["rate"], p["min_quantity"], p["cap_fen"], p["status"]) == (
        "PR-WEB-1", "percent", 150, 10, 50_000, "draft")
    with app.app_context():
        promo = db.session.get(Promotion, pid)
        assert {r.region_id: r.budget_fen for r in promo.regions} == {ids["north"]: 2_000_000}
        assert promo.product_ids == {ids["promo"]}
        db.session.remove()
    text = page_text(finance.get(f"/promotions/{pid}", headers=EN))
    assert "1.5% of the net shipment amount, from 10 箱 (net), at most ¥500.00 per account" in text
    assert "budget ¥20,000.00" in text

    # A draft changes freely: the type and the rate too.
    resp = finance.post_form(f"/promotions/{pid}/edit", _form(ids, today, version="1", kind="per_unit", rate="2.00",
                                                              cap=""))
    assert resp.status_code == 302
    p = _get(app, Promotion, pid)
    assert (p["kind"], p["rate"], p["cap_fen"], p["version"]) == ("per_unit", 200, None, 2)

    resp = finance.post_form(f"/promotions/{pid}/publish", {"version": "2"})
    assert resp.status_code == 302
    assert _get(app, Promotion, pid)["status"] == "published"

    # Published: the form offers the name, the description and the budgets; typed terms are ignored.
    page = page_text(finance.get(f"/promotions/{pid}/edit", headers=EN))
    assert 'name="rate"' not in page and 'name="code"' not in page and 'name="rows-0-budget"' in page
    resp = finance.post_form(f"/promotions/{pid}/edit", {
        "version": "3", "name": "冬季促销（加码）", "description": "", "rate": "9.00", "kind": "display_fee",
        "code": "HACK", "rows-0-region_id": str(ids["north"]), "rows-0-budget": "25000.00"})
    assert resp.status_code == 302
    p = _get(app, Promotion, pid)
    assert (p["code"], p["kind"], p["rate"], p["name"], p["description"]) == (
        "PR-WEB-1", "per_unit", 200, "冬季促销（加码）", None)
    with app.app_context():
        assert [r.budget_fen for r in db.session.get(Promotion, pid).regions] == [2_500_000]
        db.session.remove()
    # A region cannot be added to a published promotion: refused, nothing saved.
    resp = finance.post_form(f"/promotions/{pid}/edit", {
        "version": "4", "name": "x", "rows-0-region_id": str(ids["north"]), "rows-0-budget": "1.00",
        "rows-1-region_id": str(ids["east"]), "rows-1-budget": "1.00"}, headers=EN)
    assert resp.status_code == 409 and "is published: its code, type" in page_text(resp)
    assert _get(app, Promotion, pid)["name"] == "冬季促销（加码）"
    # Publishing twice, deleting a published one: the promotion moved on.
    assert finance.post_form(f"/promotions/{pid}/publish", {"version": "4"}).status_code == 409
    resp = finance.post_form(f"/promotions/{pid}/delete", {"version": "4"}, headers=EN)
    assert resp.status_code == 409 and "no longer a draft" in page_text(resp)


@pytest.mark.parametrize("over, message", [
    ({"code": ""}, "Enter the code."),
    ({"kind": "per_unit", "rate": "abc"}, "Enter an amount such as 2.00"),
    ({"rate": "1.555"}, "At most two decimals, like 1.25."),
    ({"rate": "150"}, "A percentage rebate is at most 100%."),
    ({"ends_on": "2020-01-01"}, "The last day cannot be before the first day."),
    ({"products": None}, "Choose at least one product."),
    ({"rows-0-region_id": "", "rows-0-budget": ""}, "Give at least one region with its budget."),
    ({"rows-0-budget": "-5"}, "The amount must not be negative."),
    ({"rows-1-region_id": "{bj}", "rows-1-budget": "1.00"}, "A region and one of its sub-regions cannot both be"),
    ({"rows-1-region_id": "{north}", "rows-1-budget": "1.00"}, "This region is listed twice."),
    ({"code": "PR-TAKEN"}, "The code PR-TAKEN is already used by another promotion."),
    ({"min_quantity": "1.5"}, "Enter a whole number, 0 or more."),
])
def test_wrong_input_is_refused_with_its_message_and_nothing_is_saved(app, login, over, message):
    pid = _running(app, code="PR-TAKEN")
    ids = _ids(app, north=("region", "NORTH"), bj=("region", "BJ"), promo=("product", "P-PROMO"))
    over = {k: (v.format(**{k2: str(v2) for k2, v2 in ids.items()}) if isinstance(v, str) else v)
            for k, v in over.items()}
    before = _count(app, Promotion)
    resp = login("finance").post_form("/promotions/new", _form(ids, _today(app), **over), headers=EN)
    assert resp.status_code == 422
    assert message in page_text(resp)
    assert _count(app, Promotion) == before
    assert _get(app, Promotion, pid)["code"] == "PR-TAKEN"


def test_a_stale_edit_is_refused_with_the_promotion_as_it_is_now(app, login):
    with app.app_context():
        new_product()
        p = promotion("per_unit", 200, publish=False, code="PR-DRAFT")
        pid = p.id
        db.session.remove()
    ids = _ids(app, north=("region", "NORTH"), promo=("product", "P-PROMO"))
    finance = login("finance")
    data = _form(ids, _today(app), code="PR-DRAFT", kind="per_unit", rate="3.00", version="1")
    assert finance.post_form(f"/promotions/{pid}/edit", data).status_code == 302  # version 2 now
    resp = finance.post_form(f"/promotions/{pid}/edit", dict(data, rate="4.00"), headers=EN)
    assert resp.status_code == 409 and "This changed while you were looking at it" in page_text(resp)
    assert _get(app, Promotion, pid)["rate"] == 300
    assert finance.post_form(f"/promotions/{pid}/publish", {"version": "1"}).status_code == 409
    assert _get(app, Promotion, pid)["status"] == "draft"
    resp = finance.post_form(f"/promotions/{pid}/delete", {"version": "2"})
    assert resp.status_code == 302 and _get(app, Promotion, pid) is None


def test_only_head_office_sets_promotions_up(app, login):
    pid = _running(app)
    for who in ("sup.north", "rep.beijing", "dist.bj"):
        client = login(who)
        assert client.get("/promotions/new").status_code == 403
        assert client.post_form("/promotions/new", {}).status_code == 403
    for who in ("sup.north", "rep.beijing"):
        client = login(who)
        assert client.get(f"/promotions/{pid}/edit").status_code == 403
        assert client.post_form(f"/promotions/{pid}/publish", {"version": "2"}).status_code == 403


# --- rollout: enrolment, execution reports, verdicts ---------------------------------------------

def test_enrol_report_with_a_photo_verify_and_reject(app, login):
    pid = _running(app, "per_outlet", 5_000)
    ids = _ids(app, bj1=("account", "DL-BJ001"), bj2=("account", "DL-BJ002"), sh=("account", "DL-SH001"))
    today = _today(app)
    sup = login("sup.north")
    page = page_text(sup.get(f"/promotions/{pid}", headers=EN))
    assert f'<option value="{ids["bj1"]}">DL-BJ001' in page and "DL-SH001" not in page
    resp = sup.post_form(f"/promotions/{pid}/enrol", {"account_id": str(ids["bj1"]), "target_qty": "100",
                                                      "target_outlets": "10"})
    assert resp.status_code == 302
    assert sup.post_form(f"/promotions/{pid}/enrol", {"account_id": str(ids["bj2"]), "target_outlets": "3"}
                         ).status_code == 302
    with app.app_context():
        eids = dict(db.session.execute(select(Enrolment.account_id, Enrolment.id)
                                       .where(Enrolment.promotion_id == pid)).all())
        db.session.remove()
    e1, e2 = eids[ids["bj1"]], eids[ids["bj2"]]
    assert _get(app, Enrolment, e1)["target_outlets"] == 10
    # Refused enrolments: a bad target, an account outside the list, twice; nothing saved.
    for data, message in (({"account_id": str(ids["bj2"]), "target_qty": "x"}, "Enter a whole number"),
                          ({"account_id": str(ids["sh"])}, "Choose an account from the list."),
                          ({"account_id": str(ids["bj1"])}, "Choose an account from the list.")):
        resp = sup.post_form(f"/promotions/{pid}/enrol", data, headers=EN)
        assert resp.status_code == 422 and message in page_text(resp)
    assert _count(app, Enrolment) == 2
    assert login("rep.beijing").post_form(f"/promotions/{pid}/enrol", {"account_id": str(ids["bj2"])}
                                          ).status_code == 403
    assert login("sup.east").post_form(f"/promotions/{pid}/enrol", {"account_id": str(ids["bj2"])}
                                       ).status_code == 404
    resp = sup.post_form(f"/promotions/{pid}/enrolments/{e1}", {"target_qty": "120", "target_outlets": "12"})
    assert resp.status_code == 302
    assert (_get(app, Enrolment, e1)["target_qty"], _get(app, Enrolment, e1)["target_outlets"]) == (120, 12)
    for data in ({"target_qty": "-1", "target_outlets": "1"}, {"target_qty": "5"}):
        assert sup.post_form(f"/promotions/{pid}/enrolments/{e1}", data).status_code == 422
    assert (_get(app, Enrolment, e1)["target_qty"], _get(app, Enrolment, e1)["target_outlets"]) == (120, 12)
    assert login("rep.beijing").post_form(f"/promotions/{pid}/enrolments/{e1}", {"target_qty": "1"}
                                          ).status_code == 403

    # The rep finds the account under "my promotions" and reports with a photo from the phone.
    rep = login("rep.beijing")
    index = page_text(rep.get("/promotions/", headers=EN))
    assert "My promotions" in index and f"/promotions/{pid}/enrolments/{e1}/report" in index
    form = page_text(rep.get(f"/promotions/{pid}/enrolments/{e1}/report", headers=ZH))
    assert 'capture="environment"' in form and 'accept="image/*"' in form and "multiple" in form
    resp = _report(rep, pid, e1, (_png(), "shelf.png"), on=today.isoformat())
    assert resp.status_code == 302
    with app.app_context():
        r1 = db.session.execute(select(ExecutionReport).where(ExecutionReport.enrolment_id == e1)).scalar_one()
        r1_id, photo_id = r1.id, r1.photos[0].id
        assert (r1.status, r1.outlets, len(r1.photos), r1.photos[0].filename) == ("submitted", 4, 1, "shelf.png")
        db.session.remove()
    assert resp.headers["Location"].endswith(f"/promotions/{pid}/reports#report-{r1_id}")

    # Refused reports leave nothing behind: a date outside the period, a PDF, a text file, 7 photos.
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
    for photos, on, message in (
            ([(_png("blue"), "a.png")], (today + timedelta(days=1)).isoformat(), "The date must be within"),
            ([(pdf, "scan.pdf")], today.isoformat(), "Photos must be JPEG or PNG pictures."),
            ([(b"hello", "note.txt")], today.isoformat(), "note.txt: Only PDF, JPEG and PNG files are accepted."),
            ([(_png(c), f"{c}.png") for c in ("red", "blue", "green", "white", "black", "gray", "pink")],
             today.isoformat(), "At most 6 photos per report.")):
        resp = _report(rep, pid, e2, *photos, on=on)
        assert resp.status_code == 422, message
        assert message in page_text(resp)
    assert _count(app, ExecutionReport) == 1 and _count(app, ExecutionPhoto) == 1

    # The photo is served to those who see the account, inline, as an image.
    shown = sup.get(f"/promotions/photos/{photo_id}")
    assert shown.status_code == 200 and shown.mimetype == "image/png" and shown.data == _png()
    assert login("dist.bj").get(f"/promotions/photos/{photo_id}").status_code == 200
    for who in ("sup.east", "dist.tj", "merch.tianjin"):
        assert login(who).get(f"/promotions/photos/{photo_id}").status_code == 404, who

    # The supervisor sees the report with its thumbnail and verifies it (a stale version: 409).
    reports = page_text(sup.get(f"/promotions/{pid}/reports?status=pending", headers=EN))
    assert f'<img src="/promotions/photos/{photo_id}"' in reports and f'id="verify-{r1_id}"' in reports
    assert rep.post_form(f"/promotions/reports/{r1_id}/verify", {"version": "1"}).status_code == 403
    resp = sup.post_form(f"/promotions/reports/{r1_id}/verify", {"version": "7"}, headers=EN)
    assert resp.status_code == 409 and "This changed while you were looking at it" in page_text(resp)
    resp = sup.post_form(f"/promotions/reports/{r1_id}/verify", {"version": "1", "status": "pending"})
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(f"/promotions/{pid}/reports?status=pending#report-{r1_id}")
    assert _get(app, ExecutionReport, r1_id)["status"] == "verified"
    resp = sup.post_form(f"/promotions/reports/{r1_id}/reject", {"version": "2", "reason": "x"}, headers=EN)
    assert resp.status_code == 409 and "already been checked" in page_text(resp)

    # A second report, rejected by another supervisor of the region: a reason is required.
    assert _report(rep, pid, e2, (_png("green"), "door.png"), outlets="2", on=today.isoformat()).status_code == 302
    with app.app_context():
        r2_id = db.session.execute(select(ExecutionReport.id).where(ExecutionReport.enrolment_id == e2)).scalar_one()
        db.session.remove()
    manager = login("mgr.channel")
    resp = manager.post_form(f"/promotions/reports/{r2_id}/reject", {"version": "1", "reason": "  "}, headers=EN)
    assert resp.status_code == 422 and "Say why the report is rejected." in page_text(resp)
    assert _get(app, ExecutionReport, r2_id)["status"] == "submitted"
    resp = manager.post_form(f"/promotions/reports/{r2_id}/reject", {"version": "1", "reason": "照片看不清货架"})
    assert resp.status_code == 302
    r2 = _get(app, ExecutionReport, r2_id)
    assert (r2["status"], r2["reject_reason"]) == ("rejected", "照片看不清货架")
    listed = page_text(sup.get(f"/promotions/{pid}/reports?status=rejected", headers=ZH))
    assert "照片看不清货架" in listed and f'id="report-{r1_id}"' not in listed

    # The progress shows the verified outlets against the target.
    page = page_text(sup.get(f"/promotions/{pid}", headers=EN))
    row = re.search(rf'<tr id="enrolment-{e1}".*?</tr>', page, re.S).group(0)
    assert "4 / 4 / 12 · <span class=\"pct\">33.3%</span>" in row

    # An enrolment with reports stays; one without is withdrawn.
    resp = sup.post_form(f"/promotions/{pid}/enrolments/{e1}/withdraw", {}, headers=EN)
    assert resp.status_code == 409 and "stays enrolled" in page_text(resp)
    e3 = _enrol(app, pid, "DL-BJ003")
    assert sup.post_form(f"/promotions/{pid}/enrolments/{e3}/withdraw", {}).status_code == 302
    assert _get(app, Enrolment, e3) is None


def test_reports_wait_for_the_promotion_to_start(app, login):
    with app.app_context():
        new_product()
        today = business_today()
        p = promotion("per_outlet", 5_000, start=today + timedelta(days=3), end=today + timedelta(days=30))
        pid = p.id
        e = enrol(p, "DL-BJ001", today=today)
        eid = e.id
        db.session.remove()
    rep = login("rep.beijing")
    assert f"/enrolments/{eid}/report" not in page_text(rep.get(f"/promotions/{pid}"))
    resp = _report(rep, pid, eid, (_png(), "a.png"), on=today.isoformat())
    assert resp.status_code == 422 and "once the promotion has started" in page_text(resp)
    assert _count(app, ExecutionReport) == 0


# --- scope ----------------------------------------------------------------------------------------

def test_scope_of_promotions_and_their_rows(app, login):
    pid = _running(app)  # 华北 only
    with app.app_context():
        draft = promotion("per_unit", 100, code="PR-DRAFT", publish=False).id
        db.session.remove()
    for code in ("GD-BJ01", "DL-BJ001", "GD-TJ01"):
        _enrol(app, pid, code, qty=10)
    assert login("finance").get(f"/promotions/{draft}").status_code == 200
    for who in ("sup.north", "rep.beijing", "dist.bj"):
        assert login(who).get(f"/promotions/{draft}").status_code == 404, who
    east = login("sup.east")
    for url in (f"/promotions/{pid}", f"/promotions/{pid}/reports", f"/promotions/{pid}/edit"):
        assert east.get(url).status_code == 404, url
    assert "PR-per_unit" not in page_text(east.get("/promotions/"))
    assert login("dist.gz").get(f"/promotions/{pid}").status_code == 404

    # The distributor sees its own row and its dealer's, no other account's and no budget.
    page = page_text(login("dist.bj").get(f"/promotions/{pid}", headers=EN))
    rows = re.findall(r'<tr id="enrolment-\d+" data-account="([^"]+)"', page)
    assert rows == ["DL-BJ001", "GD-BJ01"]
    assert "GD-TJ01" not in page and "Cost against budget" not in page and "budget ¥" not in page
    assert 'id="enrol"' not in page and "Budget" not in page_text(login("dist.bj").get("/promotions/", headers=EN))
    # Field staff see their region's rows, no costs; the supervisor all of the region's, with costs.
    page = page_text(login("merch.tianjin").get(f"/promotions/{pid}", headers=EN))
    assert re.findall(r'<tr id="enrolment-\d+" data-account="([^"]+)"', page) == ["GD-TJ01"]
    assert 'id="cost"' not in page
    page = page_text(login("sup.north").get(f"/promotions/{pid}", headers=EN))
    assert re.findall(r'<tr id="enrolment-\d+" data-account="([^"]+)"', page) == ["DL-BJ001", "GD-BJ01", "GD-TJ01"]
    assert 'id="cost"' in page


def test_the_list_filters_and_both_languages_render(app, login):
    running = _running(app, code="PR-RUN")
    with app.app_context():
        today = business_today()
        ended = promotion("percent", 150, code="PR-END", budgets=(("EAST", 500_000),), start=today - timedelta(days=40),
                          end=today - timedelta(days=5)).id
        draft = promotion("display_fee", 80_000, code="PR-DRAFT", publish=False).id
        db.session.remove()
    finance = login("finance")

    def listed(query, client=finance):
        return re.findall(r'<tr id="promotion-(\d+)"', client.get(f"/promotions/{query}").get_data(as_text=True))

    assert set(listed("")) == {str(running), str(ended), str(draft)}
    assert listed("?status=running") == [str(running)]
    assert listed("?status=ended") == [str(ended)]
    assert listed("?status=draft") == [str(draft)]
    assert listed("?kind=percent") == [str(ended)]
    bj = _ids(app, bj=("region", "BJ"))["bj"]
    assert set(listed(f"?region={bj}")) == {str(draft), str(running)}  # 华北's promotions run in 北京
    assert listed("", login("sup.east")) == [str(ended)]
    for who in ("admin", "finance", "sup.north", "rep.beijing", "dist.bj"):
        client = login(who)
        for url in ("/promotions/", "/promotions/calendar", f"/promotions/{running}", f"/promotions/{running}/reports"):
            for headers in (EN, ZH):
                resp = client.get(url, headers=headers)
                assert resp.status_code == (404 if who == "dist.bj" and str(running) in url else 200), (who, url)
    zh = page_text(finance.get(f"/promotions/{running}", headers=ZH))
    assert 'lang="zh-CN"' in zh


# --- the calendar -----------------------------------------------------------------------------------

def test_the_calendar_draws_each_promotion_as_bars_across_its_weeks(app, login):
    with app.app_context():
        new_product()
        promotion("per_unit", 200, code="PR-MAR", start=date(2026, 3, 10), end=date(2026, 4, 5))
        db.session.remove()
    client = login("sup.north")
    march = client.get("/promotions/calendar?month=2026-03", headers=EN).get_data(as_text=True)
    # March 2026 starts on a Sunday: its weeks run from Monday 23 February. The 10th is a Tuesday.
    bars = re.findall(r'class="cal-bar (start-\d span-\d)[^"]*?( continued)?( continues)?" data-promotion="PR-MAR"',
                      march)
    assert bars == [("start-2 span-6", "", " continues"), ("start-1 span-7", " continued", " continues"),
                    ("start-1 span-7", " continued", " continues"), ("start-1 span-2", " continued", " continues")]
    assert 'href="/promotions/calendar?month=2026-02"' in march and 'href="/promotions/calendar?month=2026-04"' in march
    assert re.search(r'<li data-promotion="PR-MAR">\s*<span class="cal-dates nowrap">', march)
    april = client.get("/promotions/calendar?month=2026-04", headers=ZH).get_data(as_text=True)
    assert re.findall(r'class="cal-bar (start-\d span-\d)', april) == ["start-3 span-5"]  # Wed 1 to Sun 5
    may = page_text(client.get("/promotions/calendar?month=2026-05", headers=EN))
    assert "cal-bar" not in may and "No promotion runs in 2026-05." in may
    assert login("sup.east").get("/promotions/calendar?month=2026-03").get_data(as_text=True).count("PR-MAR") == 0
    assert client.get("/promotions/calendar?month=2026-13").status_code == 400


# --- the figures: cost against budget and uplift ----------------------------------------------------

def test_cost_and_uplift_on_the_page_are_the_services_figures(app, login):
    """¥2.00 a case, 华北 budget ¥100.00. In the period GD-BJ01 ships 30 cases, DL-BJ001 40: rewards
    ¥60.00 and ¥80.00 = ¥140.00 > ¥100.00, so the budget is shared pro rata: 100 × 60/140 = 42.857…,
    100 × 80/140 = 57.142…; in fen 4285 + 5714 = 9999, the one fen left to the larger remainder
    (.71 against .28): GD-BJ01 ¥42.86, DL-BJ001 ¥57.14. Before the period GD-BJ01 shipped 10 cases
    (¥500.00), during 30 (¥1,500.00): +¥1,000.00, +200.0%."""
    pid = _running(app, budgets=(("NORTH", 10_000),))
    today = _today(app)
    e1, e2 = _enrol(app, pid, "GD-BJ01", qty=50), _enrol(app, pid, "DL-BJ001", qty=40)
    with app.app_context():
        start = db.session.get(Promotion, pid).starts_on
        ship("GD-BJ01", start - timedelta(days=5), 10)
        ship("GD-BJ01", today - timedelta(days=3), 30)
        ship("DL-BJ001", today - timedelta(days=2), 40)
        p = db.session.get(Promotion, pid)
        [north] = ps.figures(p)
        assert (north.budget_fen, north.earned_fen, north.paid_fen, north.left_fen, north.settlement.short) == (
            10_000, 14_000, 10_000, 0, True)
        assert north.settlement.paid == {e1: 4_286, e2: 5_714}
        rows, regions, total = ps.uplift(p, ps.visible_enrolments(user("sup.north"), p))
        assert [(r.key.account.code, r.before_fen, r.during_fen, r.pct) for r in rows] == [
            ("DL-BJ001", 0, 200_000, None), ("GD-BJ01", 50_000, 150_000, 200)]
        assert (total.before_fen, total.during_fen) == (50_000, 350_000)
        db.session.remove()
    page = page_text(login("sup.north").get(f"/promotions/{pid}", headers=EN))
    cost = re.search(r'<tr data-region="NORTH" class="short">.*?</tr>', page, re.S).group(0)
    assert [m for m in re.findall(r'class="num (?:budget|earned|payable|left)">([^<]+)<', cost)] == [
        "¥100.00", "¥140.00", "¥100.00", "¥0.00"]
    assert "budget ¥100.00 shared in proportion to rewards ¥140.00" in page
    assert re.search(r'data-cost="GD-BJ01">\s*<td[^>]*>GD-BJ01[^<]*</td>\s*<td[^>]*>30</td>\s*<td[^>]*>¥1,500.00'
                     r'</td>\s*<td[^>]*>0</td>\s*<td[^>]*>¥60.00</td>\s*<td[^>]*>¥42.86</td>', page)
    uplift = re.search(r'<tr data-uplift="GD-BJ01">.*?</tr>', page, re.S).group(0)
    assert "¥500.00" in uplift and "¥1,500.00" in uplift and "+¥1,000.00 (+200.0%)" in uplift
    assert re.search(r'id="uplift-total">.*?¥500.00.*?¥3,500.00.*?\+¥3,000.00 \(\+600.0%\)', page, re.S)
    progress = re.search(rf'<tr id="enrolment-{e1}".*?</tr>', page, re.S).group(0)
    assert "30 / 50 · <span class=\"pct\">60.0%</span>" in progress and "¥1,500.00" in progress
    # The distributor sees its rows' uplift, and no cost.
    mine = page_text(login("dist.bj").get(f"/promotions/{pid}", headers=EN))
    assert "+¥3,000.00 (+600.0%)" in mine and 'id="cost"' not in mine


def test_the_supervisors_list_shows_reports_waiting(app, login):
    pid = _running(app, "per_outlet", 5_000)
    eid = _enrol(app, pid, "DL-BJ001", outlets=3)
    with app.app_context():
        written(ps.report_execution, db.session.get(Enrolment, eid), executed_on=business_today(), outlets=2,
                by=user("rep.beijing"))
        db.session.remove()
    page = page_text(login("sup.north").get("/promotions/", headers=EN))
    assert "Execution reports waiting for your verdict" in page and f"/promotions/{pid}/reports?status=pending" in page
    assert "waiting for your verdict" not in page_text(login("sup.east").get("/promotions/", headers=EN))


def test_a_settled_promotion_shows_its_settlement_and_changes_no_more(app, login):
    with app.app_context():
        new_product()
        today = business_today()
        start = today - timedelta(days=40)
        p = promotion("per_unit", 200, code="PR-DONE", start=start, end=today - timedelta(days=5))
        e = enrol(p, "DL-BJ001", qty=10, today=start)
        ship("DL-BJ001", start + timedelta(days=2), 25)
        written(ps.settle, db.session.get(Promotion, p.id), version=p.version, by=user("finance"))
        pid, eid = p.id, e.id
        db.session.remove()
    finance = login("finance")
    page = page_text(finance.get(f"/promotions/{pid}", headers=EN))
    assert 'data-status="settled"' in page and "¥50.00 paid of ¥50.00 earned" in page
    assert 'id="edit-button"' not in page and 'id="enrol"' not in page
    resp = finance.get(f"/promotions/{pid}/edit", headers=EN)
    assert resp.status_code == 409 and "is settled" in page_text(resp)
    sup = login("sup.north")
    page = page_text(sup.get(f"/promotions/{pid}", headers=ZH))
    assert "change_targets" not in page and f"/enrolments/{eid}\"" not in page
    resp = sup.post_form(f"/promotions/{pid}/enrolments/{eid}", {"target_qty": "1", "target_outlets": "1"}, headers=EN)
    assert resp.status_code == 409 and "is settled" in page_text(resp)
    assert _get(app, Enrolment, eid)["target_qty"] == 10
