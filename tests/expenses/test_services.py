"""The rules of expense claims (issue 6), each through the services on both engines, and the
database refusing the same things when the services are bypassed.

Demo people: 高峰 rep.beijing (北京) and 田甜 merch.tianjin (天津) belong to 华北 (sup.north 马国栋);
宋磊 rep.shanghai to 华东 (sup.east); 王经理 mgr.channel supervises all three regions and gives
second approvals; admin may too; finance pays. Second approval above ¥3,000.00 unless a test says
otherwise; caps ¥100.00 meal a day, ¥50.00 supplement a day, ¥500 / ¥380 / ¥280 a night by tier.
"""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from channel.audit.models import AuditEntry
from channel.core.money import MoneyError, parse_amount
from channel.expenses import services as es
from channel.expenses.models import ExpenseClaim, ExpenseEvent, ExpenseReceipt
from channel.extensions import db
from channel.masterdata.models import Region
from channel.notify.models import Notification
from tests.files.test_files import image, tiny_pdf
from tests.ledger import user, written, yuan

from . import MONTH, D, act, claim


def refused(code, fn, *args, **kw) -> es.ExpenseError:
    """fn(*args, **kw) in a write transaction is refused with `code` (and rolled back)."""
    with pytest.raises(es.ExpenseError) as info:
        written(fn, *args, **kw)
    assert info.value.code == code, info.value.info
    return info.value


def told(kind, c) -> set:
    return {n.user.username for n in db.session.execute(select(Notification).where(
        Notification.kind == kind, Notification.link == f"/expenses/{c.id}")).scalars()}


def second_approval_over(amount: str):
    settings = es.get_settings()
    written(es.save_settings, second_approval_over_fen=yuan(amount), per_day_fen=settings.caps.per_day_fen,
            per_night_fen=settings.caps.per_night_fen, by=user("admin"))


def line_input(on=D, category="travel", amount=yuan("100.00"), **kw):
    return es.LineInput(on, category, amount, **kw)


# --- who approves ------------------------------------------------------------------------------

def test_nobody_approves_their_own_claim(app):
    with app.app_context():
        own = claim("sup.north", title="华北经销商会议", submit=True)
        refused("own_claim", es.approve, own, by=user("sup.north"))
        refused("own_claim", es.reject, own, by=user("sup.north"), comment="撤回")
        assert not es.may(own, "approve", user("sup.north"))
        assert own not in es.approval_queue(user("sup.north"))
        # Field staff approve nobody's claim, not even a colleague's of the same region.
        rep = claim("merch.tianjin", submit=True)
        refused("not_your_region", es.approve, rep, by=user("rep.beijing"))
        assert db.session.get(ExpenseClaim, own.id).status == "submitted"


def test_a_supervisors_own_claim_goes_to_the_next_level(app):
    with app.app_context():
        own = claim("sup.north", title="华北经销商会议", lines=[(D, "travel", "3500.00")], submit=True)
        assert told("expense_submitted", own) == {"admin", "mgr.channel"}
        # Another region's supervisor is not the next level; finance approves nothing.
        refused("needs_next_level", es.approve, own, by=user("sup.east"))
        refused("needs_next_level", es.approve, own, by=user("finance"))
        assert own in es.approval_queue(user("mgr.channel")) and own in es.approval_queue(user("admin"))
        act(es.approve, own, "mgr.channel")
        # The next level's approval is final, above the second-approval amount too.
        assert (own.status, own.first_approver.username, own.approver.username) == ("approved", "mgr.channel",
                                                                                    "mgr.channel")
        assert told("expense_approved", own) == {"sup.north"}


def test_no_approval_outside_ones_regions(app):
    with app.app_context():
        shanghai = claim("rep.shanghai", title="上海客户拜访", submit=True)
        refused("not_your_region", es.approve, shanghai, by=user("sup.north"))
        refused("not_your_region", es.reject, shanghai, by=user("sup.north"), comment="不是我的区域")
        assert not es.may(shanghai, "approve", user("sup.north"))
        assert shanghai not in es.approval_queue(user("sup.north"))
        # A sub-region's claim is the top region's supervisor's: 天津 belongs to 华北.
        tianjin = claim("merch.tianjin", submit=True)
        assert [c.id for c in es.approval_queue(user("sup.north"))] == [tianjin.id]
        act(es.approve, shanghai, "sup.east")
        assert shanghai.status == "approved"


