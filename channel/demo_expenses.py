"""Expense claims (报销) for the demo company, through the real services (so every rule holds).

- Budgets for the three regions (华北, 华东, 华南) for the last three months and this month: in
  total and for travel, accommodation, meal allowance and one region-specific category; set for
  the first month and copied forward, as finance does.
- Three months ago and two months ago: every claim paid; one of them cut by its approver, one
  returned once (rejected with a comment, revised, resubmitted, paid), one above the
  second-approval amount approved twice (supervisor, then 王经理), one supervisor's own trip
  approved by 王经理.
- Last month: 广东's customer dinner approved over the entertainment budget with an override
  reason; approved claims waiting for finance; 浙江's claim returned (a draft with its comment).
- This month: drafts; claims waiting for each supervisor (北京's with lines over the meal and
  hotel caps, 天津's with a taxi receipt already handed in last month: a duplicate); one waiting
  for the second approval; 马国栋's own claim waiting for 王经理.

Deterministic: the same `today` gives the same claims. The history's times are the load time
(the services stamp them); dates people typed (lines, payment dates) are in the past months.
"""
import io
from datetime import date, timedelta

from PIL import Image, ImageDraw
from sqlalchemy import select

from .auth.models import User
from .core.money import parse_amount
from .core.periods import Month
from .expenses import services as es
from .expenses.models import ExpenseClaim
from .extensions import db
from .masterdata.models import Account, Region

# Budgets per top region, in yuan; set for the first month, copied to the next three.
BUDGETS = {
    "NORTH": {"total": "12000.00", "travel": "4000.00", "accommodation": "4000.00", "meal": "1500.00",
              "local_transport": "1500.00"},
    "EAST": {"total": "15000.00", "travel": "5000.00", "accommodation": "5000.00", "meal": "1800.00",
             "entertainment": "2000.00"},
    "SOUTH": {"total": "10000.00", "travel": "3000.00", "accommodation": "3000.00", "meal": "1200.00",
              "entertainment": "1000.00"},
}

OVERRIDE_REASON = "重点客户备货洽谈答谢，王经理已同意超预算"
RETURN_COMMENT = "住宿发票抬头不是公司全称，请重开发票后再提交；住宿超出二线城市标准 ¥380/晚，请说明。"
DUPLICATE = "dup"  # the receipt handed in twice (天津's taxi, last month and this month)

