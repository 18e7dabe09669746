"""Monthly distributor meetings (月度经销商会议) for the demo company, through the real services (so
every rule holds), fitting the ledger history and the promotions loaded before them.

- The six months before this one: in every region that expects a meeting (北京, 天津, 上海, 浙江,
  广东) one meeting a month on a weekday early in the month, held by the region's supervisor, with
  its distributor and some dealers invited (most attending) and the region's field staff. The
  agenda: last month's figures from the ledger and market news, the company policy (the promotions
  announced, linked), each attending account's targets for the month (near its recent shipments
  and payments), and the problems raised as action items with owners (field staff or the
  supervisor) and due dates. The minutes are published (those of the last two months with the
  chair's summary).
- Most action items were resolved (with their resolutions) before the next meeting; some only
  after it (carried over to that meeting's agenda); a few are still open and overdue now — for
  高峰 (rep.beijing) and 马国栋 (sup.north) among others — and this month's meetings raised new
  ones.
- This month: 北京 and 广东 held and published, 上海 held with its minutes not yet published,
  浙江 planned for later in the month, 天津 none yet (the boards flag it).

Deterministic: the same `today` (and the same ledger) gives the same meetings. The services stamp
the load time (held, published, resolved); the meeting dates and due dates are in the past months.
"""
import random
from collections import defaultdict
from datetime import date, time, timedelta

from sqlalchemy import select

from .auth.models import User
from .core.money import format_fen
from .core.periods import Month
from .extensions import db
from .ledger.models import Document
from .meetings import services as ms
from .auth.permissions import region_tree_ids
from .meetings.models import ActionItem, Meeting
from .promotions.models import Promotion

SEED = 2029
PAST_MONTHS = 6
MISSING = "TJ"  # no meeting this month yet
NOT_PUBLISHED = "SH"  # held this month, the minutes still being written
PLANNED = "ZJ"  # planned for later this month

PLACES = {  # region code: (place, time)
    "BJ": ("北京办事处三楼会议室（朝阳区建国路88号）", time(9, 30)),
    "TJ": ("天津恒通商贸有限公司二楼会议室（河西区友谊路32号）", time(14, 0)),
    "SH": ("上海办事处会议室（闵行区虹梅路1888号）", time(9, 30)),
    "ZJ": ("杭州西湖百货批发二楼会议室", time(14, 0)),
    "GD": ("广州穗丰商贸有限公司会议室（天河区天河路385号）", time(10, 0)),
}
SUPERVISORS = {"NORTH": "sup.north", "EAST": "sup.east", "SOUTH": "sup.south"}
# Dealers invited every month (the others now and then).
REGULARS = {"BJ": ("DL-BJ001", "DL-BJ002", "DL-BJ004"), "TJ": ("DL-TJ001", "DL-TJ002"),
            "SH": ("DL-SH001", "DL-SH002", "DL-SH003"), "ZJ": ("DL-ZJ001", "DL-ZJ002", "DL-ZJ003"),
            "GD": ("DL-GZ001", "DL-GZ003", "DL-SZ001")}