def test_second_approval_above_the_configured_amount(app):
    with app.app_context():
        second_approval_over("1000.00")
        at = claim(lines=[(D, "travel", "1000.00")], submit=True)  # at the amount: one approval
        act(es.approve, at, "sup.north")
        assert at.status == "approved"
        above = claim(lines=[(D, "travel", "1000.01")], submit=True)
        act(es.approve, above, "sup.north")
        assert (above.status, above.first_approver.username, above.approver_id) == ("second_approval",
                                                                                    "sup.north", None)
        assert told("expense_second_approval", above) == {"admin", "mgr.channel"}
        assert told("expense_approved", above) == set()
        # The supervisor cannot give the second one; a manager does.
        refused("needs_second_approver", es.approve, above, by=user("sup.north"))
        assert above in es.approval_queue(user("mgr.channel")) and above not in es.approval_queue(user("sup.north"))
        act(es.approve, above, "mgr.channel")
        assert (above.status, above.second_approver.username, above.approver.username) == (
            "approved", "mgr.channel", "mgr.channel")
        assert [(e.action, e.from_status, e.to_status, e.by.username) for e in above.events] == [
            ("submit", "draft", "submitted", "rep.beijing"),
            ("approve", "submitted", "second_approval", "sup.north"),
            ("approve", "second_approval", "approved", "mgr.channel")]
        assert told("expense_approved", above) == {"rep.beijing"}


def test_the_second_approver_is_not_the_first(app):
    with app.app_context():
        big = claim(lines=[(D, "travel", "3000.01")], submit=True)  # above the default ¥3,000.00
        act(es.approve, big, "mgr.channel")  # as a supervisor of 华北: the first approval
        assert big.status == "second_approval"
        assert told("expense_second_approval", big) == {"admin"}  # not the first approver again
        refused("same_approver_twice", es.approve, big, by=user("mgr.channel"))
        act(es.approve, big, "admin")
        assert (big.status, big.approved_fen) == ("approved", yuan("3000.01"))


# --- rejecting ---------------------------------------------------------------------------------

def test_reject_needs_a_comment_returns_a_draft_and_keeps_the_history(app):
    with app.app_context():
        second_approval_over("100.00")
        c = claim(lines=[(D, "travel", "300.00"), (D, "meal", "150.00")], submit=True)
        meal = c.lines[1]
        act(es.approve, c, "sup.north", cuts={meal.id: (yuan("100.00"), "餐补标准 ¥100/天")})
        assert c.status == "second_approval"
        for blank in ("", "   ", None):
            refused("comment_required", es.reject, c, by=user("mgr.channel"), comment=blank)
        act(es.reject, c, "mgr.channel", comment="请补充出差审批单")
        assert (c.status, c.first_approver_id, c.second_approver_id, c.submitted_at) == ("draft", None, None, None)
        assert [(ln.approved_fen, ln.cut_reason) for ln in c.lines] == [(None, None), (None, None)]  # cuts undone
        assert told("expense_rejected", c) == {"rep.beijing"}
        assert db.session.execute(select(AuditEntry.reason).where(
            AuditEntry.action == "expense_claim_rejected")).scalar_one() == "请补充出差审批单"
        # A returned claim is revised and submitted again; its history stays.
        refused("has_history", es.delete_claim, c, by=user("rep.beijing"))
        act(es.update_line, c.lines[1], "rep.beijing", data=line_input(category="meal", amount=yuan("100.00"),
                                                                     description="出差审批单已附"))
        act(es.submit, c, "rep.beijing")
        assert (c.status, c.claimed_fen) == ("submitted", yuan("400.00"))
        assert [(e.seq, e.action, e.to_status, e.comment) for e in c.events] == [
            (2, "submit", "submitted", None), (3, "approve", "second_approval", None),
            (4, "reject", "draft", "请补充出差审批单"), (5, "submit", "submitted", None)]
        assert [e.amount_fen for e in c.events] == [yuan("450.00"), yuan("400.00"), yuan("450.00"), yuan("400.00")]


