"""Promotions (促销活动 / 铺货) for the demo company, through the real services (so every rule
holds), fitting the ledger history demo_history has posted. One of each type, in every state:

- per_unit, settled: 清泉矿泉水旺季进货奖励, two months ago and last month in 华北 and 华南
  (¥1.50 a case of the three water products, at least 50 cases, at most ¥3,000 an account).
  北京鑫源 (GD-BJ01) with three of its dealers, 广州穗丰 (GD-GZ01) and the direct dealer DL-SZ001
  took part; their promotional stock was shipped before those months closed (`stock_up`, which
  demo_history calls before the close), DL-BJ002 returned a few damaged cases. Finance settled it
  at the start of this month: 华北's budget ran short and was shared pro rata, 华南's covered
  every reward; the dealers' rebates were credited to 北京鑫源 for them (for_account), and
  北京鑫源 passed them on in full. (Settled this month, not last: last month's pass-through
  facts belong to the reconciliation demo, whose closed months stay as they are.)
- display_fee, ended, not settled: 凉茶终端陈列费 last month in 华南; four of five enrolled
  accounts' displays verified by 梁家辉 (sup.south): ready for finance to settle.
- per_outlet, running: 即饮咖啡社区店铺货奖励 in 华北 since the middle of last month; execution
  reports with photos by 高峰 (rep.beijing) and 田甜 (merch.tianjin): most verified by 马国栋
  (sup.north), one rejected with a reason, the latest waiting for his verdict.
- percent, running: 茗香茶系列进货返点 this month in 华东 (3% of the net amount of the three teas);
  enrolled accounts with quantity targets and a few promotional shipments already.
- published, not yet started: next month's 可乐节前备货奖励 in all three regions, two accounts
  enrolled; and a draft (新品椰汁、核桃乳铺市返点) only head office sees.

Codes number the year's promotions (CX2026-08, CX2026-09, ...). Deterministic: the same `today`
(and the same ledger history) gives the same promotions. The services stamp the load time.
"""
import io
import random
from datetime import date, timedelta

from PIL import Image, ImageDraw
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from .auth.models import User
from .core import promotions as core
from .core.periods import Month
from .extensions import db
from .ledger.services import LedgerError, LineInput, post_document
from .masterdata.models import Account, Product, Region
from .promotions import services as ps
from .promotions.models import Enrolment, Promotion, PromotionSettlement, SettlementLine
from .reconciliation import services as rs

SEED = 2028
WATER = ("P-W550", "P-W1500", "P-PW600")
TEAS = ("P-GT500", "P-BT500", "P-JT500")
HERBAL = ("P-HT500", "P-HT310")
COFFEE = ("P-CF280",)
COLA = ("P-CL330", "P-CL2L", "P-SD330")
NEW = ("P-CN310", "P-WG240")

# The settled per-unit promotion: who took part (by top region) and what they stocked up on.
PER_UNIT_RATE, PER_UNIT_MIN, PER_UNIT_CAP = 150, 50, 300_000
STOCKED = {"NORTH": ("GD-BJ01", "DL-BJ001", "DL-BJ002", "DL-BJ004"), "SOUTH": ("GD-GZ01", "DL-SZ001")}
SHORT_REGION = "NORTH"  # its budget ran short: shared pro rata
RETURNED = ("DL-BJ002", "P-W550", 8)  # damaged cases returned during the promotion