MARKET = [
    ("竞品动态", "康师傅绿茶在商超渠道买五送一，终端陈列加码；请各门店保证我方绿茶端架不被挤占。"),
    ("竞品动态", "农夫山泉上调便利店端架陈列费，部分门店要求我方跟进，请业务员逐店登记。"),
    ("竞品动态", "统一冰红茶新包装上市，铺货速度较快，社区店价格比我方低 0.5 元/瓶。"),
    ("天气与动销", "近期气温回升，矿泉水、运动饮料动销明显加快，请提前备货，避免断货。"),
    ("天气与动销", "连续降雨，客流下降，门店库存偏高，本月以消化库存为主，控制进货节奏。"),
    ("渠道变化", "社区团购平台低价销售我方饮料，已向总部反映；请门店不要从非授权渠道进货。"),
    ("渠道变化", "两家连锁便利店调整采购流程，改为总部统一下单，送货须提前一天预约。"),
    ("新品反馈", "即饮咖啡在写字楼周边门店试销良好，社区店复购偏慢，需加强冷柜陈列。"),
    ("库存与效期", "部分门店酸奶、牛奶临近效期，请按先进先出陈列，临期品及时申请调换。"),
    ("价格秩序", "发现外区域低价货流入，请各经销商严格按区域价格表出货，不得跨区销售。"),
]
POLICY = [
    ("年度返利政策说明", "季度返利按回款达成率兑现：达成 100% 返 1.5%，达成 90% 返 1%；请各经销商按时回款。"),
    ("价格政策", "本月出厂价不变；终端零售指导价保持，严禁低于指导价促销。"),
    ("账期与信用额度", "账期 30 天不变；超信用额度的发货须主管审批，逾期客户暂停发货。"),
]
OTHER = [
    ("对账提醒", "上月对账单请于本月 10 日前确认回签；有差异的请在系统中逐行提出。"),
    ("安全与配送", "旺季送货量大，请配送车辆注意装卸安全，破损及时拍照留证。"),
]
# A problem raised: (title, detail, owner "staff" or "supervisor", resolution).
PROBLEMS = [
    ("到货破损率偏高", "近两批矿泉水外箱挤压破损，门店拒收约 12 箱。", "staff",
     "已与物流公司确认加固包装，破损的 12 箱已办理退货并补发。"),
    ("对账单退货未入账", "客户反映上月两张退货单未体现在对账单中。", "staff", "财务已核实补录，对账差异消除，客户已确认。"),
    ("冷柜投放申请", "两家重点门店申请投放冷柜各一台，夏季补货跟不上。", "supervisor", "已报总部审批，两台冷柜已送达门店并签收。"),
    ("竞品低价冲击", "竞品以低于我方出厂价 5% 供货，部分门店转向竞品。", "supervisor",
     "已申请区域价格支持，总部同意专项补贴，已向门店传达。"),
    ("临期品调换", "门店有两箱临期酸奶需调换。", "staff", "临期品已回收，按新批次调换完毕。"),
    ("送货时间窗口", "商超只接受上午 10 点前送货，近期两次延误。", "staff", "已与配送商调整线路，改为早班车配送，之后未再延误。"),
    ("陈列费兑现进度", "上季度陈列费尚未兑现到门店。", "supervisor", "已随本月返利一并兑现，并取得门店签收。"),
    ("新品铺货进度慢", "即饮咖啡在社区店铺货率不足三成。", "staff", "已组织两次集中铺货，社区店铺货率提升到六成。"),
    ("发票开具延迟", "客户反映增值税发票开具晚于货到一周。", "supervisor", "财务已改为随货开票，发票均按时送达。"),
    ("促销物料不足", "端架海报和价签不够用。", "staff", "已补发海报 200 张、价签 500 张。"),
    ("回款计划调整", "客户资金紧张，申请本月回款延后十天。", "supervisor", "经与财务沟通同意延后，客户已按新日期回款。"),
    ("外区域串货", "发现外区域低价货流入本区门店。", "supervisor", "已按批号追溯来源，通报相关经销商并暂停其供货一周。"),
]
# Problems still open now, by (months before this one, region): (title, detail, owner username,
# due days after the meeting, account code raising it or None).
STILL_OPEN = {
    (2, "BJ"): [("朝阳区两家便利店冷柜故障报修", "惠民便利店和周边一家门店的冷柜不制冷，影响饮料动销。", "rep.beijing", 14,
                 "DL-BJ001")],
    (1, "BJ"): [("通州百顺商行对账差异核对", "客户对上月两笔发货数量有异议，需与送货签收单逐笔核对。", "rep.beijing", 10, "DL-BJ004"),
                ("促销奖励兑现时间答复经销商", "北京鑫源询问旺季进货奖励的兑现时间和到店方式，需书面答复。", "sup.north", 15,
                 "GD-BJ01")],
    (1, "TJ"): [("武清福源商店恢复供货评估", "欠款逾期已暂停供货，客户申请恢复，需评估还款计划。", "sup.north", 12, None)],
    (1, "SH"): [("宝山区竞品直营仓应对方案", "竞品在宝山区开设直营仓低价供货，两家大客户转向竞品。", "rep.shanghai", 14, "DL-SH003")],
    (1, "GD"): [("番禺粤海批发部欠款催收计划", "回款仅为发货的一半，需制定分期还款计划。", "rep.guangdong", 10, "DL-GZ003")],
    (0, "BJ"): [("即饮咖啡铺货照片补拍", "海淀万家超市的铺货照片被退回，需补拍门店招牌和冷柜陈列。", "rep.beijing", 10, "DL-BJ002")],
    (0, NOT_PUBLISHED): [("茶系列返点报名材料收集", "收集各门店进货计划和陈列承诺书，报渠道主管。", "rep.shanghai", 10, "GD-SH01")],
    (0, "GD"): [("凉茶陈列费签收单收集", "陈列费兑现前需各门店签收单，缺两家。", "merch.guangdong", 12, "GD-GZ01")],
}
LATE = 0.25  # share of the other problems resolved only after the next meeting (carried over)
SUMMARISED = 2  # the minutes of the last two months and this month's have the chair's summary
SUMMARY = ("会议通报了上月发货与回款情况，分享了市场信息，传达了公司政策和促销活动，落实了到会 {accounts} 家客户的本月目标任务；"
           "提出的 {items} 个问题已形成待办事项，责任人和完成时限见纪要。")