# --- cuts and payment --------------------------------------------------------------------------

def test_cuts_are_never_above_the_claim_and_say_why_and_finance_pays_the_approved_amount(app):
    with app.app_context():
        c = claim(lines=[(D, "travel", "300.00"), (D, "meal", "150.00")], submit=True)
        other = claim("merch.tianjin", submit=True)
        travel, meal = c.lines
        refused("cut_above_claim", es.approve, c, by=user("sup.north"), cuts={meal.id: (yuan("150.01"), "x")})
        refused("amount_negative", es.approve, c, by=user("sup.north"), cuts={meal.id: (-1, "x")})
        refused("cut_reason_required", es.approve, c, by=user("sup.north"), cuts={meal.id: (yuan("100.00"), " ")})
        refused("line_unknown", es.approve, c, by=user("sup.north"),
                cuts={other.lines[0].id: (yuan("1.00"), "not this claim's")})
        with pytest.raises(TypeError):  # fen are integers, never floats
            written(es.approve, c, by=user("sup.north"), cuts={meal.id: (100.0, "float")})
        assert c.status == "submitted" and [ln.approved_fen for ln in c.lines] == [None, None]
        act(es.approve, c, "sup.north", cuts={meal.id: (yuan("100.00"), "餐补标准 ¥100/天"),
                                              travel.id: (yuan("300.00"), "")})  # uncut: no reason needed
        assert (c.status, c.claimed_fen, c.approved_fen) == ("approved", yuan("450.00"), yuan("400.00"))
        assert [(ln.approved_fen, ln.cut_reason) for ln in c.lines] == [(yuan("300.00"), None),
                                                                          (yuan("100.00"), "餐补标准 ¥100/天")]
        assert told("expense_approved", c) == {"rep.beijing"}
        act(es.pay, c, "finance", paid_on=date(2026, 4, 5), reference="BT20260405-0001")
        assert (c.status, c.paid_fen, c.paid_on, c.payment_ref, c.paid_by.username) == (
            "paid", yuan("400.00"), date(2026, 4, 5), "BT20260405-0001", "finance")
        assert c.events[-1].amount_fen == yuan("400.00")
        assert told("expense_paid", c) == {"rep.beijing"}


def test_paying_needs_finance_a_reference_a_past_date_and_happens_once(app, monkeypatch):
    with app.app_context():
        c = claim(submit=True)
        refused("not_approved", es.pay, c, by=user("finance"), paid_on=date(2026, 4, 1), reference="R1")
        act(es.approve, c, "sup.north")
        refused("not_finance", es.pay, c, by=user("sup.north"), paid_on=date(2026, 4, 1), reference="R1")
        refused("not_finance", es.pay, c, by=user("rep.beijing"), paid_on=date(2026, 4, 1), reference="R1")
        refused("reference_required", es.pay, c, by=user("finance"), paid_on=date(2026, 4, 1), reference="  ")
        refused("reference_too_long", es.pay, c, by=user("finance"), paid_on=date(2026, 4, 1), reference="R" * 65)
        monkeypatch.setattr(es, "business_today", lambda: date(2026, 4, 1))
        refused("paid_on_in_future", es.pay, c, by=user("finance"), paid_on=date(2026, 4, 2), reference="R1")
        version = c.version
        act(es.pay, c, "finance", paid_on=date(2026, 4, 1), reference="R1", version=version)
        assert c.status == "paid"
        refused("already_paid", es.pay, c, by=user("finance"), paid_on=date(2026, 4, 1), reference="R2")
        refused("stale", es.pay, c, by=user("admin"), paid_on=date(2026, 4, 1), reference="R2", version=version)
        assert [e.action for e in c.events].count("pay") == 1 and c.payment_ref == "R1"
        # A paid claim never changes: not approved again, not rejected, not edited.
        refused("not_waiting_for_approval", es.reject, c, by=user("sup.north"), comment="再看看")
        refused("not_a_draft", es.add_line, c, line_input(), by=user("rep.beijing"))


def test_a_stale_version_is_refused_naming_who_acted(app):
    with app.app_context():
        c = claim(submit=True)
        seen = c.version
        act(es.approve, c, "sup.north", version=seen)
        err = refused("stale", es.approve, c, by=user("mgr.channel"), version=seen)
        assert err.info == {"who": "马国栋", "status": "approved"}