# A line: (day, category, amount yuan, description, account code or None, receipt kind or None,
#          city tier, nights). Receipt kinds: "pdf", "png", or DUPLICATE.
# A step: ("submit",) | ("approve", who, {line index: (yuan, reason)}, override reason)
#         | ("reject", who, comment) | ("revise", line index, new description)
#         | ("pay", day of the next month).
CLAIMS = [
    # --- three months ago: paid ---
    ("rep.beijing", -3, "北京客户拜访", [
        (5, "local_transport", "126.00", "拜访海淀万家超市、丰台鑫旺批发部 打车", "DL-BJ002", "pdf"),
        (12, "meal", "80.00", "外勤餐补", None, None),
        (19, "travel", "310.00", "北京—天津 高铁往返（陪同经销商会议）", None, "pdf"),
    ], [("submit",), ("approve", "sup.north", {}, None), ("pay", 6)]),
    ("merch.tianjin", -3, "天津理货交通与餐补", [
        (6, "local_transport", "95.50", "和平区、南开区门店理货 打车", "DL-TJ001", "png"),
        (6, "meal", "60.00", "外勤餐补", None, None),
        (20, "misc", "35.00", "陈列照片冲印", None, "png"),
    ], [("submit",), ("approve", "sup.north", {}, None), ("pay", 6)]),
    ("rep.shanghai", -3, "上海—杭州出差", [
        (14, "travel", "420.00", "上海—杭州 高铁往返", None, "pdf"),
        (14, "accommodation", "460.00", "杭州 1晚", None, "pdf", 2, 1),
        (15, "meal", "100.00", "出差餐补", None, None),
    ], [("submit",), ("approve", "sup.east", {1: ("380.00", "超出二线城市住宿标准 ¥380/晚")}, None), ("pay", 7)]),
    ("rep.guangdong", -3, "广州—深圳市场走访", [
        (8, "travel", "260.00", "广州—深圳 城际往返", None, "pdf"),
        (8, "accommodation", "450.00", "深圳 1晚", None, "pdf", 1, 1),
        (9, "meal", "95.00", "出差餐补", None, None),
    ], [("submit",), ("approve", "sup.south", {}, None), ("pay", 7)]),
    # --- two months ago: paid ---
    ("rep.beijing", -2, "北京客户拜访与工作餐", [
        (3, "local_transport", "88.00", "拜访通州百顺商行 打车", "DL-BJ004", "png"),
        (16, "entertainment", "420.00", "工作餐", "DL-BJ002", "pdf"),
    ], [("submit",), ("reject", "sup.north", "招待费请写明客户名称和人数。"),
        ("revise", 1, "与海淀万家超市刘店长工作餐（3人），商谈节日陈列"), ("submit",),
        ("approve", "sup.north", {}, None), ("pay", 8)]),
    ("promo.zhejiang", -2, "助销活动物料与交通", [
        (10, "misc", "150.00", "促销海报打印", None, "png"),
        (11, "local_transport", "64.00", "杭州西湖百货批发 往返", "DL-ZJ001", "png"),
    ], [("submit",), ("approve", "sup.east", {}, None), ("pay", 8)]),
    ("merch.guangdong", -2, "理货交通", [
        (5, "local_transport", "72.00", "天河、越秀门店理货 打车", None, "png"),
        (18, "local_transport", "58.00", "番禺粤海批发部 补货 打车", "DL-GZ003", "png"),
        (18, "meal", "45.00", "外勤餐补", None, None),
    ], [("submit",), ("approve", "sup.south", {}, None), ("pay", 8)]),
    ("rep.shanghai", -2, "成都行业展会", [
        (22, "travel", "1860.00", "上海—成都 往返机票", None, "pdf"),
        (22, "accommodation", "1080.00", "成都 3晚", None, "pdf", 2, 3),
        (23, "meal", "100.00", "出差餐补", None, None),
        (24, "entertainment", "600.00", "华东经销商晚宴", "GD-SH01", "pdf"),
    ], [("submit",), ("approve", "sup.east", {}, None), ("approve", "mgr.channel", {}, None), ("pay", 9)]),
    ("sup.east", -2, "华东区经销商大会差旅（宁波）", [
        (25, "travel", "553.00", "上海—宁波 往返", None, "pdf"),
        (25, "accommodation", "360.00", "宁波 1晚", None, "pdf", 2, 1),
    ], [("submit",), ("approve", "mgr.channel", {}, None), ("pay", 9)]),
    # --- last month ---
    ("rep.beijing", -1, "北京—石家庄出差", [
        (12, "travel", "256.00", "北京—石家庄 高铁往返", None, "pdf"),
        (12, "accommodation", "700.00", "石家庄 2晚", None, "pdf", 2, 2),
        (13, "meal", "100.00", "出差餐补", None, None),
    ], [("submit",), ("approve", "sup.north", {}, None), ("pay", 5)]),
    ("rep.guangdong", -1, "重点客户答谢", [
        (18, "entertainment", "1380.00", "东莞长安百货 备货洽谈晚宴（8人）", "DL-GZ005", "pdf"),
        (18, "local_transport", "86.00", "广州—东莞 打车", None, "png"),
    ], [("submit",), ("approve", "sup.south", {}, OVERRIDE_REASON)]),
    ("merch.tianjin", -1, "天津理货交通", [
        (9, "local_transport", "46.00", "河西—南开 打车", "DL-TJ002", DUPLICATE),
        (21, "meal", "60.00", "外勤餐补", None, None),
    ], [("submit",), ("approve", "sup.north", {}, None)]),
    ("sup.south", -1, "广东经销商月度会议", [
        (20, "travel", "320.00", "广州—佛山 往返", None, "pdf"),
        (20, "meal", "90.00", "会议餐补", None, None),
    ], [("submit",), ("approve", "mgr.channel", {}, None)]),
    ("promo.zhejiang", -1, "宁波助销差旅", [
        (15, "travel", "230.00", "杭州—宁波 高铁往返", None, "pdf"),
        (15, "accommodation", "420.00", "宁波 1晚", "DL-ZJ002", "pdf", 2, 1),
    ], [("submit",), ("reject", "sup.east", RETURN_COMMENT)]),
    # --- this month ---
    ("rep.beijing", 0, "北京客户拜访", [
        (3, "local_transport", "58.00", "拜访昌平好又多商店 打车", "DL-BJ005", "png"),
    ], []),
    ("merch.guangdong", 0, "理货交通", [
        (4, "local_transport", "36.00", "东莞长安百货 理货 打车", "DL-GZ005", None),
    ], []),
    ("rep.beijing", 0, "陪同总部检查", [
        (10, "accommodation", "650.00", "北京国贸 1晚（陪同总部）", None, "pdf", 1, 1),
        (10, "meal", "80.00", "出差餐补", None, None),
        (10, "meal", "55.00", "晚餐", None, "png"),
        (11, "travel", "180.00", "首都机场往返", None, "pdf"),
    ], [("submit",)]),
    ("merch.tianjin", 0, "天津理货交通", [
        (7, "local_transport", "46.00", "河西—南开 打车", "DL-TJ002", DUPLICATE),
    ], [("submit",)]),
    ("rep.shanghai", 0, "上海客户拜访", [
        (5, "local_transport", "132.00", "浦东、徐汇门店拜访 打车", "DL-SH001", "png"),
        (12, "entertainment", "380.00", "与徐汇佳家超市沈经理工作餐", "DL-SH002", "pdf"),
    ], [("submit",)]),
    ("promo.zhejiang", 0, "杭州门店促销活动", [
        (8, "misc", "1680.00", "促销堆头物料制作与搬运", "DL-ZJ001", "pdf"),
        (9, "travel", "230.00", "杭州—宁波 高铁往返", None, "pdf"),
        (9, "accommodation", "1140.00", "宁波 3晚", None, "pdf", 2, 3),
        (10, "meal", "100.00", "出差餐补", None, None),
    ], [("submit",), ("approve", "sup.east", {}, None)]),
    ("rep.guangdong", 0, "广州—佛山客户拜访", [
        (6, "travel", "96.00", "广州—佛山 城际往返", "DL-GZ004", "pdf"),
        (6, "meal", "100.00", "出差餐补", None, None),
        (13, "local_transport", "74.00", "越秀门店拜访 打车", "DL-GZ002", "png"),
    ], [("submit",)]),
    ("sup.north", 0, "华北区经销商会议（天津）", [
        (14, "travel", "110.00", "北京—天津 高铁往返", None, "pdf"),
        (14, "accommodation", "380.00", "天津 1晚", None, "pdf", 2, 1),
    ], [("submit",)]),
]