def _weekday_from(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _later_this_month(today: date) -> date:
    """A weekday after today in this month (today itself if none is left)."""
    day = today + timedelta(days=1)
    while Month.of(day) == Month.of(today):
        if day.weekday() < 5:
            return day
        day += timedelta(days=1)
    return today


def _round_down(fen: int, unit: int = 1_000_00) -> int:
    return max(unit, fen // unit * unit)


def _ledger_months(first: Month) -> dict:
    """{(account id, "YYYY-MM"): [net shipments, payments]} from the ledger since `first`, in one query."""
    out = defaultdict(lambda: [0, 0])
    rows = db.session.execute(select(Document.account_id, Document.kind, Document.direction, Document.document_date,
                                     Document.amount_fen).where(Document.kind.in_(("shipment", "return", "payment")),
                                                                Document.document_date >= first.first_day))
    for account_id, kind, direction, on, amount in rows:
        figures = out[(account_id, str(Month.of(on)))]
        if kind == "payment":
            figures[1] += amount if direction == "credit" else -amount
        else:
            figures[0] += amount if direction == "debit" else -amount
    return out


def _targets(account_ids, month: Month, ledger, rng) -> dict:
    """Each account's targets: last month's figures (or the three before) and a little more."""
    out = {}
    for account_id in sorted(account_ids):
        earlier = [ledger.get((account_id, str(month - n)), (0, 0)) for n in (1, 2, 3)]
        shipped = earlier[0][0] if earlier[0][0] > 0 else sum(max(e[0], 0) for e in earlier) // 3
        paid = earlier[0][1] if earlier[0][1] > 0 else sum(max(e[1], 0) for e in earlier) // 3
        shipment = _round_down(shipped * rng.randint(95, 115) // 100)
        payment = _round_down(paid * rng.randint(95, 108) // 100) if paid > 0 else _round_down(shipment * 9 // 10)
        out[account_id] = (shipment, payment)
    return out


def load_meetings(today: date, seed: int = SEED):
    today = min(today, ms.business_today())
    rng = random.Random(seed)
    this = Month.of(today)
    users = {u.username: u for u in db.session.execute(select(User)).scalars()}
    ledger = _ledger_months(this - PAST_MONTHS - 4)
    promotions = [(p, region_tree_ids([r.region_id for r in p.regions])) for p in db.session.execute(
        select(Promotion).where(Promotion.status != "draft").order_by(Promotion.starts_on, Promotion.code)).scalars()]
    regions = ms.meeting_regions()
    invitable = {r.id: (ms.invitable_accounts(r), ms.invitable_staff(r)) for r in regions}
    by_id = {u.id: u for u in users.values()}
    pending = defaultdict(list)  # (month index, "before"|"after") -> [(item, resolution)]

    def top_of(region):
        while region.parent is not None:
            region = region.parent
        return region

    for index, month in enumerate(Month.range(this - PAST_MONTHS, this)):
        ago = PAST_MONTHS - index
        _resolve(pending.pop((index, "before"), []), by_id)
        for region in regions:
            if ago == 0 and region.code == MISSING:
                continue
            supervisor = users[SUPERVISORS.get(top_of(region).code, "admin")]
            meeting = _meeting(region, month, today, ago, supervisor, invitable[region.id], rng)
            _agenda(meeting, region, month, ledger, promotions, supervisor, rng)
            if ago == 0 and region.code == PLANNED:
                continue
            invited = [a.account for a in meeting.attendees if a.account_id is not None]
            dealers = [a.id for a in invited if a.kind == "dealer"]
            absent = set(rng.sample(dealers, min(rng.choice((0, 1, 1, 2)), (len(invited) - 1) // 2)))
            attended = [a.id for a in invited if a.id not in absent]  # the distributors always come
            staff = [a.user_id for a in meeting.attendees if a.user_id is not None]
            ms.hold(meeting, version=meeting.version, attended_account_ids=attended, attended_user_ids=staff,
                    by=supervisor, today=today if ago == 0 else meeting.meeting_date)
            ms.set_targets(meeting, _targets(attended, month, ledger, rng), version=meeting.version, by=supervisor)
            raised = _problems(meeting, region, ago, supervisor, users, by_id, today, rng)
            for item, resolution, late in raised:
                if resolution is not None:
                    pending[(index + 1, "after" if late else "before")].append((item, resolution))
            if ago <= SUMMARISED:  # the older minutes have no summary (it is optional)
                ms.update_meeting(meeting, version=meeting.version, on=meeting.meeting_date,
                                  at=meeting.meeting_time, place=meeting.place, title=meeting.title,
                                  summary=SUMMARY.format(accounts=len(attended), items=len(raised)), by=supervisor,
                                  account_ids=[a.account_id for a in meeting.attendees if a.account_id is not None],
                                  user_ids=staff)
            if not (ago == 0 and region.code == NOT_PUBLISHED):
                ms.publish(meeting, version=meeting.version, by=supervisor,
                           today=min(today, meeting.meeting_date + timedelta(days=2)))
        _resolve(pending.pop((index, "after"), []), by_id)
        db.session.commit()
    _read_what_is_done(this)
    db.session.commit()


def _meeting(region, month: Month, today: date, ago: int, supervisor, invitable, rng) -> Meeting:
    on = _weekday_from(month.first_day + timedelta(days=rng.randint(2, 7)))
    if ago == 0:
        on = _later_this_month(today) if region.code == PLANNED else min(on, today)
    place, at = PLACES.get(region.code, (f"{region.name}办事处会议室", time(9, 30)))
    invitable_accounts, invitable_staff = invitable
    regulars = REGULARS.get(region.code, ())
    others = [a for a in invitable_accounts if a.kind == "dealer" and a.code not in regulars]
    accounts = [a for a in invitable_accounts if a.kind == "distributor" or a.code in regulars]
    accounts += rng.sample(others, min(len(others), rng.randint(1, 2)))
    staff = [u for u in invitable_staff if u.role == "field_staff" or u.id == supervisor.id]
    return ms.create_meeting(region, on=on, at=at, place=place, title=f"{month.year}年{month.month}月{region.name}经销商例会",
                             by=supervisor, account_ids=[a.id for a in accounts], user_ids=[u.id for u in staff])


def _agenda(meeting: Meeting, region, month: Month, ledger, promotions, supervisor, rng):
    prev = month.prev()
    accounts = [a.account_id for a in meeting.attendees if a.account_id is not None]
    shipped = sum(ledger.get((a, str(prev)), (0, 0))[0] for a in accounts)
    paid = sum(ledger.get((a, str(prev)), (0, 0))[1] for a in accounts)
    rate = f"，回款率 {paid * 100 // shipped}%" if shipped > 0 else ""
    ms.add_agenda_item(meeting, kind="market", title=f"{prev.month}月发货与回款回顾", by=supervisor,
                       body=f"{prev.month}月到会客户合计发货 {format_fen(shipped)}，回款 {format_fen(paid)}{rate}。")
    title, body = rng.choice(MARKET)
    ms.add_agenda_item(meeting, kind="market", title=title, body=body, by=supervisor)
    announced = [p for p, tree in promotions if p.ends_on >= meeting.meeting_date
                 and p.starts_on <= meeting.meeting_date + timedelta(days=40) and region.id in tree]
    for p in announced:
        ms.add_agenda_item(meeting, kind="policy", title=f"{p.code} {p.name}", body=p.description, promotion=p,
                           by=supervisor)
    if not announced:
        title, body = rng.choice(POLICY)
        ms.add_agenda_item(meeting, kind="policy", title=title, body=body, by=supervisor)
    if rng.random() < 0.5:
        title, body = rng.choice(OTHER)
        ms.add_agenda_item(meeting, kind="other", title=title, body=body, by=supervisor)


def _problems(meeting: Meeting, region, ago: int, supervisor, users, by_id, today: date, rng):
    """The action items raised: (item, resolution or None while it stays open, resolved late?)."""
    staff = [by_id[a.user_id] for a in meeting.attendees if a.user_id is not None
             and by_id[a.user_id].role == "field_staff"]
    accounts = {a.account.code: a.account for a in meeting.attendees if a.account_id is not None}
    out = []

    def due(days):
        on = meeting.meeting_date + timedelta(days=days)
        return max(on, today + timedelta(days=3)) if ago == 0 else on

    for title, detail, owner, days, account in STILL_OPEN.get((ago, region.code), []):
        item = ms.raise_item(meeting, title=title, detail=detail, owner=users[owner], due_on=due(days),
                             account=accounts.get(account), by=supervisor)
        out.append((item, None, False))
    if ago == 0:
        return out
    for n, (title, detail, owner, resolution) in enumerate(rng.sample(PROBLEMS, rng.randint(1, 3))):
        who = supervisor if owner == "supervisor" or not staff else rng.choice(staff)
        account = rng.choice(sorted(accounts)) if accounts and rng.random() < 0.7 else None
        item = ms.raise_item(meeting, title=title, detail=detail, owner=who, due_on=due(rng.randint(7, 20)),
                             account=accounts.get(account), by=supervisor)
        late = rng.random() < LATE or (ago == 3 and region.code == "BJ" and n == 0)
        out.append((item, resolution, late))
    return out


def _resolve(items, by_id):
    for item, resolution in items:
        ms.resolve_item(item, version=item.version, resolution=resolution, by=by_id[item.owner_id])


def _read_what_is_done(this: Month):
    """Minutes of earlier months and the items since resolved were read when they came."""
    from .notify.models import Notification

    done = {f"/meetings/{i.meeting_id}#item-{i.id}" for i in db.session.execute(
        select(ActionItem).where(ActionItem.status == "done")).scalars()}
    earlier = {f"/meetings/{m.id}" for m in db.session.execute(
        select(Meeting).where(Meeting.month < str(this))).scalars()}
    kinds = ("meeting_minutes", "action_item_assigned")
    for note in db.session.execute(select(Notification).where(
            Notification.read_at.is_(None), Notification.kind.in_(kinds))).scalars():
        if note.link in done or note.link in earlier:
            note.read_at = note.created_at