# --- lines ---------------------------------------------------------------------------------------

def test_amounts_are_positive_integer_fen(app):
    with app.app_context():
        c = claim()
        for amount, code in ((0, "amount_positive"), (-100, "amount_positive"), (1.5, "amount_invalid"),
                             ("12.50", "amount_invalid"), (Decimal("12.50"), "amount_invalid"),
                             (True, "amount_invalid"), (None, "amount_invalid"),
                             (es.MAX_LINE_FEN + 1, "amount_too_large")):
            refused(code, es.add_line, c, line_input(amount=amount), by=user("rep.beijing"))
            refused(code, es.update_line, c.lines[0], line_input(amount=amount), by=user("rep.beijing"))
        # What people type is turned into fen by parse_amount, which refuses a third decimal.
        with pytest.raises(MoneyError):
            parse_amount("12.505")
        assert parse_amount("12.5") == 1250
        act(es.add_line, c, "rep.beijing", data=line_input(amount=1))  # one fen is an amount
        assert [ln.amount_fen for ln in c.lines] == [yuan("300.00"), 1] and c.claimed_fen == yuan("300.01")


def test_a_line_is_dated_in_the_claims_month_and_not_in_the_future(app, monkeypatch):
    with app.app_context():
        c = claim()
        for day in (date(2026, 2, 28), date(2026, 4, 1)):
            err = refused("date_outside_month", es.add_line, c, line_input(on=day), by=user("rep.beijing"))
            assert err.info == {"month": "2026-03"}
        monkeypatch.setattr(es, "business_today", lambda: date(2026, 3, 15))
        refused("date_in_future", es.add_line, c, line_input(on=date(2026, 3, 16)), by=user("rep.beijing"))
        act(es.add_line, c, "rep.beijing", data=line_input(on=date(2026, 3, 15)))
        refused("month_in_future", es.create_claim, user("rep.beijing"), month=MONTH.next(), title="四月")
        # The claim's month cannot move away from its lines.
        refused("lines_outside_month", es.update_claim, c, title="x", month=MONTH.prev(), by=user("rep.beijing"))


def test_accommodation_needs_its_city_tier_and_nights(app):
    with app.app_context():
        c = claim()
        refused("city_tier_required", es.add_line, c, line_input(category="accommodation"), by=user("rep.beijing"))
        refused("city_tier_unknown", es.add_line, c, line_input(category="accommodation", city_tier=4),
                by=user("rep.beijing"))
        refused("nights_positive", es.add_line, c, line_input(category="accommodation", city_tier=1, nights=0),
                by=user("rep.beijing"))
        refused("category_unknown", es.add_line, c, line_input(category="gifts"), by=user("rep.beijing"))
        line = act(es.add_line, c, "rep.beijing", data=line_input(category="accommodation", city_tier=2, nights=2))
        assert (line.city_tier, line.nights) == (2, 2)
        # Tier and nights belong to accommodation only.
        meal = act(es.add_line, c, "rep.beijing", data=line_input(category="meal", city_tier=1, nights=3))
        assert (meal.city_tier, meal.nights) == (None, 1)


def test_only_the_claimant_changes_a_draft_and_a_submitted_claim_is_fixed(app):
    with app.app_context():
        empty = written(es.create_claim, user("rep.beijing"), month=MONTH, title="空")
        refused("nothing_claimed", es.submit, empty, by=user("rep.beijing"))
        c = claim()
        refused("not_your_claim", es.add_line, c, line_input(), by=user("sup.north"))
        refused("not_your_claim", es.submit, c, by=user("sup.north"))
        act(es.submit, c, "rep.beijing")
        refused("not_a_draft", es.submit, c, by=user("rep.beijing"))
        refused("not_a_draft", es.add_line, c, line_input(), by=user("rep.beijing"))
        refused("not_a_draft", es.update_line, c.lines[0], line_input(amount=1), by=user("rep.beijing"))
        refused("not_a_draft", es.delete_line, c.lines[0], by=user("rep.beijing"))
        refused("not_a_draft", es.add_receipt, c.lines[0], tiny_pdf(), by=user("rep.beijing"))
        refused("not_a_draft", es.delete_claim, c, by=user("rep.beijing"))
        assert (c.claimed_fen, len(c.lines)) == (yuan("300.00"), 1)
        refused("cannot_claim", es.create_claim, user("finance"), month=MONTH, title="财务")
        refused("cannot_claim", es.create_claim, user("dist.bj"), month=MONTH, title="经销商")


