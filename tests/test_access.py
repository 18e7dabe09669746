"""Who may open what: one row per (method, URL), one column per kind of user.

In the manner of indico's receipts/controllers/access_test.py. Every route of the app appears
in the table (test_every_route_is_in_the_table fails for a new route until it is added here).
URLs name demo objects by code: {acc:GD-SH01}, {reg:SOUTH}, {prod:P-W550}, {user:rep.beijing}.

The table runs on a demo database shared by the module (per engine); POST rows send a payload
the form refuses, so the table changes nothing it reads later. What scope means for data (lists,
exports) is tested further down on a fresh database per test.
"""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from channel.demo import DEALERS, DISTRIBUTORS
from channel.extensions import db
from channel.masterdata.models import Product
from channel.promotions.models import Promotion

from .helpers import (
    EN,
    csv_rows,
    export_codes,
    listed_account_codes,
    location_path,
    object_names,
    placeholders,
    resolve,
    shared_demo_app,  # noqa: F401  (fixture)
)
from .system import sample_jobs  # noqa: F401  (registers the "sample" job the system rows name)

ANON = "anonymous"
COLUMNS = (ANON, "admin", "finance", "sup.north", "rep.beijing", "dist.bj")

LOGIN = (302, "/login")  # sent to the login page (anonymous) or back to it (after logout)
HOME = (302, "/dashboard")
USERS = (302, "/admin/users/")  # after an admin action on a user

# A payload every form of the app refuses, so that a POST row shows who gets in without
# changing anything. (A field left out of a POST keeps the object's value in WTForms, and a
# checkbox left out is unchecked: a partial payload could save, e.g. deactivate a user.)
BAD_FORM = {"code": "a b", "name": "", "contact_name": "x" * 400, "full_name": "x" * 400,
            "role": "nope", "password": "x", "locale": "xx"}

ACC_OWN = "{acc:GD-BJ01}"  # dist.bj's own account (北京, 华北)
DEALER_OWN = "{acc:DL-BJ001}"  # one of dist.bj's dealers
ACC_TJ = "{acc:GD-TJ01}"  # 天津 (华北): sup.north yes, rep.beijing and dist.bj no
ACC_SH = "{acc:GD-SH01}"  # another general distributor (上海, 华东)
DEALER_SH = "{acc:DL-SH001}"  # one of GD-SH01's dealers
DEALER_DIRECT = "{acc:DL-ZJ003}"  # a dealer buying from the company directly
ACC_GZ = "{acc:GD-GZ01}"  # 华南
PLANNED = "{meet:ACCESS 计划会议}"  # issue 8's objects: see issue8_objects below
PUBLISHED = "{meet:ACCESS 已发布会议}"
PROMO = "{promo:ACC-PROMO}"
DRAFT = "{promo:ACC-DRAFT}"
ENROLLED = "{enr:ACC-PROMO/DL-BJ001}"
DEALER_GZ = "{acc:DL-GZ001}"

