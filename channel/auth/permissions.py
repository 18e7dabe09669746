"""The one place that decides who may see and do what.

Views and templates both ask `can(action, obj)`; every list query is narrowed by a `scope_*`
function. An object outside the user's scope is answered with 404 by the views (never its data).
"""
from flask import abort
from flask_login import current_user
from sqlalchemy import false, or_, select

from ..extensions import db

INTERNAL = ("admin", "finance", "supervisor", "field_staff")


def region_tree_ids(root_ids):
    """The given regions and every region below them."""
    from ..masterdata.models import Region

    rows = db.session.execute(select(Region.id, Region.parent_id)).all()
    children = {}
    for rid, parent in rows:
        children.setdefault(parent, []).append(rid)
    seen, stack = set(), list(root_ids)
    while stack:
        rid = stack.pop()
        if rid in seen:
            continue
        seen.add(rid)
        stack.extend(children.get(rid, ()))
    return seen


def region_scope(user):
    """Region ids the user works in, with their sub-regions; None means every region."""
    if user.role in ("admin", "finance"):
        return None
    if user.role == "supervisor":
        return region_tree_ids([r.id for r in user.supervised_regions])
    if user.role == "field_staff":
        return region_tree_ids([user.region_id]) if user.region_id else set()
    return set()


def scope_accounts(stmt, user):
    from ..masterdata.models import Account

    if user.role == "distributor":
        return stmt.where(or_(Account.id == user.account_id, Account.supplier_id == user.account_id))
    regions = region_scope(user)
    if regions is None:
        return stmt
    return stmt.where(Account.region_id.in_(regions)) if regions else stmt.where(false())


def scope_regions(stmt, user):
    from ..masterdata.models import Region

    regions = region_scope(user)
    if regions is None:
        return stmt
    return stmt.where(Region.id.in_(regions)) if regions else stmt.where(false())


def scope_claims(stmt, user):
    """Expense claims: one's own; a supervisor's regions; finance and admin all."""
    from ..expenses.models import ExpenseClaim

    if user.role in ("admin", "finance"):
        return stmt
    if user.role == "supervisor":
        regions = region_scope(user)
        return stmt.where(or_(ExpenseClaim.claimant_id == user.id, ExpenseClaim.region_id.in_(regions or [-1])))
    if user.role == "field_staff":
        return stmt.where(ExpenseClaim.claimant_id == user.id)
    return stmt.where(false())


def _view_claim(user, claim):
    if claim.claimant_id == user.id or user.role in ("admin", "finance"):
        return True
    return user.role == "supervisor" and claim.region_id in region_scope(user)


def _claim_may(action):
    # The state machine (channel.core.expenses) decides, for a claim the user can see.
    def rule(user, claim):
        from ..expenses.services import may
        return _view_claim(user, claim) and may(claim, action, user)
    return rule


def _view_account(user, account):
    if user.role == "distributor":
        return account.id == user.account_id or account.supplier_id == user.account_id
    regions = region_scope(user)
    return regions is None or account.region_id in regions


def _view_region(user, region):
    regions = region_scope(user)
    return user.role in INTERNAL and (regions is None or region.id in regions)


def _edit_account_archive(user, account):
    # Supervisors keep the customer file (contacts, address, notes) of their own regions.
    if user.role in ("admin", "finance"):
        return True
    return user.role == "supervisor" and _view_account(user, account)


def _post_documents(user, account):
    # The company's ledgers are kept by finance; a distributor keeps its dealers' ledgers.
    if account.supplier_id is None:
        return user.role in ("admin", "finance")
    return user.role == "distributor" and account.supplier_id == user.account_id


def _generate_reports(user, account=None):
    # Finance makes the company's reports for anyone; a distributor makes its dealers' statements.
    if user.role in ("admin", "finance"):
        return True
    if account is None:
        return user.role == "distributor"
    return user.role == "distributor" and account.supplier_id == user.account_id


REPORT_READERS = ("admin", "finance", "supervisor", "distributor")


def _issue_statements(user, account=None):
    # The supplier issues: finance the company's statements, a distributor its dealers'.
    if account is None:
        return user.role in ("admin", "finance", "distributor")
    if account.supplier_id is None:
        return user.role in ("admin", "finance")
    return user.role == "distributor" and account.supplier_id == user.account_id


def _view_reconciliation(user, rec):
    return user.role in REPORT_READERS and _view_account(user, rec.account)