# --- budget --------------------------------------------------------------------------------------

def _uses(c) -> dict:
    return dict(es.budget_uses(c))


def test_budget_figures_a_finance_person_can_check(app):
    """华北, 2026-03: budget ¥10,000.00 in total, ¥2,000.00 for meals. Approved so far: 高峰's
    ¥6,000.00 (travel 5,400 + meal 600). Pending: 田甜's ¥1,500.00 (travel 1,200 + meal 300). This
    claim ¥3,000.00 (travel 2,500 + meal 500) leaves 10,000 - 6,000 - 3,000 = ¥1,000.00 in total
    (-¥500.00 once the pending one is approved too: a warning) and 2,000 - 600 - 500 = ¥900.00 of
    meals. 上海's approved claim counts against 华东, not here. Revised to ¥4,500.00 (another
    ¥1,500.00 of travel) it takes the total over by ¥500.00: approving needs a reason, audited.
    (Second approvals are set above ¥10,000.00 here, so that one approval decides.)"""
    with app.app_context():
        second_approval_over("10000.00")
        north = db.session.execute(select(Region).where(Region.code == "NORTH")).scalar_one()
        written(es.set_budgets, MONTH, north, {"total": yuan("10000.00"), "meal": yuan("2000.00")},
                by=user("finance"))
        approved = claim(lines=[(D, "travel", "5400.00"), (D, "meal", "600.00")], submit=True)
        act(es.approve, approved, "sup.north")
        shanghai = claim("rep.shanghai", lines=[(D, "travel", "2000.00")], submit=True)
        act(es.approve, shanghai, "sup.east")
        claim("merch.tianjin", lines=[(D, "travel", "1200.00"), (D, "meal", "300.00")], submit=True)  # pending
        claim(lines=[(D, "travel", "900.00")])  # a draft counts nowhere
        this = claim(title="天津联合拜访", lines=[(D, "travel", "2500.00"), (D, "meal", "500.00")], submit=True)

        uses = _uses(this)
        assert list(uses) == ["total", "travel", "meal"]
        total, meal = uses["total"], uses["meal"]
        assert (total.budget_fen, total.approved_fen, total.pending_fen, total.this_claim_fen) == (
            yuan("10000.00"), yuan("6000.00"), yuan("1500.00"), yuan("3000.00"))
        assert total.left_after_fen == yuan("1000.00") and not total.over and total.over_with_pending
        assert (meal.budget_fen, meal.approved_fen, meal.pending_fen, meal.left_after_fen) == (
            yuan("2000.00"), yuan("600.00"), yuan("300.00"), yuan("900.00"))
        assert uses["travel"].budget_fen is None and uses["travel"].left_after_fen is None
        assert not es.claim_flags(this).over_budget

        act(es.reject, this, "sup.north", comment="请补充天津段的高铁票")
        act(es.add_line, this, "rep.beijing", data=line_input(amount=yuan("1500.00"), description="北京—天津 往返"))
        act(es.submit, this, "rep.beijing")
        total = _uses(this)["total"]
        assert (total.this_claim_fen, total.left_after_fen, total.over) == (yuan("4500.00"), -yuan("500.00"), True)
        assert es.claim_flags(this).over_budget
        err = refused("budget_override_reason_required", es.approve, this, by=user("sup.north"), override_reason=" ")
        assert err.info == {"over": yuan("500.00")}
        act(es.approve, this, "sup.north", override_reason="天津大客户年度谈判，已报王经理同意")
        assert (this.status, this.approved_fen) == ("approved", yuan("4500.00"))
        assert this.events[-1].override_reason == "天津大客户年度谈判，已报王经理同意"
        audit = db.session.execute(select(AuditEntry).where(
            AuditEntry.action == "expense_budget_override")).scalar_one()
        assert (audit.reason, audit.object_id, audit.user.username) == (
            "天津大客户年度谈判，已报王经理同意", str(this.id), "sup.north")
        assert audit.changes == {"left_after": [None, "-¥500.00"]}


