"""Ten-day plans (旬计划) for the demo company, through the real services (so every rule holds),
made to fit the ledger history demo_history has just posted.

- The eighteen finished periods before the current one (six months): a plan for every account
  the company plans (the general distributors, the direct dealers and most of the distributors'
  dealers) in every period it traded, drafted two days before the period by the region's field
  staff (北京 and 广州's general distributors by their own users), submitted and approved by the
  region's supervisor the day before it started. Each plan is the ledger's actual figures seen
  from before: most periods 86-112% achieved; a few far below plan (a slow season, a competitor's
  promotion), and the two slow payers' payments at about half of plan. Every plan below the
  variance threshold has its variance note. A few plans were sent back once before approval.
- The current period: approved (locked since it started), prefilled from the last; 北京鑫源's
  changed by 马国栋 with a reason, its earlier version kept.
- The coming period half filled: in each region about a quarter submitted (waiting for the
  supervisor), a quarter drafts (one sent back with a comment), the rest still missing.

Deterministic: the same `today` (and the same ledger history) gives the same plans. The routine
finished plans are written in bulk (_approved_in_bulk: the rows and events the services would
write, stamped at the planning times; ~30 statements a plan through the services would add
seconds to every demo load); everything with a story (a send-back, a variance note, the current
and the coming periods, the change) goes through the services, stamped at the load time.
"""
import random
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from .auth.models import User
from .core import plans as core
from .core.periods import TenDay
from .extensions import db
from .masterdata.models import Account, Product
from .plans import services as ps
from .plans.models import Plan, PlanEvent, PlanLine, PlanStock


PAST_PERIODS = 18  # six months of ten-day periods before the current one
# Field staff who draft each region's plans (by the account's region code).
DRAFTERS = {"BJ": ("rep.beijing",), "TJ": ("merch.tianjin",), "SH": ("rep.shanghai",), "ZJ": ("promo.zhejiang",),
            "GD": ("rep.guangdong", "merch.guangdong")}
OWN_DRAFTERS = {"GD-BJ01": "dist.bj", "GD-GZ01": "dist.gz"}  # general distributors planning themselves
SUPERVISORS = {"NORTH": "sup.north", "EAST": "sup.east", "SOUTH": "sup.south"}
# Shipments far below plan in the last two months (a competitor moved into its district).
FAR_BELOW = "DL-SH003"
SLOW_PAYERS = ("DL-TJ002", "DL-GZ003")  # pay about half of what was planned (demo_history.SLOW_PAYERS)
ALWAYS = (FAR_BELOW, *SLOW_PAYERS, "DL-BJ001", "DL-BJ002", "DL-TJ001", "DL-SH001", "DL-GZ001")
CHANGED = "GD-BJ01"
CHANGE_REASON = "总部追加旺季促销政策：P-W550 加量备货，回款同步提前；经与王建国确认。"
SEND_BACK_COMMENTS = ("数量低于上旬实际动销，请按门店库存重新估算。", "回款计划与账期不符，请与客户确认回款日期。")
COMING_SEND_BACK = "新品绿茶请加入本旬计划（每店至少 5 箱），回款日期请与财务核对。"

SHORT_NOTES = (
    "竞品买十送二促销，门店进货推迟到下一旬。",
    "连续降雨，客流下降，动销放缓，门店库存偏高。",
    "客户仓库搬迁，两次送货延后到下一旬。",
    "P-W550 工厂排产不足，缺货约一周，未能按计划发货。",
    "客户资金紧张，主动压缩进货量。",
    "门店装修停业三天，进货暂停。",
)
FAR_BELOW_NOTES = (
    "竞品在宝山区开设直营仓，以低于我方出厂价供货，两家大客户转向竞品。",
    "竞品直营仓持续低价冲击，门店仅补必需品；已申请区域价格支持。",
)
PAYMENT_NOTES = (
    "客户资金周转困难，回款仅到一半，已约定下旬补齐。",
    "对账差异未解决（两张退货单未入账），客户暂缓付款。",
    "承兑汇票未到期，回款顺延到下一旬。",
)
COMPETITOR = ("", "", "", "康师傅绿茶买五送一，终端陈列加码。", "农夫山泉端架陈列费上调。",
              "统一冰红茶新包装上市，铺货较快。", "竞品可乐夏季买赠活动。")
PROBLEMS = ("", "", "", "冷柜不足，夏季补货跟不上。", "有两箱临期品需调换。", "送货时间窗口紧，需提前一天下单。")