# --- receipts: small generated files, each different except the duplicate --------------------

def receipt_pdf(number: int, amount: str) -> bytes:
    """A minimal valid one-page PDF (an e-invoice stand-in)."""
    text = f"Receipt No. {number:06d}  CNY {amount}"
    stream = f"BT /F1 10 Tf 16 40 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 240 90] /Contents 4 0 R "
         b"/Resources << /Font << /F1 5 0 R >> >> >>"),
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def receipt_png(number: int, amount: str) -> bytes:
    """A small picture of a paper receipt (a taxi or restaurant slip)."""
    img = Image.new("RGB", (180, 110), (252, 250, 244))
    draw = ImageDraw.Draw(img)
    draw.rectangle((2, 2, 177, 107), outline=(150, 150, 150))
    draw.text((10, 10), f"No. {number:06d}", fill=(40, 40, 40))
    for row in range(3):
        draw.line((10, 38 + row * 14, 120 - (number * 7 + row * 23) % 60, 38 + row * 14), fill=(120, 120, 120))
    draw.text((10, 84), f"CNY {amount}", fill=(160, 20, 20))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


_FILENAMES = {"travel": "车票", "accommodation": "住宿发票", "local_transport": "出租车票", "meal": "餐饮小票",
              "misc": "发票", "entertainment": "餐饮发票", "supplement": "发票", "other": "发票"}