def test_a_cut_within_the_budget_needs_no_override(app):
    with app.app_context():
        north = db.session.execute(select(Region).where(Region.code == "NORTH")).scalar_one()
        written(es.set_budgets, MONTH, north, {"total": yuan("1000.00")}, by=user("finance"))
        c = claim(lines=[(D, "travel", "800.00"), (D, "meal", "400.00")], submit=True)
        assert _uses(c)["total"].over
        meal = c.lines[1]
        act(es.approve, c, "sup.north", cuts={meal.id: (yuan("200.00"), "餐补超标")})
        assert (c.status, c.approved_fen, c.events[-1].override_reason) == ("approved", yuan("1000.00"), None)
        assert not db.session.execute(select(AuditEntry).where(AuditEntry.action == "expense_budget_override")).first()


# --- flags ---------------------------------------------------------------------------------------

def test_policy_caps_flag_lines(app):
    with app.app_context():
        c = claim(lines=[(date(2026, 3, 10), "meal", "60.00"), (date(2026, 3, 10), "meal", "60.00"),  # ¥120 a day
                         (date(2026, 3, 11), "meal", "60.00"), (date(2026, 3, 11), "supplement", "50.00"),
                         (date(2026, 3, 12), "accommodation", "760.00", 2, 2),  # 2 × ¥380: at the cap
                         (date(2026, 3, 14), "accommodation", "500.01", 1, 1)])  # tier 1: ¥500 a night
        flags = es.claim_flags(c)
        assert flags.lines == {c.lines[0].id: "over_day_cap", c.lines[1].id: "over_day_cap",
                               c.lines[5].id: "over_night_cap"}
        assert flags.any and not flags.duplicates and not flags.over_budget


def test_the_same_receipt_in_another_claim_is_flagged(app):
    with app.app_context():
        taxi = image("PNG")
        a = claim()
        b = claim("merch.tianjin")
        clean = claim(lines=[(D, "local_transport", "30.00")])
        first = act(es.add_receipt, a.lines[0], "rep.beijing", upload=taxi, filename="taxi.png")
        again = act(es.add_receipt, a.lines[0], "rep.beijing", upload=taxi, filename="taxi (1).png")
        assert again.id == first.id  # the same file on the same line is one receipt, not a duplicate
        assert es.duplicate_receipts(a) == {}
        act(es.add_receipt, clean.lines[0], "rep.beijing", upload=tiny_pdf("clean"), filename="ticket.pdf")
        other = act(es.add_receipt, b.lines[0], "merch.tianjin", upload=taxi, filename="出租车票.png")
        assert es.duplicate_receipts(a) == {first.id: [b.number]}
        assert es.duplicate_receipts(b) == {other.id: [a.number]}
        assert es.duplicate_receipts(clean) == {}
        assert db.session.execute(select(ExpenseReceipt.sha256).where(ExpenseReceipt.claim_id == a.id)).scalar_one() \
            == other.sha256
        # Bulk approval leaves the flagged claims for one-by-one approval.
        for c, who in ((a, "rep.beijing"), (b, "merch.tianjin"), (clean, "rep.beijing")):
            act(es.submit, c, who)
        done, skipped = written(es.approve_many, [a, b, clean], by=user("sup.north"))
        assert [c.id for c in done] == [clean.id]
        assert sorted((c.id, err.code) for c, err in skipped) == sorted([(a.id, "flagged"), (b.id, "flagged")])
        assert (db.session.get(ExpenseClaim, a.id).status, db.session.get(ExpenseClaim, clean.id).status) == (
            "submitted", "approved")


# --- notifications ---------------------------------------------------------------------------------

