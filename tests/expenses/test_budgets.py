"""Budgets (set on the grid, copied from last month, imported from Excel), the expense settings,
and the manager flag on the admin's user form: through the pages, as finance and admin use them."""
import io
import re

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from channel.audit.models import AuditEntry
from channel.auth.models import User
from channel.expenses import budget_import
from channel.expenses import services as es
from channel.expenses.models import ExpenseBudget
from channel.extensions import db
from channel.masterdata.models import Region
from tests.helpers import EN, ZH, location_path, object_id, page_text
from tests.ledger import user, written, yuan

from . import MONTH

URL = f"/expenses/budgets?month={MONTH}"


def _region(code):
    return db.session.execute(select(Region).where(Region.code == code)).scalar_one()


def _budgets(app, month=MONTH):
    """{(region code, category): yuan text} of the month."""
    with app.app_context():
        rows = db.session.execute(select(Region.code, ExpenseBudget.category, ExpenseBudget.amount_fen)
                                  .join(Region, ExpenseBudget.region_id == Region.id)
                                  .where(ExpenseBudget.month == str(month))).all()
        db.session.remove()
    return {(code, category): f"{fen / 100:.2f}" for code, category, fen in rows}


def _audit(app, action):
    with app.app_context():
        rows = db.session.execute(select(AuditEntry).where(AuditEntry.action == action)
                                  .order_by(AuditEntry.id)).scalars().all()
        out = [(e.object_label, e.changes, e.user.username if e.user else None) for e in rows]
        db.session.remove()
    return out


def _set(app, month, code, amounts):
    with app.app_context():
        written(es.set_budgets, month, _region(code), {k: yuan(v) for k, v in amounts.items()}, by=user("finance"))
        db.session.remove()