def _answer_statement(user, rec):
    # The account confirms or disputes its own statement from its portal login. A dealer has no
    # login (yet): its supplier records the dealer's signed answer.
    if user.account_id is not None and user.account_id == rec.account_id:
        return True
    return rec.account.kind == "dealer" and _issue_statements(user, rec.account)


def _answer_dispute(user, rec):
    # The supplier answers: a distributor for its dealers; for the company, finance or the
    # supervisor of the account's region (who may explain; corrections need post_documents).
    if rec.supplier_id is not None:
        return user.role == "distributor" and user.account_id == rec.supplier_id
    if user.role in ("admin", "finance"):
        return True
    return user.role == "supervisor" and _view_account(user, rec.account)


# --- meetings (月度经销商会议) and promotions (促销活动) ------------------------------------------

def _view_meeting(user, meeting):
    # Staff see their regions' meetings; an account reads the published minutes it was invited to
    # (a distributor also those its dealers were invited to).
    if user.role in ("admin", "finance"):
        return True
    if user.role == "distributor":
        return meeting.status == "published" and any(
            a.account is not None and user.account_id in (a.account.id, a.account.supplier_id)
            for a in meeting.attendees)
    return meeting.region_id in (region_scope(user) or set())


def _manage_meeting(user, meeting=None):
    # The supervisor of the region runs its meeting (admin too).
    if user.role == "admin":
        return True
    if user.role != "supervisor":
        return False
    return meeting is None or meeting.region_id in (region_scope(user) or set())


def _schedule_meeting(user, region=None):
    return _manage_meeting(user) and (region is None or user.role == "admin"
                                      or region.id in (region_scope(user) or set()))


def _follow_up_item(user, item):
    return item.owner_id == user.id or _manage_meeting(user, item.meeting)


def regions_above(region_ids):
    """The given regions and every region above them."""
    from ..masterdata.models import Region

    parents = dict(db.session.execute(select(Region.id, Region.parent_id)).all())
    out = set()
    for rid in region_ids:
        node = rid
        while node is not None and node not in out:
            out.add(node)
            node = parents.get(node)
    return out


def regions_touching(user):
    """The user's regions and those above them (a promotion of 华北区 runs in 北京 too)."""
    return regions_above(region_scope(user) or set())


def _view_promotion(user, promotion):
    # Head office sees every promotion; staff the published ones running in their regions; a
    # distributor the published ones its account or a dealer of it is enrolled in.
    if user.role in ("admin", "finance"):
        return True
    if promotion.status == "draft":
        return False
    if user.role == "distributor":
        return any(user.account_id in (e.account.id, e.account.supplier_id) for e in promotion.enrolments)
    return bool({r.region_id for r in promotion.regions} & regions_touching(user))


def _enrol_account(user, account=None):
    # The supervisor of the account's region enrols it (admin too).
    if user.role == "admin":
        return True
    return user.role == "supervisor" and (account is None or account.region_id in (region_scope(user) or set()))


def _report_execution(user, enrolment=None):
    # Field staff (and supervisors) of the account's region report what was done.
    if user.role not in ("field_staff", "supervisor", "admin"):
        return False
    scope = region_scope(user)
    return enrolment is None or scope is None or enrolment.account.region_id in scope


def _check_report(user, report):
    # A supervisor of the account's region gives the verdict, never on a report of their own.
    return report.reported_by_id != user.id and _enrol_account(user, report.enrolment.account)