def test_each_step_tells_the_right_people(app):
    with app.app_context():
        c = claim(lines=[(D, "travel", "3500.00")], submit=True)
        assert told("expense_submitted", c) == {"sup.north"}  # the region's supervisor, not the manager
        act(es.reject, c, "sup.north", comment="请附行程单")
        assert told("expense_rejected", c) == {"rep.beijing"}
        act(es.submit, c, "rep.beijing")
        act(es.approve, c, "sup.north")
        assert told("expense_second_approval", c) == {"admin", "mgr.channel"}
        act(es.approve, c, "admin")
        assert told("expense_approved", c) == {"rep.beijing"}
        act(es.pay, c, "finance", paid_on=date(2026, 4, 3), reference="BT-0403")
        assert told("expense_paid", c) == {"rep.beijing"}
        params = db.session.execute(select(Notification.params).where(
            Notification.kind == "expense_paid")).scalar_one()
        assert params["amount"] == "¥3,500.00" and params["number"] == c.number
        south = claim("rep.guangdong", submit=True)
        assert told("expense_submitted", south) == {"sup.south"}


# --- the database refuses, whatever the services do ---------------------------------------------

def _db_refuses(sql, match, **params):
    with pytest.raises(DBAPIError, match=match):
        with db.session.begin_nested():
            db.session.execute(text(sql), params)
    db.session.rollback()


def _db_accepts(sql, **params):
    with db.session.begin_nested() as nested:
        db.session.execute(text(sql), params)
        nested.rollback()
    db.session.rollback()