#      method, url,                                   anonymous, admin, finance, sup.north, rep.beijing, dist.bj
TABLE = [
    ("GET", "/",                                      LOGIN, HOME, HOME, HOME, HOME, HOME),
    ("GET", "/login",                                 200, HOME, HOME, HOME, HOME, HOME),
    ("POST", "/login",                                422, HOME, HOME, HOME, HOME, HOME),
    ("POST", "/logout",                               LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN),
    ("POST", "/language",                             HOME, HOME, HOME, HOME, HOME, HOME),
    ("GET", "/me/password",                           LOGIN, 200, 200, 200, 200, 200),
    ("POST", "/me/password",                          LOGIN, 422, 422, 422, 422, 422),
    ("GET", "/dashboard",                             LOGIN, 200, 200, 200, 200, 200),
    # accounts: lists and exports are scoped (see the export tests below)
    ("GET", "/accounts",                              LOGIN, 200, 200, 200, 200, 200),
    ("GET", "/accounts?format=csv",                   LOGIN, 200, 200, 200, 200, 200),
    ("GET", "/accounts?format=xlsx",                  LOGIN, 200, 200, 200, 200, 200),
    ("GET", "/accounts?format=pdf",                   LOGIN, 404, 404, 404, 404, 404),
    ("GET", f"/accounts/{ACC_OWN}",                   LOGIN, 200, 200, 200, 200, 200),
    ("GET", f"/accounts/{DEALER_OWN}",                LOGIN, 200, 200, 200, 200, 200),
    ("GET", f"/accounts/{ACC_TJ}",                    LOGIN, 200, 200, 200, 404, 404),
    ("GET", f"/accounts/{ACC_SH}",                    LOGIN, 200, 200, 404, 404, 404),
    ("GET", f"/accounts/{DEALER_SH}",                 LOGIN, 200, 200, 404, 404, 404),
    ("GET", f"/accounts/{DEALER_DIRECT}",             LOGIN, 200, 200, 404, 404, 404),
    ("GET", f"/accounts/{ACC_GZ}",                    LOGIN, 200, 200, 404, 404, 404),
    ("GET", f"/accounts/{DEALER_GZ}",                 LOGIN, 200, 200, 404, 404, 404),
    ("GET", "/accounts/999999",                       LOGIN, 404, 404, 404, 404, 404),
    ("GET", "/accounts/new",                          LOGIN, 200, 200, 403, 403, 403),
    ("POST", "/accounts/new",                         LOGIN, 422, 422, 403, 403, 403),
    # edit: admin and finance the whole account; a supervisor the customer file of their own
    ("GET", f"/accounts/{ACC_OWN}/edit",              LOGIN, 200, 200, 200, 403, 403),
    ("POST", f"/accounts/{ACC_OWN}/edit",             LOGIN, 422, 422, 422, 403, 403),
    ("GET", f"/accounts/{DEALER_OWN}/edit",           LOGIN, 200, 200, 200, 403, 403),
    ("GET", f"/accounts/{ACC_TJ}/edit",               LOGIN, 200, 200, 200, 404, 404),
    ("GET", f"/accounts/{ACC_SH}/edit",               LOGIN, 200, 200, 404, 404, 404),
    ("POST", f"/accounts/{ACC_SH}/edit",              LOGIN, 422, 422, 404, 404, 404),
    ("GET", f"/accounts/{DEALER_SH}/edit",            LOGIN, 200, 200, 404, 404, 404),
    ("GET", f"/accounts/{ACC_GZ}/edit",               LOGIN, 200, 200, 404, 404, 404),
    ("GET", "/accounts/999999/edit",                  LOGIN, 404, 404, 404, 404, 404),
    # regions: internal users only, scoped; a distributor has no region pages
    ("GET", "/regions",                               LOGIN, 200, 200, 200, 200, 403),
    ("GET", "/regions?format=csv",                    LOGIN, 200, 200, 200, 200, 403),
    ("GET", "/regions?format=xlsx",                   LOGIN, 200, 200, 200, 200, 403),
    ("GET", "/regions/{reg:NORTH}",                   LOGIN, 200, 200, 200, 404, 404),
    ("GET", "/regions/{reg:BJ}",                      LOGIN, 200, 200, 200, 200, 404),
    ("GET", "/regions/{reg:TJ}",                      LOGIN, 200, 200, 200, 404, 404),
    ("GET", "/regions/{reg:SOUTH}",                   LOGIN, 200, 200, 404, 404, 404),
    ("GET", "/regions/{reg:GD}",                      LOGIN, 200, 200, 404, 404, 404),
    ("GET", "/regions/999999",                        LOGIN, 404, 404, 404, 404, 404),
    ("GET", "/regions/new",                           LOGIN, 200, 403, 403, 403, 403),
    ("POST", "/regions/new",                          LOGIN, 422, 403, 403, 403, 403),
    ("GET", "/regions/{reg:NORTH}/edit",              LOGIN, 200, 403, 403, 404, 404),
    ("POST", "/regions/{reg:NORTH}/edit",             LOGIN, 422, 403, 403, 404, 404),
    ("GET", "/regions/{reg:SOUTH}/edit",              LOGIN, 200, 403, 404, 404, 404),
    ("POST", "/regions/{reg:SOUTH}/edit",             LOGIN, 422, 403, 404, 404, 404),
    # products: everyone reads; admin and finance keep them
    ("GET", "/products",                              LOGIN, 200, 200, 200, 200, 200),
    ("GET", "/products?format=csv",                   LOGIN, 200, 200, 200, 200, 200),
    ("GET", "/products?format=xlsx",                  LOGIN, 200, 200, 200, 200, 200),
    ("GET", "/products/new",                          LOGIN, 200, 200, 403, 403, 403),
    ("POST", "/products/new",                         LOGIN, 422, 422, 403, 403, 403),
    ("GET", "/products/{prod:P-W550}/edit",           LOGIN, 200, 200, 403, 403, 403),
    ("POST", "/products/{prod:P-W550}/edit",          LOGIN, 422, 422, 403, 403, 403),
    ("GET", "/products/999999/edit",                  LOGIN, 404, 404, 404, 404, 404),
    # users: the admin only
    ("GET", "/admin/users",                           LOGIN, 200, 403, 403, 403, 403),
    ("GET", "/admin/users/new",                       LOGIN, 200, 403, 403, 403, 403),
    ("POST", "/admin/users/new",                      LOGIN, 422, 403, 403, 403, 403),
    ("GET", "/admin/users/{user:rep.beijing}",        LOGIN, 200, 403, 403, 403, 403),
    ("GET", "/admin/users/{user:rep.beijing}/edit",   LOGIN, 200, 403, 403, 403, 403),
    ("POST", "/admin/users/{user:rep.beijing}/edit",  LOGIN, 422, 403, 403, 403, 403),
    ("POST", "/admin/users/{user:rep.beijing}/password", LOGIN, 422, 403, 403, 403, 403),
    ("POST", "/admin/users/{user:merch.guangdong}/end-sessions", LOGIN, USERS, 403, 403, 403, 403),
    ("GET", "/admin/users/999999",                    LOGIN, 404, 403, 403, 403, 403),
    ("GET", "/admin/audit",                           LOGIN, 200, 403, 403, 403, 403),
    # ledgers and statements: whoever sees the account; posting: finance (and the admin) for the
    # company's own customers, a distributor for its dealers; nobody else
    ("GET", f"/accounts/{ACC_OWN}/ledger",            LOGIN, 200, 200, 200, 200, 200),
    ("GET", f"/accounts/{ACC_OWN}/ledger?format=xlsx", LOGIN, 200, 200, 200, 200, 200),
    ("GET", f"/accounts/{ACC_OWN}/ledger?format=pdf", LOGIN, 404, 404, 404, 404, 404),
    ("GET", f"/accounts/{ACC_OWN}/ledger?month=2026-13", LOGIN, 400, 400, 400, 400, 400),
    ("GET", f"/accounts/{DEALER_OWN}/ledger?kind=shipment", LOGIN, 200, 200, 200, 200, 200),
    ("GET", f"/accounts/{ACC_TJ}/ledger",             LOGIN, 200, 200, 200, 404, 404),
    ("GET", f"/accounts/{ACC_SH}/ledger",             LOGIN, 200, 200, 404, 404, 404),
    ("GET", f"/accounts/{DEALER_SH}/ledger",          LOGIN, 200, 200, 404, 404, 404),
    ("GET", "/accounts/999999/ledger",                LOGIN, 404, 404, 404, 404, 404),
    ("GET", f"/accounts/{ACC_OWN}/statement",         LOGIN, 200, 200, 200, 200, 200),
    ("GET", f"/accounts/{ACC_OWN}/statement?period=2026-01&format=xlsx", LOGIN, 200, 200, 200, 200, 200),
    ("GET", f"/accounts/{ACC_OWN}/statement?period=26-1", LOGIN, 400, 400, 400, 400, 400),
    ("GET", f"/accounts/{DEALER_OWN}/statement",      LOGIN, 200, 200, 200, 200, 200),
    ("GET", f"/accounts/{ACC_SH}/statement",          LOGIN, 200, 200, 404, 404, 404),
    ("GET", f"/accounts/{DEALER_GZ}/statement",       LOGIN, 200, 200, 404, 404, 404),
    ("GET", f"/accounts/{ACC_OWN}/documents/new/shipment", LOGIN, 200, 200, 403, 403, 403),
    ("POST", f"/accounts/{ACC_OWN}/documents/new/shipment", LOGIN, 422, 422, 403, 403, 403),
    ("GET", f"/accounts/{ACC_OWN}/documents/new/adjustment", LOGIN, 200, 200, 403, 403, 403),
    ("GET", f"/accounts/{ACC_OWN}/documents/new/invoice", LOGIN, 404, 404, 404, 404, 404),
    ("GET", f"/accounts/{DEALER_OWN}/documents/new/payment", LOGIN, 403, 403, 403, 403, 200),
    ("POST", f"/accounts/{DEALER_OWN}/documents/new/payment", LOGIN, 403, 403, 403, 403, 422),
    ("GET", f"/accounts/{DEALER_OWN}/documents/new/return", LOGIN, 403, 403, 403, 403, 200),
    ("GET", f"/accounts/{DEALER_DIRECT}/documents/new/rebate", LOGIN, 200, 200, 404, 404, 404),
    ("GET", f"/accounts/{DEALER_SH}/documents/new/shipment", LOGIN, 403, 403, 404, 404, 404),
    ("POST", f"/accounts/{ACC_SH}/documents/new/opening", LOGIN, 422, 422, 404, 404, 404),
    # documents by number (the shared demo database has none: see tests/ledger/test_views.py)
    ("GET", "/documents/FH-2000-999999",              LOGIN, 404, 404, 404, 404, 404),
    ("POST", "/documents/FH-2000-999999/reverse",     LOGIN, 404, 404, 404, 404, 404),
    # month close: finance and the admin; reopening: the admin. 2999-12 has not ended (422).
    ("GET", "/periods",                               LOGIN, 200, 200, 403, 403, 403),
    ("POST", "/periods/2999-12/close",                LOGIN, 422, 422, 403, 403, 403),
    ("POST", "/periods/2026-13/close",                LOGIN, 404, 404, 403, 403, 403),
    ("POST", "/periods/2999-12/reopen",               LOGIN, 422, 403, 403, 403, 403),
    # ageing: internal roles, over the accounts they see
    ("GET", "/ageing",                                LOGIN, 200, 200, 200, 200, 403),
    ("GET", "/ageing?format=xlsx&as_of=2026-01-31",   LOGIN, 200, 200, 200, 200, 403),
    ("GET", "/ageing?as_of=2026-02-30",               LOGIN, 400, 400, 400, 400, 403),
    # imports: finance and the admin, and distributors (for their dealers: checked per row)
    ("GET", "/imports/",                              LOGIN, 200, 200, 403, 403, 200),
    ("GET", "/imports/template/shipment.xlsx",        LOGIN, 200, 200, 403, 403, 200),
    ("GET", "/imports/template/invoice.csv",          LOGIN, 404, 404, 403, 403, 404),
    ("POST", "/imports/payment",                      LOGIN, 422, 422, 403, 403, 422),
    # the report archive: finance and the admin make settlements, supervisors read their
    # regions', distributors read their own and make their dealers' (runs scoped in
    # tests/reports/test_archive.py); no run exists in this database, so their pages are 404
    ("GET", "/reports/",                              LOGIN, 200, 200, 200, 403, 200),
    ("GET", "/reports/?period=2026-13&status=nope&region=x", LOGIN, 200, 200, 200, 403, 200),
    ("POST", "/reports/settlements",                  LOGIN, 422, 422, 403, 403, 422),
    ("GET", "/reports/batches/999999",                LOGIN, 404, 404, 404, 403, 404),
    ("GET", "/reports/runs/999999",                   LOGIN, 404, 404, 404, 404, 404),
    ("GET", "/reports/runs/999999/download",          LOGIN, 404, 404, 404, 404, 404),
    ("POST", "/reports/runs/999999/regenerate",       LOGIN, 404, 404, 404, 404, 404),
    ("POST", "/reports/runs/999999/retry",            LOGIN, 404, 404, 404, 404, 404),
    ("GET", "/reports/settlements/2026-13.zip",       LOGIN, 404, 404, 404, 403, 404),
    # reconciliation: this database has no history, so no statement exists (their pages are 404;
    # who sees and answers which statement: tests/reconciliation/test_views.py)
    ("GET", "/reconciliation/",                       LOGIN, 200, 200, 200, 403, 200),
    ("GET", "/reconciliation/?month=2026-13",         LOGIN, 400, 400, 400, 403, 400),
    ("GET", "/reconciliation/999999",                 LOGIN, 404, 404, 404, 404, 404),
    ("POST", "/reconciliation/999999/confirm",        LOGIN, 404, 404, 404, 404, 404),
    ("GET", "/reconciliation/999999/dispute",         LOGIN, 404, 404, 404, 404, 404),
    ("POST", "/reconciliation/999999/dispute",        LOGIN, 404, 404, 404, 404, 404),
    ("POST", "/reconciliation/999999/reissue",        LOGIN, 404, 404, 404, 404, 404),
    ("POST", "/reconciliation/999999/release",        LOGIN, 404, 404, 404, 404, 404),
    ("POST", "/reconciliation/items/999999/answer",   LOGIN, 404, 404, 404, 404, 404),
    ("GET", "/reconciliation/items/999999/attachment", LOGIN, 404, 404, 404, 404, 404),
    ("GET", "/reconciliation/board",                  LOGIN, 200, 200, 200, 403, 403),
    ("GET", "/reconciliation/disputes",               LOGIN, 200, 200, 200, 403, 200),
    ("GET", "/reconciliation/dealers",                LOGIN, 404, 404, 404, 403, 200),
    ("GET", f"/reconciliation/dealers?distributor={ACC_OWN}", LOGIN, 200, 200, 200, 403, 200),
    ("GET", f"/reconciliation/dealers?distributor={ACC_SH}",  LOGIN, 200, 200, 404, 403, 404),
    ("GET", f"/reconciliation/dealers?distributor={DEALER_OWN}", LOGIN, 404, 404, 404, 403, 404),
    ("GET", "/reconciliation/issue",                  LOGIN, 200, 200, 403, 403, 200),
    ("POST", "/reconciliation/issue",                 LOGIN, 422, 422, 403, 403, 422),
    ("GET", "/reconciliation/settings",               LOGIN, 200, 200, 403, 403, 403),
    ("POST", "/reconciliation/settings",              LOGIN, 422, 422, 403, 403, 403),
    ("GET", "/reconciliation/payouts",                LOGIN, 403, 403, 403, 403, 200),
    ("GET", "/reconciliation/payouts/999999/pass-on", LOGIN, 404, 404, 404, 404, 404),
    ("POST", "/reconciliation/payouts/999999/pass-on", LOGIN, 404, 404, 404, 404, 404),
    # expenses: claims are their claimant's, their region's supervisors', finance's and admin's
    # (no claim exists in this database: whose claim is whose is tests/expenses/test_views.py)
    ("GET", "/expenses/",                             LOGIN, (302, "/expenses/claims"), (302, "/expenses/claims"), 200, 200, 403),
    ("GET", "/expenses/claims",                       LOGIN, 200, 200, 200, 403, 403),
    ("GET", "/expenses/claims?month=2026-13&status=nope", LOGIN, 400, 400, 400, 403, 403),
    ("GET", "/expenses/new",                          LOGIN, 403, 403, 200, 200, 403),
    ("POST", "/expenses/new",                         LOGIN, 403, 403, 422, 422, 403),
    ("GET", "/expenses/approvals",                    LOGIN, 200, 403, 200, 403, 403),
    ("POST", "/expenses/approvals/bulk",              LOGIN, (302, "/expenses/approvals"), 403,
     (302, "/expenses/approvals"), 403, 403),
    ("GET", "/expenses/payments",                     LOGIN, 200, 200, 403, 403, 403),
    ("GET", "/expenses/999999",                       LOGIN, 404, 404, 404, 404, 404),
    ("POST", "/expenses/999999/edit",                 LOGIN, 404, 404, 404, 404, 404),
    ("POST", "/expenses/999999/delete",               LOGIN, 404, 404, 404, 404, 404),
    ("POST", "/expenses/999999/lines",                LOGIN, 404, 404, 404, 404, 404),
    ("GET", "/expenses/999999/lines/1/edit",          LOGIN, 404, 404, 404, 404, 404),
    ("POST", "/expenses/999999/lines/1/edit",         LOGIN, 404, 404, 404, 404, 404),
    ("POST", "/expenses/999999/lines/1/delete",       LOGIN, 404, 404, 404, 404, 404),
    ("POST", "/expenses/999999/lines/1/receipts",     LOGIN, 404, 404, 404, 404, 404),
    ("GET", "/expenses/999999/receipts/1",            LOGIN, 404, 404, 404, 404, 404),
    ("POST", "/expenses/999999/receipts/1/delete",    LOGIN, 404, 404, 404, 404, 404),
    ("POST", "/expenses/999999/submit",               LOGIN, 404, 404, 404, 404, 404),
    ("POST", "/expenses/999999/approve",              LOGIN, 404, 404, 404, 404, 404),
    ("POST", "/expenses/999999/reject",               LOGIN, 404, 404, 404, 404, 404),
    ("POST", "/expenses/999999/pay",                  LOGIN, 404, 404, 404, 404, 404),
    ("GET", "/expenses/999999/voucher.pdf",           LOGIN, 404, 404, 404, 404, 404),
    ("GET", "/expenses/budgets",                      LOGIN, 200, 200, 200, 403, 403),
    ("GET", "/expenses/budgets?month=2026-13",        LOGIN, 400, 400, 400, 403, 403),
    ("POST", "/expenses/budgets",                     LOGIN, 422, 422, 403, 403, 403),
    ("POST", "/expenses/budgets/copy",                LOGIN, 422, 422, 403, 403, 403),
    ("GET", "/expenses/budgets/import",               LOGIN, 200, 200, 403, 403, 403),
    ("POST", "/expenses/budgets/import",              LOGIN, 422, 422, 403, 403, 403),
    ("GET", "/expenses/budgets/template.xlsx",        LOGIN, 200, 200, 403, 403, 403),
    ("GET", "/expenses/settings",                     LOGIN, 200, 200, 403, 403, 403),
    ("POST", "/expenses/settings",                    LOGIN, 422, 422, 403, 403, 403),
    ("GET", "/expenses/summary",                      LOGIN, 200, 200, 200, 403, 403),
    ("GET", "/expenses/summary?month=2026-13",        LOGIN, 400, 400, 400, 403, 403),
    ("GET", "/expenses/summary?region={reg:SOUTH}",   LOGIN, 200, 200, 404, 403, 403),
    ("GET", "/expenses/summary.xlsx",                 LOGIN, 200, 200, 200, 403, 403),
    # ten-day plans: an account's plans are seen with the account (whose plan is whose, who drafts,
    # approves and changes it: tests/plans/); plan URLs name the account by code
    ("GET", "/plans/",                                LOGIN, 200, 200, 200, 200, 200),
    ("GET", "/plans/?period=2026-03-2",               LOGIN, 200, 200, 200, 200, 200),
    ("GET", "/plans/?period=nope",                    LOGIN, 400, 400, 400, 400, 400),
    ("POST", "/plans/",                               LOGIN, 400, 400, 400, 400, 400),
    ("GET", "/plans/approvals",                       LOGIN, 200, 403, 200, 403, 403),
    ("POST", "/plans/approvals",                      LOGIN, (302, "/plans/approvals"), 403,
     (302, "/plans/approvals"), 403, 403),
    ("GET", "/plans/GD-BJ01/2026-03-2",               LOGIN, 200, 200, 200, 200, 200),
    ("GET", "/plans/GD-TJ01/2026-03-2",               LOGIN, 200, 200, 200, 404, 404),
    ("GET", "/plans/GD-SH01/2026-03-2",               LOGIN, 200, 200, 404, 404, 404),
    ("GET", "/plans/GD-BJ01/2026-13-2",               LOGIN, 404, 404, 404, 404, 404),
    ("POST", "/plans/GD-BJ01/2026-03-2",              LOGIN, 422, 403, 422, 422, 422),
    ("POST", "/plans/DL-BJ001/2026-03-2",             LOGIN, 422, 403, 422, 422, 403),
    ("POST", "/plans/GD-SH01/2026-03-2",              LOGIN, 422, 403, 404, 404, 404),
    ("POST", "/plans/GD-BJ01/2026-03-2/approve",      LOGIN, 404, 404, 404, 404, 404),
    ("POST", "/plans/GD-BJ01/2026-03-2/send-back",    LOGIN, 404, 404, 404, 404, 404),
    ("POST", "/plans/GD-BJ01/2026-03-2/variance",     LOGIN, 404, 404, 404, 404, 404),
    ("GET", "/plans/actual",                          LOGIN, 200, 200, 200, 200, 200),
    ("GET", "/plans/actual?period=nope",              LOGIN, 400, 400, 400, 400, 400),
    ("GET", "/plans/actual/trend",                    LOGIN, 200, 200, 200, 200, 200),
    ("GET", "/plans/reports",                         LOGIN, 200, 200, 200, 403, 403),
    ("POST", "/plans/reports/generate",               LOGIN, 422, 422, 422, 403, 403),
    ("GET", "/plans/reports/999999.pdf",              LOGIN, 404, 404, 404, 403, 403),
    # the JSON API: a bearer token or nothing, whoever is logged in (tests/api/ for tokens)
    ("GET", "/api/v1/plans",                          401, 401, 401, 401, 401, 401),
    ("GET", "/api/v1/plans/actual",                   401, 401, 401, 401, 401, 401),
    ("GET", "/api/v1/plans/GD-BJ01/2026-03-2",        401, 401, 401, 401, 401, 401),
    ("PUT", "/api/v1/plans/GD-BJ01/2026-03-2",        401, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/plans/GD-BJ01/2026-03-2/submit", 401, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/plans/GD-BJ01/2026-03-2/approve", 401, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/plans/GD-BJ01/2026-03-2/send-back", 401, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/plans/GD-BJ01/2026-03-2/change", 401, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/plans/GD-BJ01/2026-03-2/variance-note", 401, 401, 401, 401, 401, 401),
    ("GET", "/api/v1/expenses",                       401, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/expenses",                      401, 401, 401, 401, 401, 401),
    ("GET", "/api/v1/expenses/999999",                401, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/expenses/999999/submit",        401, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/expenses/999999/approve",       401, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/expenses/999999/reject",        401, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/expenses/999999/pay",           401, 401, 401, 401, 401, 401),
    ("GET", "/api/v1/reconciliations",                        401, 401, 401, 401, 401, 401),
    ("GET", "/api/v1/reconciliations/GD-BJ01/2026-03",        401, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/reconciliations/issue",                 401, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/reconciliations/GD-BJ01/2026-03/confirm", 401, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/reconciliations/GD-BJ01/2026-03/dispute", 401, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/disputes/999999/answer",                401, 401, 401, 401, 401, 401),
    ("GET", "/api/v1/openapi.json",                   200, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/accounts",                       401, 401, 401, 401, 401, 401),
    ("GET", "/api/v1/accounts/GD-BJ01",               401, 401, 401, 401, 401, 401),
    ("GET", "/api/v1/accounts/GD-BJ01/statement",     401, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/documents",                     401, 401, 401, 401, 401, 401),
    ("GET", "/api/v1/documents/FH-2000-999999",       401, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/documents/FH-2000-999999/reverse", 401, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/periods/2999-12/close",         401, 401, 401, 401, 401, 401),
    # monthly meetings (tests/meetings/): a planned and a published meeting of 北京 (GD-BJ01 invited),
    # made by the module's fixture below; a distributor reads only published minutes it was invited to
    ("GET", "/meetings/",                             LOGIN, 200, 200, 200, 200, 200),
    ("GET", "/meetings/?month=2026-13",               LOGIN, 400, 400, 400, 400, 400),
    ("GET", "/meetings/items",                        LOGIN, 200, 200, 200, 200, 200),
    ("GET", "/meetings/new",                          LOGIN, 200, 403, 200, 403, 403),
    ("POST", "/meetings/new",                         LOGIN, 422, 403, 422, 403, 403),
    ("GET", f"/meetings/{PLANNED}",                   LOGIN, 200, 200, 200, 200, 404),
    ("GET", f"/meetings/{PUBLISHED}",                 LOGIN, 200, 200, 200, 200, 200),
    ("GET", f"/meetings/{PLANNED}/edit",              LOGIN, 200, 403, 200, 403, 404),
    ("POST", f"/meetings/{PLANNED}/edit",             LOGIN, 422, 403, 422, 403, 404),
    ("GET", f"/meetings/{PUBLISHED}/edit",            LOGIN, 409, 403, 409, 403, 403),
    ("POST", f"/meetings/{PLANNED}/delete",           LOGIN, 422, 403, 422, 403, 404),
    ("POST", f"/meetings/{PLANNED}/agenda",           LOGIN, 422, 403, 422, 403, 404),
    ("POST", f"/meetings/{PLANNED}/agenda/{{agenda:ACCESS 议程}}/delete", LOGIN, 422, 403, 422, 403, 404),
    ("POST", f"/meetings/{PLANNED}/targets",          LOGIN, 422, 403, 422, 403, 404),
    ("POST", f"/meetings/{PLANNED}/items",            LOGIN, 422, 403, 422, 403, 404),
    ("POST", f"/meetings/{PLANNED}/hold",             LOGIN, 422, 403, 422, 403, 404),
    ("POST", f"/meetings/{PLANNED}/publish",          LOGIN, 422, 403, 422, 403, 404),
    ("GET", f"/meetings/{PUBLISHED}/minutes.pdf",     LOGIN, 200, 200, 200, 200, 200),
    ("GET", f"/meetings/{PLANNED}/minutes.pdf",       LOGIN, 200, 200, 200, 200, 404),
    ("GET", "/meetings/999999/minutes.pdf",           LOGIN, 404, 404, 404, 404, 404),
    ("POST", "/meetings/items/{item:ACCESS 待办}",     LOGIN, 422, 403, 422, 422, 404),
    ("POST", "/meetings/items/{item:ACCESS 待办}/resolve", LOGIN, 422, 403, 422, 422, 404),
    ("POST", "/meetings/items/{item:ACCESS 待办}/reopen", LOGIN, 422, 403, 422, 422, 404),
    # promotions (tests/promotions/): a running 华北区 promotion with DL-BJ001 (dist.bj's dealer)
    # enrolled and an execution report by rep.beijing waiting for a verdict; a draft
    ("GET", "/promotions/",                           LOGIN, 200, 200, 200, 200, 200),
    ("GET", "/promotions/calendar",                   LOGIN, 200, 200, 200, 200, 200),
    ("GET", "/promotions/calendar?month=nope",        LOGIN, 400, 400, 400, 400, 400),
    ("GET", "/promotions/new",                        LOGIN, 200, 200, 403, 403, 403),
    ("POST", "/promotions/new",                       LOGIN, 422, 422, 403, 403, 403),
    ("GET", f"/promotions/{PROMO}",                   LOGIN, 200, 200, 200, 200, 200),
    ("GET", f"/promotions/{DRAFT}",                   LOGIN, 200, 200, 404, 404, 404),
    ("GET", f"/promotions/{PROMO}/edit",              LOGIN, 200, 200, 403, 403, 403),
    ("POST", f"/promotions/{PROMO}/edit",             LOGIN, 422, 422, 403, 403, 403),
    ("POST", f"/promotions/{DRAFT}/publish",          LOGIN, 422, 422, 404, 404, 404),
    ("POST", f"/promotions/{DRAFT}/delete",           LOGIN, 422, 422, 404, 404, 404),
    ("POST", f"/promotions/{PROMO}/enrol",            LOGIN, 422, 403, 422, 403, 403),
    ("POST", f"/promotions/{PROMO}/enrolments/{ENROLLED}", LOGIN, 422, 403, 422, 403, 403),
    ("POST", f"/promotions/{PROMO}/enrolments/999999/withdraw", LOGIN, 404, 404, 404, 404, 404),
    ("GET", f"/promotions/{PROMO}/reports",           LOGIN, 200, 200, 200, 200, 200),
    ("GET", f"/promotions/{PROMO}/enrolments/{ENROLLED}/report", LOGIN, 200, 403, 200, 200, 403),
    ("POST", f"/promotions/{PROMO}/enrolments/{ENROLLED}/report", LOGIN, 422, 403, 422, 422, 403),
    ("GET", "/promotions/photos/{photo:access.png}",  LOGIN, 200, 200, 200, 200, 200),
    ("POST", "/promotions/reports/{xrep:ACCESS 执行}/verify", LOGIN, 422, 403, 422, 403, 403),
    ("POST", "/promotions/reports/{xrep:ACCESS 执行}/reject", LOGIN, 422, 403, 422, 403, 403),
    ("GET", f"/promotions/{PROMO}/settlement",        LOGIN, 200, 200, 200, 200, 200),
    ("POST", f"/promotions/{PROMO}/settle",           LOGIN, 422, 422, 403, 403, 403),
    ("GET", f"/promotions/{PROMO}/settlement/{{reg:NORTH}}.pdf", LOGIN, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/meetings",                       401, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/meetings",                      401, 401, 401, 401, 401, 401),
    ("GET", "/api/v1/meetings/999999",                401, 401, 401, 401, 401, 401),
    ("PUT", "/api/v1/meetings/999999",                401, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/meetings/999999/hold",          401, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/meetings/999999/publish",       401, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/meetings/999999/agenda",        401, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/meetings/999999/targets",       401, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/meetings/999999/items",         401, 401, 401, 401, 401, 401),
    ("GET", "/api/v1/action-items",                   401, 401, 401, 401, 401, 401),
    ("GET", "/api/v1/action-items/999999",            401, 401, 401, 401, 401, 401),
    ("PUT", "/api/v1/action-items/999999",            401, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/action-items/999999/resolve",   401, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/action-items/999999/reopen",    401, 401, 401, 401, 401, 401),
    ("GET", "/api/v1/promotions",                     401, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/promotions",                    401, 401, 401, 401, 401, 401),
    ("GET", "/api/v1/promotions/PR-X",                401, 401, 401, 401, 401, 401),
    ("PUT", "/api/v1/promotions/PR-X",                401, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/promotions/PR-X/publish",       401, 401, 401, 401, 401, 401),
    ("GET", "/api/v1/promotions/PR-X/enrolments",     401, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/promotions/PR-X/enrolments",    401, 401, 401, 401, 401, 401),
    ("PUT", "/api/v1/promotions/PR-X/enrolments/GD-BJ01", 401, 401, 401, 401, 401, 401),
    ("DELETE", "/api/v1/promotions/PR-X/enrolments/GD-BJ01", 401, 401, 401, 401, 401, 401),
    ("GET", "/api/v1/promotions/PR-X/reports",        401, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/promotions/PR-X/reports",       401, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/execution-reports/999999/verify", 401, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/execution-reports/999999/reject", 401, 401, 401, 401, 401, 401),
    ("GET", "/api/v1/promotions/PR-X/settlement",     401, 401, 401, 401, 401, 401),
    ("POST", "/api/v1/promotions/PR-X/settle",        401, 401, 401, 401, 401, 401),
    # the scheduler's pages: the admin only ("sample" is the job tests/system/sample_jobs.py
    # registers; running it is asked only of a job that does not exist, so nothing is recorded)
    ("GET", "/system/schedules",                      LOGIN, 200, 403, 403, 403, 403),
    ("GET", "/system/schedules/sample/edit",          LOGIN, 200, 403, 403, 403, 403),
    ("POST", "/system/schedules/sample/edit",         LOGIN, 422, 403, 403, 403, 403),
    ("GET", "/system/schedules/nope/edit",            LOGIN, 404, 403, 403, 403, 403),
    ("POST", "/system/schedules/nope/run",            LOGIN, 404, 403, 403, 403, 403),
    ("GET", "/system/runs",                           LOGIN, 200, 403, 403, 403, 403),
    ("GET", "/system/runs?job=sample&status=failed",  LOGIN, 200, 403, 403, 403, 403),
    ("POST", "/system/runs/999999/retry",             LOGIN, 404, 403, 403, 403, 403),
    # notifications: every user their own (whose rows: tests/notify/); the table's payload names
    # neither one notification nor all, and is refused
    ("GET", "/notifications",                         LOGIN, 200, 200, 200, 200, 200),
    ("GET", "/notifications?page=99",                 LOGIN, 200, 200, 200, 200, 200),
    ("POST", "/notifications/read",                   LOGIN, 400, 400, 400, 400, 400),
    # static files need no login
    ("GET", "/static/css/app.css",                    200, 200, 200, 200, 200, 200),
]

# Other users than the table's columns: the same rules from the other side.
EXTRA = [
    ("GET", f"/accounts/{ACC_OWN}", "sup.east", 404),
    ("GET", f"/accounts/{DEALER_OWN}", "sup.south", 404),
    ("GET", f"/accounts/{ACC_SH}", "sup.east", 200),
    ("GET", f"/accounts/{DEALER_DIRECT}", "sup.east", 200),
    ("GET", f"/accounts/{ACC_OWN}", "dist.sh", 404),
    ("GET", f"/accounts/{DEALER_OWN}", "dist.tj", 404),
    ("GET", f"/accounts/{ACC_SH}", "dist.sh", 200),
    ("GET", "/accounts/{acc:DL-ZJ001}", "dist.sh", 200),  # its dealer in another sub-region
    ("GET", f"/accounts/{ACC_TJ}", "merch.tianjin", 200),
    ("GET", f"/accounts/{ACC_OWN}", "merch.tianjin", 404),
    ("GET", "/accounts/{acc:DL-ZJ001}", "rep.shanghai", 404),  # 浙江 is not 上海
    ("GET", "/regions/{reg:NORTH}", "sup.east", 404),
    ("GET", "/regions/{reg:EAST}", "sup.east", 200),
    ("GET", "/regions/{reg:ZJ}", "sup.east", 200),
    ("GET", "/admin/users", "sup.east", 403),
    ("POST", "/admin/users/{user:rep.shanghai}/edit", "sup.east", 403),
    ("GET", f"/accounts/{ACC_SH}/ledger", "dist.sh", 200),
    ("GET", f"/accounts/{ACC_OWN}/ledger", "dist.sh", 404),
    ("GET", f"/accounts/{ACC_OWN}/statement", "dist.tj", 404),
    ("GET", "/accounts/{acc:DL-ZJ001}/documents/new/shipment", "dist.sh", 200),
    ("GET", f"/accounts/{DEALER_OWN}/documents/new/shipment", "dist.tj", 404),
    ("GET", f"/accounts/{ACC_TJ}/ledger", "merch.tianjin", 200),
    ("GET", f"/accounts/{ACC_OWN}/ledger", "merch.tianjin", 404),
    ("GET", f"/accounts/{ACC_SH}/ledger", "sup.east", 200),
    ("GET", f"/accounts/{ACC_SH}/documents/new/shipment", "sup.east", 403),
    ("GET", "/ageing", "dist.sh", 403),
    ("GET", f"/meetings/{PUBLISHED}", "sup.east", 404),
    ("GET", f"/meetings/{PUBLISHED}", "dist.sh", 404),
    ("GET", f"/meetings/{PUBLISHED}/minutes.pdf", "dist.tj", 404),
    ("POST", "/meetings/items/{item:ACCESS 待办}/resolve", "sup.east", 404),
    ("GET", f"/promotions/{PROMO}", "sup.east", 404),
    ("GET", f"/promotions/{PROMO}", "dist.sh", 404),
    ("GET", f"/promotions/{PROMO}/settlement/{{reg:NORTH}}.pdf", "dist.sh", 404),
    ("POST", "/promotions/reports/{xrep:ACCESS 执行}/verify", "rep.beijing", 403),
]


@pytest.fixture(scope="module", autouse=True)
def issue8_objects(shared_demo_app):
    """Meetings and promotions for the rows above (the demo's master data has none): made once per
    module and engine through the services, dated today so that they are held and running."""
    import io

    from PIL import Image
    from werkzeug.datastructures import FileStorage

    from channel.meetings import services as ms
    from channel.promotions import services as ps
    from tests.ledger import account, user, written
    from tests.meetings import region

    app = shared_demo_app
    with app.app_context():
        today = ms.business_today()
        sup, rep, finance = user("sup.north"), user("rep.beijing"), user("finance")
        bj01, rep_id = account("GD-BJ01").id, rep.id

        def meeting(title):
            return written(ms.create_meeting, region("BJ"), on=today, at=None, place="北京办事处", title=title,
                           by=sup, account_ids=[bj01], user_ids=[rep_id])

        planned = meeting("ACCESS 计划会议")
        written(ms.add_agenda_item, planned, kind="market", title="ACCESS 议程", by=sup)
        written(ms.raise_item, planned, title="ACCESS 待办", owner=rep, due_on=None, by=sup)
        published = meeting("ACCESS 已发布会议")
        written(ms.raise_item, published, title="ACCESS 已发布待办", owner=rep, due_on=None, by=sup)
        written(ms.hold, published, version=None, attended_account_ids=[bj01], by=sup, today=today)
        written(ms.publish, published, version=None, by=sup, today=today)
        products = [db.session.execute(select(Product.id).where(Product.code == "P-W550")).scalar_one()]
        start = today.replace(day=1)

        def promotion(code):
            data = ps.PromotionInput(code=code, name=f"{code} 铺货奖励", kind="per_outlet", rate=5_000,
                                     starts_on=start, ends_on=start + timedelta(days=60), product_ids=products,
                                     budgets={region("NORTH").id: 1_000_000})
            return written(ps.create_promotion, data, by=finance)

        written(ps.publish, promotion("ACC-PROMO"), version=None, by=finance, today=today)
        promotion("ACC-DRAFT")
        running = db.session.execute(select(Promotion).where(Promotion.code == "ACC-PROMO")).scalar_one()
        enrolment = written(ps.enrol, running, account("DL-BJ001"), target_outlets=5, by=sup, today=today)
        png = io.BytesIO()
        Image.new("RGB", (4, 4), (200, 30, 30)).save(png, "PNG")
        photo = FileStorage(io.BytesIO(png.getvalue()), filename="access.png", content_type="image/png")
        written(ps.report_execution, enrolment, executed_on=today, outlets=3, note="ACCESS 执行", photos=[photo],
                by=rep, today=today)
        db.session.remove()


def _params():
    for method, url, *expected in TABLE:
        for who, status in zip(COLUMNS, expected, strict=True):
            yield pytest.param(method, url, who, status, id=f"{method} {url} {who}")
    for method, url, who, status in EXTRA:
        yield pytest.param(method, url, who, status, id=f"{method} {url} {who}")


def _cached_clients(app):
    return app.extensions.setdefault("access_test_clients", {})


def _client(app, who, fresh=False):
    """A client for `who`; logged-in clients are reused within the module's app (logins cost
    time), except where the row itself ends the session."""
    cache = _cached_clients(app)
    if fresh or who == ANON or who not in cache:
        client = app.test_client()
        if who != ANON:
            client.login(who)
        if fresh or who == ANON:
            return client
        cache[who] = client
    return cache[who]


@pytest.mark.parametrize(("method", "url", "who", "expected"), list(_params()))
def test_access(shared_demo_app, method, url, who, expected):
    app = shared_demo_app
    if url == "/logout":  # logging out ends every session of the user: log in afresh later
        _cached_clients(app).pop(who, None)
    client = _client(app, who, fresh=url == "/logout")
    target = resolve(app, url)
    if method == "GET":
        resp = client.get(target, headers=EN)
    elif method == "POST":
        resp = client.post_form(target, BAD_FORM, headers=EN)
    else:  # PUT (the API's): the same refused payload
        resp = client.open(target, method=method, data=dict(BAD_FORM, csrf_token=client.csrf_token()), headers=EN)

    resp.close()
    status, where = expected if isinstance(expected, tuple) else (expected, None)
    assert resp.status_code == status, f"{who} {method} {target}"
    if where:
        assert location_path(resp).startswith(where)
    if resp.mimetype != "text/html":
        return
    # Random tokens could contain a short code by chance: leave them out of the comparison.
    body = re.sub(r'name="csrf_token"[^>]*>', "", resp.get_data(as_text=True))
    if status in (403, 404):
        # A refusal shows no data of the object asked for: neither its code nor its name.
        for code in placeholders(url):
            assert code not in body
        for name in object_names(app, url, kinds=("acc",)):
            assert name not in body
    if status == 200 and method == "GET" and placeholders(url):
        # The page is about the object asked for.
        names = object_names(app, url)
        code, name = placeholders(url)[-1], names[-1] if names else placeholders(url)[-1]
        assert code in body or name in body


def _rule_methods(app):
    out = set()
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            out.add((rule.rule, method))
    return out


def test_every_route_is_in_the_table(shared_demo_app):
    """A new route fails here until the access table says who may use it."""
    app = shared_demo_app
    adapter = app.url_map.bind("localhost")
    covered = set()
    for method, url, *_ in TABLE + [(m, u, w, s) for m, u, w, s in EXTRA]:
        path = resolve(app, url).split("?", 1)[0]
        rule, _args = adapter.match(path, method=method, return_rule=True)
        covered.add((rule.rule, method))
    missing = _rule_methods(app) - covered
    assert not missing, f"routes missing from the access table: {sorted(missing)}"


# --- scope of data: lists and exports -------------------------------------------------------------

def _demo_codes(region_codes=None, supplier=None):
    """Demo account codes by region code or by supplier, from channel/demo.py itself."""
    codes = set()
    for code, _name, region, *_ in DISTRIBUTORS:
        if region_codes is not None and region in region_codes:
            codes.add(code)
    for code, _name, region, supplier_code, *_ in DEALERS:
        if region_codes is not None and region in region_codes:
            codes.add(code)
        if supplier is not None and supplier_code == supplier:
            codes.add(code)
    return codes


DIST_BJ_CODES = {"GD-BJ01"} | _demo_codes(supplier="GD-BJ01")
NORTH_CODES = _demo_codes(region_codes={"BJ", "TJ"})
BEIJING_CODES = _demo_codes(region_codes={"BJ"})


def test_demo_expectations_are_what_we_think():
    assert DIST_BJ_CODES == {"GD-BJ01"} | {f"DL-BJ00{i}" for i in range(1, 7)}
    assert NORTH_CODES == DIST_BJ_CODES | {"GD-TJ01"} | {f"DL-TJ00{i}" for i in range(1, 6)}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_distributor_export_holds_only_its_own_account_and_dealers(shared_demo_app, fmt):
    client = _client(shared_demo_app, "dist.bj")
    resp = client.get(f"/accounts?format={fmt}", headers=EN)
    assert resp.status_code == 200
    assert resp.headers["Content-Disposition"] == f'attachment; filename="accounts.{fmt}"'
    codes = export_codes(resp, fmt)
    assert sorted(codes) == sorted(DIST_BJ_CODES)
    body = resp.get_data()
    assert "GD-SH01".encode() not in body and "上海沪联".encode() not in body


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("query", [
    "supplier={acc:GD-SH01}",  # filtering by another distributor does not widen the scope
    "region={reg:SH}",
    "q=GD-SH01",
    "kind=distributor&supplier=company",
])
def test_distributor_export_filters_never_widen_scope(shared_demo_app, fmt, query):
    client = _client(shared_demo_app, "dist.bj")
    resp = client.get(resolve(shared_demo_app, f"/accounts?format={fmt}&{query}"), headers=EN)
    assert resp.status_code == 200
    assert set(export_codes(resp, fmt)) <= DIST_BJ_CODES


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_supervisor_export_holds_only_own_regions(shared_demo_app, fmt):
    client = _client(shared_demo_app, "sup.north")
    resp = client.get(f"/accounts?format={fmt}", headers=EN)
    assert resp.status_code == 200
    rows = csv_rows(resp) if fmt == "csv" else None
    codes = export_codes(resp, fmt)
    assert sorted(codes) == sorted(NORTH_CODES)
    if rows:
        region_col = rows[0].index("Region")
        assert {r[region_col].split(" › ")[0] for r in rows[1:]} == {"华北区"}


def test_field_staff_export_holds_only_own_region(shared_demo_app):
    client = _client(shared_demo_app, "rep.beijing")
    resp = client.get("/accounts?format=csv", headers=EN)
    assert resp.status_code == 200
    assert sorted(export_codes(resp, "csv")) == sorted(BEIJING_CODES)


def test_finance_export_holds_everything(shared_demo_app):
    resp = _client(shared_demo_app, "finance").get("/accounts?format=xlsx", headers=EN)
    assert resp.status_code == 200
    assert len(export_codes(resp, "xlsx")) == len(DISTRIBUTORS) + len(DEALERS)


def test_supervisor_region_export_holds_only_own_regions(shared_demo_app):
    resp = _client(shared_demo_app, "sup.north").get("/regions?format=csv", headers=EN)
    assert resp.status_code == 200
    assert sorted(export_codes(resp, "csv")) == ["BJ", "NORTH", "TJ"]


@pytest.mark.parametrize(("who", "expected"), [
    ("dist.bj", DIST_BJ_CODES),
    ("sup.north", NORTH_CODES),
    ("rep.beijing", BEIJING_CODES),
])
def test_account_list_is_scoped(shared_demo_app, who, expected):
    client = _client(shared_demo_app, who)
    resp = client.get("/accounts", headers=EN)
    assert resp.status_code == 200
    assert sorted(listed_account_codes(resp)) == sorted(expected)


def test_distributor_dashboard_and_account_page_show_only_its_dealers(shared_demo_app):
    app = shared_demo_app
    client = _client(app, "dist.bj")
    for url in ("/dashboard", resolve(app, f"/accounts/{ACC_OWN}")):
        resp = client.get(url, headers=EN)
        assert resp.status_code == 200
        assert set(listed_account_codes(resp)) <= DIST_BJ_CODES
        assert {f"DL-BJ00{i}" for i in range(1, 7)} <= set(listed_account_codes(resp))
        assert "DL-SH001" not in resp.get_data(as_text=True)


def test_supervisor_region_page_lists_only_scoped_accounts(shared_demo_app):
    client = _client(shared_demo_app, "sup.north")
    resp = client.get(resolve(shared_demo_app, "/regions/{reg:BJ}"), headers=EN)
    assert resp.status_code == 200
    assert sorted(listed_account_codes(resp)) == sorted(BEIJING_CODES)