RULES = {
    # Reports (the archive is listed through scope_accounts; a run is seen with its account).
    "view_reports": lambda user, _=None: user.role in REPORT_READERS,
    "download_report": lambda user, run: user.role in REPORT_READERS and _view_account(user, run.account),
    "generate_reports": _generate_reports,
    # Reconciliation (对账).
    "view_reconciliations": lambda user, _=None: user.role in REPORT_READERS,
    "view_reconciliation": _view_reconciliation,
    "issue_statements": _issue_statements,
    "answer_statement": _answer_statement,
    "answer_dispute": _answer_dispute,
    "correct_dispute": lambda user, rec: _answer_dispute(user, rec) and _post_documents(user, rec.account),
    "view_reconciliation_board": lambda user, _=None: user.role in ("admin", "finance", "supervisor"),
    "manage_reconciliation_settings": lambda user, _=None: user.role in ("admin", "finance"),
    "release_hold": lambda user, _=None: user.role in ("admin", "finance"),
    "pass_on_payouts": lambda user, account=None: user.role == "distributor" and (
        account is None or account.id == user.account_id),
    # Expense claims (报销): claimed by field staff and supervisors; approved by a supervisor of
    # the claimant's region, second approvals by a second approver (admin, or a user so marked).
    "create_claims": lambda user, _=None: user.role in ("field_staff", "supervisor"),
    "view_claim": _view_claim,
    "edit_claim": lambda user, claim: claim.claimant_id == user.id and claim.status == "draft",
    "submit_claim": _claim_may("submit"),
    "approve_claim": _claim_may("approve"),
    "reject_claim": _claim_may("reject"),
    "pay_claim": _claim_may("pay"),
    "approve_claims": lambda user, _=None: user.role in ("admin", "supervisor") or (
        bool(user.second_approver) and user.role == "finance"),
    "pay_claims": lambda user, _=None: user.role in ("admin", "finance"),
    "view_expense_summary": lambda user, _=None: user.role in ("admin", "finance", "supervisor"),
    "manage_budgets": lambda user, _=None: user.role in ("admin", "finance"),
    "manage_expense_settings": lambda user, _=None: user.role in ("admin", "finance"),
    # Ten-day plans (旬计划): seen with their account; drafted by the account's field staff (a
    # distributor's own user for its own account), approved by a supervisor of its region. The
    # state (channel/core/plans.py) decides the rest.
    "view_plans": lambda user, _=None: True,  # lists go through scope_accounts
    "view_plan": lambda user, plan: _view_account(user, plan.account),
    "approve_plans": lambda user, _=None: user.role in ("admin", "supervisor"),
    "view_plan_reports": lambda user, _=None: user.role in ("admin", "finance", "supervisor"),
    # Monthly meetings: lists go through channel.meetings.services.meetings_query.
    "view_meetings": lambda user, _=None: True,
    "view_meeting": _view_meeting,
    "schedule_meetings": _schedule_meeting,
    "manage_meeting": _manage_meeting,
    "follow_up_item": _follow_up_item,
    # Promotions: set up, published and settled by head office; rolled out by the supervisors;
    # execution reported by field staff. Lists go through channel.promotions.services.promotions_query.
    "view_promotions": lambda user, _=None: True,
    "view_promotion": _view_promotion,
    "manage_promotions": lambda user, _=None: user.role in ("admin", "finance"),
    "settle_promotions": lambda user, _=None: user.role in ("admin", "finance"),
    "enrol_accounts": _enrol_account,
    "report_execution": _report_execution,
    "check_report": _check_report,
    "view_ledger": _view_account,
    "post_documents": _post_documents,
    "override_credit": _post_documents,
    "reverse_documents": _post_documents,
    "close_periods": lambda user, _=None: user.role in ("admin", "finance"),
    # Each row is checked against post_documents for its own account as well.
    "import_documents": lambda user, _=None: user.role in ("admin", "finance", "distributor"),
    "view_ageing": lambda user, _=None: user.role in INTERNAL,  # lists are scoped by scope_accounts
    "reopen_periods": lambda user, _=None: user.role == "admin",
    "view_account": _view_account,
    "create_account": lambda user, _=None: user.role in ("admin", "finance"),
    "edit_account": lambda user, _=None: user.role in ("admin", "finance"),
    "edit_account_archive": _edit_account_archive,
    "list_accounts": lambda user, _=None: True,
    "list_regions": lambda user, _=None: user.role in INTERNAL,
    "view_region": _view_region,
    "manage_regions": lambda user, _=None: user.role == "admin",
    "list_products": lambda user, _=None: True,
    "manage_products": lambda user, _=None: user.role in ("admin", "finance"),
    "manage_users": lambda user, _=None: user.role == "admin",
    "view_audit": lambda user, _=None: user.role == "admin",
    "view_system": lambda user, _=None: user.role == "admin",
    "manage_schedules": lambda user, _=None: user.role == "admin",
}


def can(action, obj=None, user=None):
    user = user if user is not None else current_user
    if not getattr(user, "is_authenticated", False):
        return False
    try:
        rule = RULES[action]
    except KeyError:
        raise ValueError(f"unknown permission {action!r}") from None
    return bool(rule(user, obj))


def require(action, obj=None):
    """Abort unless allowed: 404 for an object the user may not know exists, 403 for a feature."""
    if not can(action, obj):
        abort(404 if obj is not None else 403)