def test_the_database_refuses_what_the_rules_forbid(app):
    with app.app_context():
        draft = claim()
        act(es.add_receipt, draft.lines[0], "rep.beijing", upload=tiny_pdf("ticket"), filename="ticket.pdf")
        submitted = claim(lines=[(D, "travel", "300.00"), (D, "meal", "80.00")], submit=True)
        approved = claim(submit=True)
        act(es.approve, approved, "sup.north")
        paid = claim(submit=True)
        act(es.approve, paid, "sup.north")
        act(es.pay, paid, "finance", paid_on=date(2026, 4, 1), reference="BT-1")
        ids = {"draft": draft.id, "sub": submitted.id, "appr": approved.id, "paid": paid.id,
               "finance": user("finance").id, "sha": draft.lines[0].receipts[0].sha256}
        frozen = "a paid claim is never changed"
        only_drafts = "lines and receipts change only in a draft claim"
        final = "a submitted line keeps its claimed amount; an approved one is final"
        insert_line = ("INSERT INTO expense_lines (claim_id, spent_on, category, description, amount_fen, nights) "
                       "VALUES (:id, '2026-03-12', 'meal', '补录', 5000, 1)")
        # A paid claim never changes, nor do its lines.
        _db_refuses("UPDATE expense_claims SET title = 'changed' WHERE id = :id", frozen, id=ids["paid"])
        _db_refuses("UPDATE expense_claims SET status = 'approved', paid_fen = NULL WHERE id = :id", frozen,
                    id=ids["paid"])
        _db_refuses("UPDATE expense_lines SET description = 'changed' WHERE claim_id = :id", final, id=ids["paid"])
        _db_refuses("DELETE FROM expense_claims WHERE id = :id", "only a draft", id=ids["paid"])
        # Lines and receipts are added and removed in drafts only; claimed amounts stay once submitted.
        _db_accepts(insert_line, id=ids["draft"])
        _db_refuses(insert_line, only_drafts, id=ids["sub"])
        _db_refuses("DELETE FROM expense_lines WHERE claim_id = :id", only_drafts, id=ids["sub"])
        _db_refuses("INSERT INTO expense_receipts (claim_id, line_id, sha256, filename, uploaded_at) SELECT "
                    "claim_id, id, :sha, 'x.pdf', '2026-03-12 00:00:00+00' FROM expense_lines WHERE claim_id = :id",
                    only_drafts, id=ids["sub"], sha=ids["sha"])
        _db_refuses("UPDATE expense_receipts SET filename = 'other.pdf' WHERE claim_id = :id", "kept as uploaded",
                    id=ids["draft"])
        _db_accepts("UPDATE expense_lines SET amount_fen = amount_fen + 1 WHERE claim_id = :id", id=ids["draft"])
        for change in ("amount_fen = amount_fen + 1", "spent_on = '2026-03-11'", "category = 'other'",
                       "nights = 2"):
            _db_refuses(f"UPDATE expense_lines SET {change} WHERE claim_id = :id", final, id=ids["sub"])
        # A submitted line may be cut by its approver (with a reason); an approved claim's lines are final.
        _db_accepts("UPDATE expense_lines SET approved_fen = 100, cut_reason = '超标' WHERE claim_id = :id",
                    id=ids["sub"])
        _db_refuses("UPDATE expense_lines SET description = 'changed' WHERE claim_id = :id", final, id=ids["appr"])
        _db_refuses("UPDATE expense_lines SET approved_fen = 1, cut_reason = 'later' WHERE claim_id = :id", final,
                    id=ids["appr"])
        # The history is append-only.
        _db_refuses("UPDATE expense_events SET comment = 'rewritten' WHERE claim_id = :id", "append-only|refuse",
                    id=ids["appr"])
        _db_refuses("DELETE FROM expense_events WHERE claim_id = :id", "append-only|refuse", id=ids["appr"])
        _db_refuses("INSERT INTO expense_events (claim_id, seq, action, from_status, to_status, at) VALUES "
                    "(:id, 2, 'approve', 'submitted', 'approved', '2026-03-12 00:00:00+00')",
                    "uq_expense_events_seq|UNIQUE", id=ids["appr"])
        # Paid means the approved amount, exactly.
        pay = ("UPDATE expense_claims SET status = 'paid', paid_on = '2026-04-01', payment_ref = 'X', "
               "paid_by_id = :f, paid_at = '2026-04-01 00:00:00+00', paid_fen = approved_fen {} WHERE id = :id")
        _db_accepts(pay.format(""), id=ids["appr"], f=ids["finance"])
        for wrong in ("+ 1", "- 1"):
            _db_refuses(pay.format(wrong), "paid_exactly_approved", id=ids["appr"], f=ids["finance"])
        # Nobody approves their own claim; nobody approves more than was claimed.
        for column in ("approver_id", "first_approver_id"):
            _db_refuses(f"UPDATE expense_claims SET {column} = claimant_id WHERE id = :id", "_not_claimant",
                        id=ids["sub"])
        _db_refuses("UPDATE expense_claims SET approved_fen = claimed_fen + 1 WHERE id = :id",
                    "approved_within_claimed", id=ids["sub"])
        _db_refuses("UPDATE expense_lines SET approved_fen = amount_fen + 1, cut_reason = 'more' WHERE claim_id = :id",
                    "approved_within_claimed", id=ids["sub"])
        _db_refuses("UPDATE expense_lines SET approved_fen = amount_fen - 1 WHERE claim_id = :id", "cut_has_reason",
                    id=ids["sub"])
        _db_refuses("UPDATE expense_lines SET amount_fen = 0 WHERE claim_id = :id", "amount_positive",
                    id=ids["draft"])
        # Nothing moved.
        assert [(c.status, c.claimed_fen) for c in (draft, submitted, approved, paid)] == [
            ("draft", yuan("300.00")), ("submitted", yuan("380.00")), ("approved", yuan("300.00")),
            ("paid", yuan("300.00"))]
        assert db.session.get(ExpenseClaim, ids["paid"]).paid_fen == yuan("300.00")
        assert len(db.session.execute(select(ExpenseEvent).where(ExpenseEvent.claim_id == ids["appr"])).all()) == 2


def test_a_draft_is_edited_freely_by_its_claimant(app):
    with app.app_context():
        c = claim(lines=[(D, "travel", "300.00"), (D, "meal", "80.00")])
        travel, meal = c.lines
        receipt = act(es.add_receipt, travel, "rep.beijing", upload=tiny_pdf("ticket"), filename="../../etc/车票.pdf")
        assert receipt.filename == "车票.pdf"
        act(es.add_receipt, meal, "rep.beijing", upload=image("PNG"), filename="meal.png")
        act(es.update_line, travel, "rep.beijing", data=line_input(amount=yuan("280.00")))
        assert c.claimed_fen == yuan("360.00")
        act(es.remove_receipt, receipt, "rep.beijing")
        act(es.delete_line, meal, "rep.beijing")  # with its receipt
        assert (c.claimed_fen, [len(ln.receipts) for ln in c.lines]) == (yuan("280.00"), [0])
        act(es.delete_claim, c, "rep.beijing")
        assert db.session.get(ExpenseClaim, c.id) is None