def _grid(app, client, month=MONTH, **cells):
    """The grid as the browser posts it: what the page shows, with `cells` typed over it
    (NORTH_total="20000.00")."""
    page = client.get(f"/expenses/budgets?month={month}", headers=EN).get_data(as_text=True)
    form = page[page.index('<form method="post" novalidate action="/expenses/budgets'):]
    form = form[:form.index("</form>")]
    data = {}
    for tag in re.findall(r"<input [^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            data[name.group(1)] = value.group(1) if value else ""
    for key, value in cells.items():
        code, category = key.split("_", 1)
        data[f"r{object_id(app, 'reg', code)}_{category}"] = value
    return data


def _post_grid(app, client, month=MONTH, **cells):
    return client.post_form(f"/expenses/budgets?month={month}", _grid(app, client, month, **cells), headers=EN)


# --- the grid ---------------------------------------------------------------------------------

def test_the_grid_sets_budgets_and_audits_them(app, login):
    finance = login("finance")
    for headers in (EN, ZH):
        resp = finance.get(URL, headers=headers)
        assert resp.status_code == 200
        assert 'name="r%d_total"' % object_id(app, "reg", "NORTH") in resp.get_data(as_text=True)
    resp = _post_grid(app, finance, NORTH_total="20000.00", NORTH_travel="5000", SOUTH_meal=" 1200.5 ")
    assert resp.status_code == 302 and location_path(resp) == URL
    assert "Budgets of 2026-03 saved: 3 changes." in page_text(finance.get(URL, headers=EN))
    assert _budgets(app) == {("NORTH", "total"): "20000.00", ("NORTH", "travel"): "5000.00",
                             ("SOUTH", "meal"): "1200.50"}
    assert sorted(_audit(app, "expense_budget_set")) == [
        ("华北区 2026-03", {"total": [None, "¥20,000.00"], "travel": [None, "¥5,000.00"]}, "finance"),
        ("华南区 2026-03", {"meal": [None, "¥1,200.50"]}, "finance"),
    ]
    # The page shows what was saved; a cell emptied removes that budget; another month is apart.
    page = finance.get(URL, headers=EN).get_data(as_text=True)
    assert 'value="20000.00"' in page and 'value="1200.50"' in page
    resp = _post_grid(app, finance, NORTH_travel="", NORTH_total="18000")
    assert resp.status_code == 302
    assert _budgets(app) == {("NORTH", "total"): "18000.00", ("SOUTH", "meal"): "1200.50"}
    assert _audit(app, "expense_budget_set")[-1][1] == {"total": ["¥20,000.00", "¥18,000.00"],
                                                        "travel": ["¥5,000.00", None]}
    assert _budgets(app, MONTH.next()) == {}
    # Saving what is there changes nothing and writes no audit row.
    before = len(_audit(app, "expense_budget_set"))
    assert _post_grid(app, finance).status_code == 302
    assert "Nothing changed." in page_text(finance.get(URL, headers=EN))
    assert len(_audit(app, "expense_budget_set")) == before


def test_bad_cells_are_each_named_and_nothing_is_saved(app, login):
    finance = login("finance")
    resp = _post_grid(app, finance, NORTH_total="20000", NORTH_travel="-5", EAST_total="1.005",
                      SOUTH_other="abc", SOUTH_meal="1,200")
    assert resp.status_code == 422
    page = page_text(resp)
    assert "Please correct the marked fields. Nothing was saved." in page
    assert page.count("The amount must not be negative.") == 1
    assert page.count("At most two decimals (fen).") == 1
    assert page.count("Enter an amount such as 12345.60 (no commas).") == 2
    assert page.count('aria-invalid="true"') == 4
    assert 'value="abc"' in page  # what was typed stays to be corrected
    assert _budgets(app) == {} and _audit(app, "expense_budget_set") == []


def test_saving_over_someone_elses_change_is_refused(app, login):
    finance, admin = login("finance"), login("admin")
    data = _grid(app, finance, NORTH_total="20000")
    assert _post_grid(app, admin, EAST_total="9000").status_code == 302
    resp = finance.post_form(URL, data, headers=EN)
    assert resp.status_code == 409
    assert "Someone changed the budgets of 2026-03 while you were editing them." in page_text(resp)
    assert _budgets(app) == {("EAST", "total"): "9000.00"}


def test_copy_from_last_month_fills_only_what_is_empty(app, login):
    _set(app, MONTH.prev(), "NORTH", {"total": "20000.00", "travel": "6000.00"})
    _set(app, MONTH.prev(), "EAST", {"total": "15000.00"})
    _set(app, MONTH, "NORTH", {"total": "22000.00"})
    finance = login("finance")
    assert "Copy from 2026-02" in page_text(finance.get(URL, headers=EN))
    resp = finance.post_form("/expenses/budgets/copy", {"month": str(MONTH)}, headers=EN)
    assert resp.status_code == 302 and location_path(resp) == URL
    assert "2 budgets copied from 2026-02 (only where 2026-03 had none)." in page_text(finance.get(URL, headers=EN))
    assert _budgets(app) == {("NORTH", "total"): "22000.00", ("NORTH", "travel"): "6000.00",
                             ("EAST", "total"): "15000.00"}
    resp = finance.post_form("/expenses/budgets/copy", {"month": str(MONTH)}, headers=EN)
    assert "Nothing copied: 2026-02 has no budget that 2026-03 lacks." in page_text(finance.get(URL, headers=EN))
    assert finance.post_form("/expenses/budgets/copy", {"month": "2026-13"}, headers=EN).status_code == 422
    assert len(_audit(app, "expense_budget_set")) == 3 + 2  # three set by hand, two regions copied into


# --- access -----------------------------------------------------------------------------------

@pytest.mark.parametrize("username", ["rep.beijing", "dist.bj"])
def test_field_staff_and_distributors_get_403(app, login, username):
    client = login(username)
    for url in (URL, "/expenses/budgets/import", "/expenses/budgets/template.xlsx", "/expenses/settings",
                "/expenses/summary", "/expenses/summary.xlsx"):
        assert client.get(url).status_code == 403, url
    for url in (URL, "/expenses/budgets/copy", "/expenses/budgets/import", "/expenses/settings"):
        assert client.post_form(url, {"month": str(MONTH)}).status_code == 403, url


def test_a_supervisor_sees_the_budgets_of_their_regions_read_only(app, login):
    _set(app, MONTH, "NORTH", {"total": "20000.00"})
    _set(app, MONTH, "EAST", {"total": "15000.00"})
    sup = login("sup.north")
    resp = sup.get(URL, headers=EN)
    assert resp.status_code == 200
    page = page_text(resp)
    assert "华北区" in page and "¥20,000.00" in page
    assert "华东区" not in page and "¥15,000.00" not in page
    assert 'name="r' not in page and "Save budgets" not in page and "Copy from" not in page
    assert sup.post_form(URL, {"seen": "x"}).status_code == 403
    assert sup.post_form("/expenses/budgets/copy", {"month": str(MONTH)}).status_code == 403
    for url in ("/expenses/budgets/import", "/expenses/budgets/template.xlsx", "/expenses/settings"):
        assert sup.get(url).status_code == 403, url
    assert _budgets(app) == {("NORTH", "total"): "20000.00", ("EAST", "total"): "15000.00"}


# --- import from Excel ------------------------------------------------------------------------

def _xlsx(rows):
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _upload(client, data, name="budgets.xlsx", month=MONTH):
    return client.post_form(f"/expenses/budgets/import?month={month}", {"file": (io.BytesIO(data), name)},
                            headers=EN, content_type="multipart/form-data")


def test_import_a_good_file(app, login):
    _set(app, MONTH, "SOUTH", {"total": "1.00", "misc": "300.00"})
    finance = login("finance")
    assert finance.get(f"/expenses/budgets/import?month={MONTH}", headers=ZH).status_code == 200
    resp = _upload(finance, _xlsx([
        ["region", "category", "amount"],
        ["NORTH", "total", 20000],  # a number cell
        ["north", "差旅", "5000.50"],  # codes in any case; the Chinese name
        ["EAST", "Meal allowance", 1200.5],  # the English name
        ["SOUTH", "合计", "18000"],
        ["SOUTH", "misc", None],  # an empty amount leaves the budget as it is
        [None, None, None],
        ["EAST", "Customer entertainment", "0"],
    ]))
    assert resp.status_code == 302, page_text(resp)[-3000:]
    assert location_path(resp) == URL
    assert "Budgets of 2026-03 imported: 5 rows read, 5 budgets changed." in page_text(finance.get(URL, headers=EN))
    assert _budgets(app) == {("NORTH", "total"): "20000.00", ("NORTH", "travel"): "5000.50",
                             ("EAST", "meal"): "1200.50", ("EAST", "entertainment"): "0.00",
                             ("SOUTH", "total"): "18000.00", ("SOUTH", "misc"): "300.00"}
    audited = {label: changes for label, changes, _ in _audit(app, "expense_budget_set")}
    assert audited["华南区 2026-03"] == {"total": ["¥1.00", "¥18,000.00"]}
    assert audited["华北区 2026-03"] == {"total": [None, "¥20,000.00"], "travel": [None, "¥5,000.50"]}


def test_import_lists_every_bad_row_and_saves_nothing(app, login):
    finance = login("finance")
    resp = _upload(finance, _xlsx([
        ["区域", "类别", "金额"],  # the header in Chinese
        ["NORTH", "total", "20000"],  # good, but not saved: other rows are bad
        ["WEST", "total", "100"],  # 3: unknown region
        ["BJ", "travel", "100"],  # 4: not a top region
        ["EAST", "gifts", "100"],  # 5: unknown category
        ["EAST", "travel", "-5"],  # 6: negative
        ["EAST", "meal", "1.005"],  # 7: three decimals
        ["EAST", "misc", "abc"],  # 8: letters
        ["north", "合计", "1"],  # 9: the same as row 2
    ]))
    assert resp.status_code == 422
    page = page_text(resp)
    assert "Nothing was saved. Correct these rows and upload the file again:" in page
    rows = re.findall(r'<tr><td data-label="Row">(\d+)</td><td data-label="Problem">([^<]+)</td></tr>', page)
    assert [int(n) for n, _ in rows] == [3, 4, 5, 6, 7, 8, 9]
    reasons = dict((int(n), text) for n, text in rows)
    assert reasons[3] == "unknown region WEST."
    assert reasons[4] == "BJ is not a top region: budgets are set for the top regions."
    assert reasons[5] == "unknown category gifts."
    for n, value in ((6, "-5"), (7, "1.005"), (8, "abc")):
        assert reasons[n].startswith(f"bad amount {value}: enter the budget in yuan"), reasons[n]
    assert reasons[9] == "duplicate row: NORTH Total is on row 2 too."
    assert _budgets(app) == {} and _audit(app, "expense_budget_set") == []


@pytest.mark.parametrize("data, name, message", [
    (b"region,category,amount\nNORTH,total,100\n", "budgets.xlsx",
     "The file is not an Excel workbook (.xlsx). Save it as .xlsx and upload it again."),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "budgets.xls",
     "The file is not an Excel workbook (.xlsx). Save it as .xlsx and upload it again."),
    (b"PK\x03\x04 this is no zip", "budgets.xlsx", "The file is not a readable Excel workbook."),
    (None, "budgets.xlsx", "At most 2000 rows per file."),
    (b"", "budgets.xlsx", "The file is empty."),
])
def test_import_refuses_what_is_not_a_budget_workbook(app, login, data, name, message):
    if data is None:
        data = _xlsx([["region", "category", "amount"]] + [["NORTH", "total", "1"]] * 2001)
    resp = _upload(login("finance"), data, name)
    assert resp.status_code == 422
    assert message in page_text(resp)
    assert _budgets(app) == {}