# --- loading ------------------------------------------------------------------------------------

def _fen(yuan: str) -> int:
    return parse_amount(yuan)


def _day(month: Month, day: int, today: date) -> date:
    return min(month.first_day + timedelta(days=min(day, month.days) - 1), today)


def load_expenses(today: date):
    today = min(today, es.business_today())
    this_month = Month.of(today)
    users = {u.username: u for u in db.session.execute(select(User)).scalars()}
    accounts = {a.code: a for a in db.session.execute(select(Account)).scalars()}
    regions = {r.code: r for r in db.session.execute(select(Region)).scalars()}
    finance = users["finance"]

    first = this_month - 3
    for code, amounts in BUDGETS.items():
        es.set_budgets(first, regions[code], {k: _fen(v) for k, v in amounts.items()}, by=finance)
    for month in Month.range(first.next(), this_month):
        es.copy_budgets(month.prev(), month, by=finance)
    db.session.commit()

    receipts = 0
    duplicate = receipt_png(999_999, "46.00")
    payments = 0
    for username, offset, title, lines, steps in CLAIMS:
        claimant = users[username]
        month = this_month + offset
        claim = es.create_claim(claimant, month=month, title=f"{month.month}月{title}")
        made = []
        for day, category, amount, description, account, receipt, *accommodation in lines:
            tier, nights = accommodation or (None, 1)
            line = es.add_line(claim, es.LineInput(
                _day(month, day, today), category, _fen(amount), description,
                accounts[account].id if account else None, nights, tier), by=claimant)
            made.append(line)
            if receipt == DUPLICATE:
                es.add_receipt(line, duplicate, filename="出租车票.png", by=claimant)
            elif receipt:
                receipts += 1
                content = receipt_pdf(receipts, amount) if receipt == "pdf" else receipt_png(receipts, amount)
                es.add_receipt(line, content, filename=f"{_FILENAMES[category]}-{receipts:03d}.{receipt}",
                               by=claimant)
        for step in steps:
            if step[0] == "submit":
                es.submit(claim, by=claimant, version=claim.version)
            elif step[0] == "approve":
                _, who, cuts, override = step
                es.approve(claim, by=users[who], version=claim.version, override_reason=override,
                           cuts={made[i].id: (_fen(fen), reason) for i, (fen, reason) in cuts.items()},
                           comment="同意" if not cuts else "按标准核减")
            elif step[0] == "reject":
                es.reject(claim, by=users[step[1]], comment=step[2], version=claim.version)
            elif step[0] == "revise":
                line = made[step[1]]
                es.update_line(line, es.LineInput(line.spent_on, line.category, line.amount_fen, step[2],
                                                  line.account_id, line.nights, line.city_tier), by=claimant)
            elif step[0] == "pay":
                payments += 1
                paid_on = _day(month.next(), step[1], today)
                es.pay(claim, by=finance, version=claim.version, paid_on=paid_on,
                       reference=f"BT{paid_on:%Y%m%d}{payments:04d}")
        db.session.commit()
    _read_what_is_done(this_month)
    db.session.commit()


# What each notification announced: once the claim has moved on, it was read when it came.
_ANNOUNCES = {"expense_submitted": "submitted", "expense_second_approval": "second_approval",
              "expense_rejected": "draft", "expense_approved": "approved", "expense_paid": "paid"}


def _read_what_is_done(this_month: Month):
    from .notify.models import Notification

    claims = {f"/expenses/{c.id}": c for c in db.session.execute(select(ExpenseClaim)).scalars()}
    for note in db.session.execute(select(Notification).where(
            Notification.read_at.is_(None), Notification.kind.in_(tuple(_ANNOUNCES)))).scalars():
        claim = claims.get(note.link)
        if claim is None:
            continue
        if claim.status != _ANNOUNCES[note.kind] or (claim.status == "paid"
                                                      and claim.paid_on < this_month.first_day):
            note.read_at = note.created_at