# The per-outlet promotion's execution reports: (account, reporter, day after the start, outlets,
# verdict, note). The rejected one has its reason; the last one waits for sup.north.
OUTLET_TARGETS = {"GD-BJ01": 40, "DL-BJ002": 10, "DL-BJ006": 8, "GD-TJ01": 30, "DL-TJ004": 8}
REJECT_REASON = "照片看不清门店招牌和冷柜陈列位置，无法核实 6 家门店，请补拍后重新上报。"
OUTLET_REPORTS = [
    ("GD-BJ01", "rep.beijing", 2, 14, "verified", "朝阳、东城片区 14 家便利店上架即饮咖啡，冷柜第二层整排陈列。"),
    ("GD-TJ01", "merch.tianjin", 3, 11, "verified", "和平区、河西区 11 家社区店首单铺货，价签已贴。"),
    ("DL-BJ002", "rep.beijing", 5, 6, "rejected", "海淀 6 家门店铺货。"),
    ("GD-BJ01", "rep.beijing", 8, 9, "verified", "通州、大兴 9 家门店补铺，堆头海报到位。"),
    ("DL-TJ004", "merch.tianjin", 9, 5, "verified", "滨海新区 5 家门店上架。"),
    ("DL-BJ006", "rep.beijing", 12, 7, "submitted", "大兴 7 家社区店上架即饮咖啡，附陈列照片。"),
]
WAITING = "DL-BJ006"  # its report waits for sup.north's verdict

# The display fee promotion: (account, reporter, day, verified?) — DL-GZ004 never set its display up.
DISPLAY_FEE = 80_000
DISPLAY_ACCOUNTS = ("GD-GZ01", "DL-GZ001", "DL-GZ002", "DL-GZ004", "DL-SZ001")
DISPLAY_REPORTS = [("GD-GZ01", "rep.guangdong", 4), ("DL-GZ001", "merch.guangdong", 6),
                   ("DL-GZ002", "merch.guangdong", 9), ("DL-SZ001", "rep.guangdong", 12)]

# The running percent promotion: enrolled accounts and their quantity targets (cases).
PERCENT_TARGETS = {"GD-SH01": 800, "DL-SH001": 60, "DL-SH002": 80, "DL-ZJ001": 80, "DL-ZJ003": 150}

SUPERVISORS = {"NORTH": "sup.north", "EAST": "sup.east", "SOUTH": "sup.south"}
DISTRIBUTOR_USERS = {"GD-BJ01": "dist.bj", "GD-TJ01": "dist.tj", "GD-SH01": "dist.sh", "GD-GZ01": "dist.gz"}


def _periods(today: date) -> dict:
    """Each promotion's (start, end), by its key."""
    this = Month.of(today)
    two_ago, last, coming = this - 2, this.prev(), this.next()
    return {
        "per_unit": (two_ago.first_day, last.last_day),
        "display_fee": (last.first_day, last.last_day),
        "per_outlet": (last.first_day + timedelta(days=15), this.last_day + timedelta(days=15)),
        "percent": (this.first_day, this.last_day + timedelta(days=15)),
        "coming": (coming.first_day, coming.last_day),
        "draft": (coming.first_day + timedelta(days=9), coming.last_day + timedelta(days=30)),
    }


def codes(today: date) -> dict:
    """CX<year>-<nn>: the promotions numbered in order of their start within each year, the first
    of the demo's numbered as the month it started (the company's earlier ones are not shown)."""
    periods = sorted(_periods(today).items(), key=lambda kv: (kv[1][0], kv[0]))
    out, year, n = {}, None, 0
    for key, (start, _) in periods:
        if start.year != year:
            n = start.month - 1 if year is None else 0
            year = start.year
        n += 1
        out[key] = f"CX{year}-{n:02d}"
    return out


def _by_code(model, column, values):
    return {getattr(o, column): o for o in db.session.execute(
        select(model).where(getattr(model, column).in_(list(values)))).scalars()}


def _poster(account, users):
    return users["finance"] if account.supplier_id is None else users[DISTRIBUTOR_USERS[account.supplier.code]]


def _ship(account, on, lines, users, memo, kind="shipment"):
    try:
        return post_document(kind=kind, account=account, on=on, lines=lines, by=_poster(account, users),
                             memo=memo).document
    except LedgerError as err:
        if err.code in ("credit_limit", "account_suspended"):
            return None  # the account could not take more: it stocked up less
        raise