def test_import_refuses_a_file_over_the_limit(app, login, monkeypatch):
    monkeypatch.setattr(budget_import, "MAX_BYTES", 1024 * 1024 // 10)
    resp = _upload(login("finance"), b"PK\x03\x04" + bytes(1024 * 1024 // 10))
    assert resp.status_code == 422
    assert "The file is too large (at most 0.1 MB)." in page_text(resp)


def test_import_needs_the_columns(app, login):
    resp = _upload(login("finance"), _xlsx([["code", "what", "yuan"], ["NORTH", "total", "1"]]))
    assert resp.status_code == 422
    assert "The first row must name the columns region, category and amount (missing: region, category, " \
           "amount)." in page_text(resp)
    resp = _upload(login("finance"), _xlsx([["region", "category", "amount"], ["NORTH", "total", None]]))
    assert resp.status_code == 422 and "The file has no rows with an amount." in page_text(resp)


def test_the_template_holds_every_top_region_and_category_and_imports_back(app, login):
    _set(app, MONTH, "EAST", {"total": "15000.00", "travel": "2500.50"})
    finance = login("finance")
    resp = finance.get(f"/expenses/budgets/template.xlsx?month={MONTH}")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    assert 'filename="budgets-2026-03.xlsx"' in resp.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(resp.data))
    rows = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    assert rows[0] == ["region", "category", "amount"]
    assert len(rows) == 1 + 3 * 9
    assert {r[0] for r in rows[1:]} == {"NORTH", "EAST", "SOUTH"}
    assert ["EAST", "travel", 2500.5] in rows and ["NORTH", "total", None] in rows
    names = [list(r) for r in wb.worksheets[1].iter_rows(values_only=True)]
    assert ["travel", "Travel", "差旅"] in names or ["travel", "Travel", names[2][2]] in names
    # Filled in and uploaded again, it sets the month.
    rows[rows.index(["NORTH", "total", None])][2] = "30000"
    resp = _upload(finance, _xlsx(rows), month=MONTH.next())
    assert resp.status_code == 302, page_text(resp)[-2000:]
    assert _budgets(app, MONTH.next()) == {("NORTH", "total"): "30000.00", ("EAST", "total"): "15000.00",
                                           ("EAST", "travel"): "2500.50"}


# --- settings ---------------------------------------------------------------------------------

SETTINGS = "/expenses/settings"


def _settings_form(**overrides):
    data = {"second_approval_over": "3000.00", "day_meal": "100.00", "day_supplement": "50.00",
            "night_1": "500.00", "night_2": "380.00", "night_3": "280.00"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_settings_are_saved_and_audited(app, login):
    finance = login("finance")
    for headers in (EN, ZH):
        resp = finance.get(SETTINGS, headers=headers)
        assert resp.status_code == 200
    page = page_text(finance.get(SETTINGS, headers=EN))
    assert 'value="3000.00"' in page and 'value="100.00"' in page and 'value="280.00"' in page
    resp = finance.post_form(SETTINGS, _settings_form(second_approval_over="5000", day_meal="120.50",
                                                      day_supplement="", day_local_transport="80",
                                                      night_3=""), headers=EN)
    assert resp.status_code == 302
    assert "Expense settings saved." in page_text(finance.get(SETTINGS, headers=EN))
    with app.app_context():
        settings = es.get_settings()
        assert settings.second_approval_over_fen == yuan("5000.00")
        assert settings.caps.per_day_fen == {"meal": yuan("120.50"), "local_transport": yuan("80.00")}
        assert settings.caps.per_night_fen == {1: yuan("500.00"), 2: yuan("380.00")}
        db.session.remove()
    [(label, changes, who)] = _audit(app, "settings_changed")
    assert who == "finance" and label == "expenses"
    assert changes["second_approval_over"] == ["¥3,000.00", "¥5,000.00"]
    assert "caps" in changes


@pytest.mark.parametrize("overrides, message", [
    ({"second_approval_over": None}, "Enter the amount (0: every claim needs a second approval)."),
    ({"second_approval_over": "-1"}, "The amount must not be negative."),
    ({"day_meal": "100.001"}, "At most two decimals (fen)."),
    ({"night_2": "three hundred"}, "Enter an amount such as 12345.60 (no commas)."),
])
def test_bad_settings_are_refused(app, login, overrides, message):
    finance = login("finance")
    resp = finance.post_form(SETTINGS, _settings_form(**overrides), headers=EN)
    assert resp.status_code == 422
    assert message in page_text(resp)
    assert _audit(app, "settings_changed") == []


def test_settings_are_for_finance_and_admin(app, login):
    assert login("admin").get(SETTINGS).status_code == 200
    for username in ("sup.north", "rep.beijing", "dist.bj"):
        client = login(username)
        assert client.get(SETTINGS).status_code == 403
        assert client.post_form(SETTINGS, _settings_form()).status_code == 403
    assert _audit(app, "settings_changed") == []


# --- the manager flag on the user form --------------------------------------------------------

def _user_data(app, username, **overrides):
    with app.app_context():
        u = db.session.execute(select(User).where(User.username == username)).scalar_one()
        data = {"full_name": u.full_name, "email": u.email or "", "phone": u.phone or "", "role": u.role,
                "field_kind": u.field_kind or "", "region_id": str(u.region_id or ""),
                "account_id": str(u.account_id or ""), "supervised": [str(r.id) for r in u.supervised_regions],
                "active": "y"}
        db.session.remove()
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _flag(app, username):
    with app.app_context():
        value = db.session.execute(select(User.second_approver).where(User.username == username)).scalar_one()
        db.session.remove()
    return value


def test_the_admin_marks_a_supervisor_as_manager(app, login):
    admin = login("admin")
    user_id = object_id(app, "user", "sup.north")
    page = page_text(admin.get(f"/admin/users/{user_id}/edit", headers=EN))
    assert "May give second approvals of expense claims (manager)" in page
    resp = admin.post_form(f"/admin/users/{user_id}/edit", _user_data(app, "sup.north", second_approver="y"),
                           headers=EN)
    assert resp.status_code == 302
    assert _flag(app, "sup.north") is True
    assert "Yes (manager)" in page_text(admin.get(f"/admin/users/{user_id}", headers=EN))
    with app.app_context():
        entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "updated",
                                                            AuditEntry.object_type == "users")).scalar_one()
        assert entry.changes == {"second_approver": [False, True]}
        assert es.is_second_approver(user("sup.north"))
        db.session.remove()
    # Unticked (a checkbox left out of the post), the flag goes.
    resp = admin.post_form(f"/admin/users/{user_id}/edit", _user_data(app, "sup.north"), headers=EN)
    assert resp.status_code == 302 and _flag(app, "sup.north") is False


def test_only_supervisors_and_finance_hold_the_flag(app, login):
    admin = login("admin")
    rep_id = object_id(app, "user", "rep.beijing")
    resp = admin.post_form(f"/admin/users/{rep_id}/edit", _user_data(app, "rep.beijing", second_approver="y"),
                           headers=EN)
    assert resp.status_code == 302 and _flag(app, "rep.beijing") is False
    data = {"username": "mgr.finance", "full_name": "经理", "role": "finance", "password": "Kx9!vQ2#mT7pL",
            "email": "", "phone": "", "field_kind": "", "region_id": "", "account_id": "", "second_approver": "y"}
    resp = admin.post_form("/admin/users/new", data, headers=EN)
    assert resp.status_code == 302, page_text(resp)[-2000:]
    assert _flag(app, "mgr.finance") is True
    with app.app_context():
        created = db.session.execute(select(AuditEntry).where(AuditEntry.action == "created",
                                                              AuditEntry.object_label == "mgr.finance")).scalar_one()
        assert created.changes["second_approver"] == [None, True]
        db.session.remove()


def test_the_cli_creates_a_manager(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "mgr.east", "--role", "supervisor", "--region", "EAST",
                                 "--second-approver"], input="Kx9!vQ2#mT7pL\n")
    assert result.exit_code == 0, result.output
    assert _flag(app, "mgr.east") is True
    result = runner.invoke(args=["users", "create", "rep.hebei", "--role", "field_staff", "--region", "BJ",
                                 "--second-approver"], input="Kx9!vQ2#mT7pL\n")
    assert result.exit_code == 0, result.output
    assert _flag(app, "rep.hebei") is False  # field staff never hold it