def _round_100(fen: int) -> int:
    return max(100, fen // 10_000 * 10_000) if fen >= 10_000 else max(100, fen // 100 * 100)


def _plan_from_actual(actual, period, ratio_pct, pay_ratio_pct, rng, lists) -> ps.PlanInput | None:
    """What the plan said beforehand, so that the actual figures achieve about `ratio_pct` of it
    (and the payment about `pay_ratio_pct`)."""
    lines = [(pid, max(1, (q * 100 + ratio_pct // 2) // ratio_pct), None)
             for pid, q in sorted(actual.shipped_qty.items()) if q > 0]
    payment = _round_100(actual.paid_fen * 100 // pay_ratio_pct) if actual.paid_fen > 0 else 0
    if not lines and not payment:
        return None
    stock = [(pid, rng.randint(0, 60), rng.randint(5, 120)) for pid, _, _ in lines[:2]]
    return ps.PlanInput(
        lines=lines, stock=stock, payment_fen=payment,
        payment_on=period.start + timedelta(days=rng.randint(2, 7)) if payment else None,
        competitor_notes=rng.choice(lists[0]), problems=rng.choice(lists[1]))


def _approve(plan, drafter, supervisor, period, rng, *, send_back=False):
    planning_day = period.start - timedelta(days=2)
    ps.submit(plan, by=drafter, today=planning_day)
    if send_back:
        ps.send_back(plan, by=supervisor, comment=rng.choice(SEND_BACK_COMMENTS), today=planning_day)
        ps.submit(plan, by=drafter, today=planning_day)
    ps.approve(plan, by=supervisor, today=period.start - timedelta(days=1), comment="同意")


def _at(day: date, hour: int) -> datetime:
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return datetime.combine(day, time(hour), tzinfo=zone).astimezone(timezone.utc)


def _approved_in_bulk(rows, prices):
    """The routine history in a few statements: each plan created, submitted two days before its
    period and approved the day before, as the services would have done (same rows, same events;
    the database's constraints and triggers hold them as they hold the services), at a fraction
    of the time of ~30 statements a plan."""
    plans = []
    for account, period, data, drafter, supervisor in rows:
        plan = Plan(account_id=account.id, period=str(period), period_start=period.start, status="draft", version=1,
                    drafted_by_id=drafter.id, payment_fen=data.payment_fen, payment_on=data.payment_on,
                    competitor_notes=data.competitor_notes or None, problems=data.problems or None,
                    created_at=_at(period.start - timedelta(days=2), 9))
        plan.lines = [PlanLine(product_id=pid, quantity=q, unit_price_fen=prices[pid], amount_fen=q * prices[pid])
                      for pid, q, _ in data.lines]
        plan.stock = [PlanStock(product_id=pid, stock_qty=st, sellout_qty=so) for pid, st, so in data.stock]
        plans.append(plan)
    db.session.add_all(plans)
    db.session.flush()
    for plan, (_, period, _, drafter, supervisor) in zip(plans, rows):
        submitted, approved = _at(period.start - timedelta(days=2), 17), _at(period.start - timedelta(days=1), 10)
        plan.status, plan.submitted_at = "approved", submitted
        plan.approved_by_id, plan.approved_at = supervisor.id, approved
        db.session.add_all([
            PlanEvent(plan_id=plan.id, seq=1, action="submit", from_status="draft", to_status="submitted",
                      by_id=drafter.id, at=submitted),
            PlanEvent(plan_id=plan.id, seq=2, action="approve", from_status="submitted", to_status="approved",
                      by_id=supervisor.id, at=approved, comment="同意")])
    db.session.flush()
    return plans


def load_plans(today: date, seed: int = 2027):
    today = min(today, ps.business_today())
    rng = random.Random(seed)
    users = {u.username: u for u in db.session.execute(select(User)).scalars()}
    accounts = db.session.execute(select(Account).order_by(Account.code)).scalars().all()
    products = {p.id: p for p in db.session.execute(select(Product)).scalars()}
    prices = {pid: p.list_price_fen for pid, p in products.items()}
    planned = [a for a in accounts if a.kind == "distributor" or a.supplier_id is None
               or a.code in ALWAYS or rng.random() < 0.7]
    current = TenDay.of(today)
    past = [current]
    for _ in range(PAST_PERIODS):
        past.insert(0, past[0].prev())
    past.pop()
    actuals = ps.actuals([a.id for a in planned], past)
    lists = (COMPETITOR, PROBLEMS)

    def drafter_of(account):
        own = OWN_DRAFTERS.get(account.code)
        return users[own] if own else users[rng.choice(DRAFTERS[account.region.code])]

    def supervisor_of(account):
        region = account.region
        while region.parent is not None:
            region = region.parent
        return users[SUPERVISORS[region.code]]

    # --- the finished periods: approved, achieved about as planned (some far below) -----------
    routine, made = [], []
    latest = {}  # account id -> its latest plan with shipments
    for account in planned:
        supervisor = supervisor_of(account)
        for n, period in enumerate(past):
            actual = actuals.get((account.id, str(period)))
            if actual is None:
                continue  # nothing traded: nothing was planned
            ratio = rng.randint(86, 112)
            if account.code == FAR_BELOW and n >= len(past) - 6:
                ratio = rng.randint(42, 62)
            elif rng.random() < 0.06:
                ratio = rng.randint(50, 74)
            pay_ratio = rng.randint(40, 60) if account.code in SLOW_PAYERS else rng.randint(90, 110)
            data = _plan_from_actual(actual, period, ratio, pay_ratio, rng, lists)
            if data is None:
                continue
            data.lines = [ln for ln in data.lines if products[ln[0]].active]
            if data.lines:
                latest[account.id] = data
            drafter = drafter_of(account)
            if rng.random() < 0.04:  # sent back once before it was approved: through the services
                plan = ps.save(account, period, data, by=drafter, today=period.start - timedelta(days=2))
                _approve(plan, drafter, supervisor, period, rng, send_back=True)
                made.append((plan, actual, drafter))
            else:
                routine.append(((account, period, data, drafter, supervisor), actual))
    plans = _approved_in_bulk([row for row, _ in routine], prices)
    made += [(plan, actual, row[3]) for plan, (row, actual) in zip(plans, routine)]
    threshold = ps.variance_threshold()
    for plan, actual, drafter in made:
        achieved = ps.achievement(plan, actual)
        if core.needs_variance_note(achieved, threshold):
            short = achieved.shipped_pct is not None and achieved.shipped_pct < threshold
            code = plan.account.code
            pool = FAR_BELOW_NOTES if code == FAR_BELOW and short else SHORT_NOTES if short else PAYMENT_NOTES
            ps.set_variance_note(plan, rng.choice(pool), by=drafter)
    db.session.commit()

    # --- the current period: approved before it started, so locked; one changed since ---------
    def starting_point(account, period):
        """The last period's plan (prefill), or the account's latest plan with shipments."""
        data = ps.prefill(account, period)
        if not data.lines:
            earlier = latest.get(account.id)
            if earlier is None:
                return None
            data = ps.PlanInput(lines=list(earlier.lines), stock=[(pid, 0, 0) for pid, _, _ in earlier.stock])
        if data.payment_fen and data.payment_on is None:
            data.payment_on = period.start + timedelta(days=3)
        return data

    active = [a for a in planned if a.status == "active"]
    by_code = {}
    for account in active:
        data = starting_point(account, current)
        if data is None:
            continue
        data.lines = [(pid, max(1, q * rng.randint(90, 110) // 100), price) for pid, q, price in data.lines]
        data.competitor_notes, data.problems = rng.choice(COMPETITOR), rng.choice(PROBLEMS)
        drafter = drafter_of(account)
        plan = ps.save(account, current, data, by=drafter, today=current.start - timedelta(days=2))
        _approve(plan, drafter, supervisor_of(account), current, rng)
        by_code[account.code] = plan
    changed = by_code.get(CHANGED)
    if changed is not None:
        lines = [(ln.product_id, ln.quantity, ln.unit_price_fen) for ln in changed.lines]
        data = ps.PlanInput(
            lines=[(pid, q * 13 // 10 + 1 if n == 0 else q, price) for n, (pid, q, price) in enumerate(lines)],
            stock=[(s.product_id, s.stock_qty, s.sellout_qty) for s in changed.stock],
            payment_fen=changed.payment_fen, payment_on=current.start if changed.payment_fen else None,
            competitor_notes=changed.competitor_notes or "", problems=changed.problems or "")
        ps.change(changed, data, by=users["sup.north"], reason=CHANGE_REASON, today=today)
    db.session.commit()

    # --- the coming period: half filled (in each top region: submitted, draft, missing, ...) ----
    coming = current.next()
    pattern = ("submitted", "draft", "missing", "submitted", "missing", "draft", "missing", "missing")
    seen: dict = {}
    submitted = []
    for account in active:
        data = starting_point(account, coming)
        if data is None:
            continue
        supervisor = supervisor_of(account)
        n = seen[supervisor.id] = seen.get(supervisor.id, -1) + 1
        if pattern[n % len(pattern)] == "missing":
            continue
        data.stock = [(pid, rng.randint(0, 50), rng.randint(10, 100)) for pid, _, _ in data.stock]
        data.competitor_notes = rng.choice(COMPETITOR)
        drafter = drafter_of(account)
        plan = ps.save(account, coming, data, by=drafter, today=today)
        if pattern[n % len(pattern)] == "submitted":
            ps.submit(plan, by=drafter, today=today)
            submitted.append((supervisor, plan))
    # One sent back with a comment, by a supervisor who still has another plan waiting.
    waiting = [s for s, _ in submitted]
    back = next(((s, p) for s, p in submitted if s.username == "sup.east" and waiting.count(s) > 1),
                next(((s, p) for s, p in submitted if waiting.count(s) > 1), None))
    if back is not None:
        ps.send_back(back[1], by=back[0], comment=COMING_SEND_BACK, today=today)
    db.session.commit()