def stock_up(today: date, seed: int = SEED):
    """The per-unit promotion's stock: its participants' promotional shipments (and one return)
    in the two months it ran, posted while those months are still open (before the demo closes
    them). The caller commits."""
    today = min(today, ps.business_today())
    rng = random.Random(seed)
    start, end = _periods(today)["per_unit"]
    code = codes(today)["per_unit"]
    users = {u.username: u for u in db.session.execute(select(User)).scalars()}
    accounts = _by_code(Account, "code", [c for group in STOCKED.values() for c in group])
    products = _by_code(Product, "code", WATER)
    for month in Month.range(Month.of(start), Month.of(end)):
        for group in STOCKED.values():
            for account_code in group:
                account = accounts[account_code]
                big = account.kind == "distributor" or account.supplier_id is None
                picks = WATER if big else rng.sample(WATER, 2)
                lo, hi = (350, 500) if account.kind == "distributor" else (60, 120) if big else (20, 45)
                if account_code == "DL-BJ004":  # a small shop: likely below the minimum of 50 cases
                    picks, lo, hi = WATER[:1], 8, 15
                lines = [LineInput(products[c], rng.randint(lo, hi), products[c].list_price_fen) for c in picks]
                _ship(account, month.first_day + timedelta(days=rng.randint(4, 12)), lines, users, f"{code} 促销进货")
    account_code, product_code, qty = RETURNED
    product = products[product_code]
    _ship(accounts[account_code], end - timedelta(days=6), [LineInput(product, qty, product.list_price_fen)], users,
          "外箱挤压破损退货", kind="return")
    db.session.flush()


def _enrolments(promotion: Promotion) -> dict:
    return {e.account.code: e for e in db.session.execute(
        select(Enrolment).where(Enrolment.promotion_id == promotion.id)).scalars()}


def _input(key, name, kind, rate, products, budgets, today, *, min_quantity=0, cap_fen=None, description=None):
    start, end = _periods(today)[key]
    ids = [p.id for p in _by_code(Product, "code", products).values()]
    return ps.PromotionInput(code=codes(today)[key], name=name, kind=kind, rate=rate, starts_on=start, ends_on=end,
                             product_ids=ids, budgets=budgets, min_quantity=min_quantity, cap_fen=cap_fen,
                             description=description)


def _announced(data, finance):
    promotion = ps.create_promotion(data, by=finance)
    return ps.publish(promotion, version=promotion.version, by=finance, today=data.starts_on - timedelta(days=10))


def photo(number: int, label: str) -> bytes:
    """A small picture of a shelf stocked with the promotion's product (deterministic PNG)."""
    img = Image.new("RGB", (240, 160), (236, 240, 244))
    draw = ImageDraw.Draw(img)
    for shelf in range(3):
        y = 30 + shelf * 42
        draw.rectangle((10, y + 30, 229, y + 34), fill=(120, 110, 100))
        for slot in range(7 - (number + shelf) % 3):
            x = 14 + slot * 30
            colour = ((90 + 37 * number) % 200, 60 + 20 * shelf, (150 + 11 * slot) % 255)
            draw.rectangle((x, y + 4, x + 22, y + 29), fill=colour, outline=(40, 40, 40))
    draw.text((10, 8), f"{label}  #{number:03d}", fill=(20, 20, 20))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _photos(numbers, label):
    return [FileStorage(stream=io.BytesIO(photo(n, label)), filename=f"门店陈列-{n:03d}.png", content_type="image/png")
            for n in numbers]


def load_promotions(today: date, seed: int = SEED):
    today = min(today, ps.business_today())
    rng = random.Random(seed + 1)
    users = {u.username: u for u in db.session.execute(select(User)).scalars()}
    regions = {r.code: r for r in db.session.execute(select(Region)).scalars()}
    accounts = {a.code: a for a in db.session.execute(select(Account)).scalars()}
    finance = users["finance"]
    periods = _periods(today)
    made = {}

    # --- per unit, settled, with a region whose budget ran short ------------------------------
    rules = core.Rules("per_unit", PER_UNIT_RATE, PER_UNIT_MIN, PER_UNIT_CAP)
    start, end = periods["per_unit"]
    product_ids = [p.id for p in _by_code(Product, "code", WATER).values()]
    nets = ps.net_shipments([accounts[c].id for g in STOCKED.values() for c in g], product_ids, start, end)
    budgets = {}
    for top, group in STOCKED.items():
        earned = sum(core.reward(rules, core.Participation(*nets.get(accounts[c].id, (0, 0)))) for c in group)
        if top == SHORT_REGION:  # about four fifths of what the region earned, in whole ¥100
            budgets[regions[top].id] = max(100_00, earned * 4 // 5 // 100_00 * 100_00)
        else:  # comfortably above it, in whole ¥1,000
            budgets[regions[top].id] = max(5_000_00, (earned * 5 // 4 // 1_000_00 + 1) * 1_000_00)
    made["per_unit"] = p = _announced(_input(
        "per_unit", "清泉矿泉水旺季进货奖励", "per_unit", PER_UNIT_RATE, WATER, budgets, today,
        min_quantity=PER_UNIT_MIN, cap_fen=PER_UNIT_CAP,
        description="活动期内每净进货一箱清泉矿泉水 550ml×24、1.5L×12 或纯净水 600ml×24，奖励 ¥1.50；"
                    "净进货不足 50 箱不享受，每户封顶 ¥3,000。按区域预算兑现，预算不足时按奖励比例分配。"
                    "分销商下属经销商的奖励记入总经销往来账，由总经销兑现到店。"), finance)
    for top, group in STOCKED.items():
        for c in group:
            ps.enrol(p, accounts[c], target_qty=600 if accounts[c].kind == "distributor" else 60,
                     by=users[SUPERVISORS[top]], today=start - timedelta(days=3))

    # --- display fee: ended last month, verified, waiting for finance --------------------------
    start, end = periods["display_fee"]
    made["display_fee"] = p = _announced(_input(
        "display_fee", "凉茶终端陈列费", "display_fee", DISPLAY_FEE, HERBAL, {regions["SOUTH"].id: 4_000_00}, today,
        description="门店收银台旁设凉茶专用陈列架并保持整月陈列，经主管核实后每户兑现陈列费 ¥800。"), finance)
    for c in DISPLAY_ACCOUNTS:
        ps.enrol(p, accounts[c], target_outlets=1, by=users["sup.south"], today=start - timedelta(days=2))
    enrolments = _enrolments(p)
    for n, (c, reporter, day) in enumerate(DISPLAY_REPORTS, start=1):
        on = start + timedelta(days=day)
        report = ps.report_execution(enrolments[c], executed_on=on, outlets=1, by=users[reporter], today=on,
                                     note="陈列架已摆放到位，整月保持。", photos=_photos([100 + n], p.code))
        ps.check_report(report, verdict="verified", version=report.version, by=users["sup.south"])

    # --- per outlet: running in 华北, reports verified, one rejected, one waiting -----------------
    start, end = periods["per_outlet"]
    made["per_outlet"] = p = _announced(_input(
        "per_outlet", "即饮咖啡社区店铺货奖励", "per_outlet", 50_00, COFFEE, {regions["NORTH"].id: 8_000_00}, today,
        cap_fen=2_000_00,
        description="即饮咖啡 280ml×15 新进社区便利店，每铺进一家门店（首单不少于 2 箱、冷柜陈列）奖励 ¥50，"
                    "每户封顶 ¥2,000；以业务人员上报并经主管核实的门店数为准。"), finance)
    for c, outlets in OUTLET_TARGETS.items():
        ps.enrol(p, accounts[c], target_outlets=outlets, by=users["sup.north"], today=start - timedelta(days=1))
    enrolments = _enrolments(p)
    for n, (c, reporter, day, outlets, verdict, note) in enumerate(OUTLET_REPORTS, start=1):
        on = min(start + timedelta(days=day), today)
        report = ps.report_execution(enrolments[c], executed_on=on, outlets=outlets, note=note, by=users[reporter],
                                     today=on, photos=_photos(range(10 * n, 10 * n + 1 + n % 2), p.code))
        if verdict != "submitted":
            ps.check_report(report, verdict=verdict, version=report.version, by=users["sup.north"],
                            reason=REJECT_REASON if verdict == "rejected" else None)

    # --- percent: running in 华东 this month, with some promotional shipments -------------------
    start, end = periods["percent"]
    made["percent"] = p = _announced(_input(
        "percent", "茗香茶系列进货返点", "percent", 300, TEAS, {regions["EAST"].id: 15_000_00}, today,
        min_quantity=30, cap_fen=6_000_00,
        description="活动期内茗香绿茶、红茶、茉莉花茶净进货金额返 3%，净进货不少于 30 箱，每户封顶 ¥6,000。"), finance)
    for c, qty in PERCENT_TARGETS.items():
        ps.enrol(p, accounts[c], target_qty=qty, by=users["sup.east"], today=start - timedelta(days=2))
    teas = _by_code(Product, "code", TEAS)
    for c in PERCENT_TARGETS:
        account = accounts[c]
        big = account.kind == "distributor"
        lines = [LineInput(teas[t], rng.randint(120, 220) if big else rng.randint(15, 35), teas[t].list_price_fen)
                 for t in (TEAS if big else rng.sample(TEAS, 2))]
        on = start + timedelta(days=rng.randint(0, max(0, (today - start).days)))
        _ship(account, on, lines, users, f"{p.code} 促销进货")

    # --- next month's, published (two accounts enrolled), and a draft ---------------------------
    made["coming"] = p = _announced(_input(
        "coming", "可乐节前备货奖励", "per_unit", 100, COLA,
        {regions["NORTH"].id: 10_000_00, regions["EAST"].id: 12_000_00, regions["SOUTH"].id: 8_000_00}, today,
        min_quantity=30, cap_fen=5_000_00,
        description="节前备货：活动期内可乐、柠檬汽水每净进货一箱奖励 ¥1.00，不少于 30 箱，每户封顶 ¥5,000。"), finance)
    for c, qty in (("GD-BJ01", 1500), ("GD-TJ01", 900)):
        ps.enrol(p, accounts[c], target_qty=qty, by=users["sup.north"], today=today)
    made["draft"] = ps.create_promotion(_input(
        "draft", "新品椰汁、核桃乳铺市返点", "percent", 200, NEW, {regions["EAST"].id: 10_000_00,
                                                                 regions["SOUTH"].id: 8_000_00}, today,
        min_quantity=20, description="草案：新品上市三个月内净进货金额返 2%，待总部审批后发布。"), by=finance)
    db.session.commit()

    _settle(made["per_unit"], users, today)
    _read_what_was_checked()
    db.session.commit()
    return made


def _settle(promotion: Promotion, users, today: date):
    """Finance settles the per-unit promotion at the start of this month; 北京鑫源 passes its
    dealers' rebates on in full a couple of days later."""
    on = min(today, Month.of(today).first_day + timedelta(days=2))
    ps.settle(promotion, version=promotion.version, by=users["finance"], on=on, today=on)
    lines = db.session.execute(select(SettlementLine).join(PromotionSettlement).where(
        PromotionSettlement.promotion_id == promotion.id).order_by(SettlementLine.id)).scalars()
    for line in list(lines):
        doc = line.document
        if doc is not None and doc.for_account_id is not None:
            distributor = users[DISTRIBUTOR_USERS[doc.account.code]]
            rs.pass_on(doc, amount_fen=doc.amount_fen, on=min(today, on + timedelta(days=2)), by=distributor,
                       memo=f"兑现 {promotion.code} 进货奖励（{doc.number}）")


def _read_what_was_checked():
    """The notifications of execution reports already checked were read when they came."""
    from .notify.models import Notification

    from .promotions.models import ExecutionReport

    waiting = {(f"/promotions/{r.enrolment.promotion_id}/reports", r.enrolment.account.name)
               for r in db.session.execute(select(ExecutionReport).where(
                   ExecutionReport.status == "submitted")).scalars()}
    for note in db.session.execute(select(Notification).where(
            Notification.read_at.is_(None), Notification.kind == "execution_submitted")).scalars():
        if (note.link, note.params.get("account")) not in waiting:
            note.read_at = note.created_at
