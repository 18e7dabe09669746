"""The demo company: believable master data so that a person logging in sees a living system.

Idempotent: a database that already holds the demo data is left alone; a database holding any
other data is refused. Later features extend `load_demo` with their own demo history.
"""
from datetime import date

from sqlalchemy import func, select

from .audit.services import record
from .auth.models import User
from .auth.services import hash_password
from .extensions import db
from .masterdata.models import Account, Product, Region
from .system.models import Setting

DEMO_PASSWORD = "channel-demo"
MARKER = "demo_data"


class DemoDataRefused(Exception):
    pass


REGIONS = [  # code, name, parent code
    ("NORTH", "华北区", None), ("BJ", "北京", "NORTH"), ("TJ", "天津", "NORTH"),
    ("EAST", "华东区", None), ("SH", "上海", "EAST"), ("ZJ", "浙江", "EAST"),
    ("SOUTH", "华南区", None), ("GD", "广东", "SOUTH"),
]

DISTRIBUTORS = [  # code, name, region, contact, phone, address, credit limit yuan
    ("GD-BJ01", "北京鑫源商贸有限公司", "BJ", "王建国", "010-6543 2101", "北京市朝阳区建国路88号", 800_000),
    ("GD-TJ01", "天津恒通商贸有限公司", "TJ", "李振华", "022-2345 6780", "天津市河西区友谊路32号", 500_000),
    ("GD-SH01", "上海沪联贸易有限公司", "SH", "陈思远", "021-6288 1200", "上海市闵行区虹梅路1888号", 1_000_000),
    ("GD-GZ01", "广州穗丰商贸有限公司", "GD", "黄志强", "020-8761 3300", "广州市天河区天河路385号", 600_000),
]

DEALERS = [  # code, name, region, supplier code (None: the company), contact, credit limit yuan
    ("DL-BJ001", "朝阳区惠民便利店", "BJ", "GD-BJ01", "张伟", 50_000),
    ("DL-BJ002", "海淀万家超市", "BJ", "GD-BJ01", "刘洋", 80_000),
    ("DL-BJ003", "丰台鑫旺批发部", "BJ", "GD-BJ01", "赵磊", 60_000),
    ("DL-BJ004", "通州百顺商行", "BJ", "GD-BJ01", "孙静", 40_000),
    ("DL-BJ005", "昌平好又多商店", "BJ", "GD-BJ01", "周敏", 30_000),
    ("DL-BJ006", "大兴金利来批发", "BJ", "GD-BJ01", "吴刚", 70_000),
    ("DL-TJ001", "和平区利民超市", "TJ", "GD-TJ01", "郑浩", 50_000),
    ("DL-TJ002", "南开永盛商贸", "TJ", "GD-TJ01", "冯雪", 60_000),
    ("DL-TJ003", "河东佳乐便利", "TJ", "GD-TJ01", "陈晨", 30_000),
    ("DL-TJ004", "滨海新区兴达批发", "TJ", "GD-TJ01", "褚亮", 90_000),
    ("DL-TJ005", "武清福源商店", "TJ", "GD-TJ01", "卫红", 25_000),
    ("DL-SH001", "浦东联华便利店", "SH", "GD-SH01", "蒋丽", 80_000),
    ("DL-SH002", "徐汇佳家超市", "SH", "GD-SH01", "沈杰", 100_000),
    ("DL-SH003", "宝山天天批发部", "SH", "GD-SH01", "韩梅", 60_000),
    ("DL-SH004", "嘉定盛世商行", "SH", "GD-SH01", "杨帆", 50_000),
    ("DL-ZJ001", "杭州西湖百货批发", "ZJ", "GD-SH01", "朱琳", 120_000),
    ("DL-ZJ002", "宁波甬江商贸", "ZJ", "GD-SH01", "秦勇", 90_000),
    ("DL-ZJ003", "温州大众超市连锁", "ZJ", None, "许峰", 300_000),
    ("DL-GZ001", "天河区好邻居便利", "GD", "GD-GZ01", "何芳", 40_000),
    ("DL-GZ002", "越秀华润万家加盟店", "GD", "GD-GZ01", "吕斌", 70_000),
    ("DL-GZ003", "番禺粤海批发部", "GD", "GD-GZ01", "施娟", 60_000),
    ("DL-GZ004", "佛山南海商行", "GD", "GD-GZ01", "张强", 50_000),
    ("DL-GZ005", "东莞长安百货", "GD", "GD-GZ01", "孔明", 80_000),
    ("DL-SZ001", "深圳美宜佳区域加盟商", "GD", None, "曹阳", 400_000),
]

PRODUCTS = [  # code, name, unit, list price yuan
    ("P-W550", "清泉矿泉水 550ml×24", "箱", "28.80"), ("P-W1500", "清泉矿泉水 1.5L×12", "箱", "30.00"),
    ("P-W5L", "清泉饮用水 5L×4", "箱", "26.00"), ("P-GT500", "茗香绿茶 500ml×15", "箱", "45.00"),
    ("P-BT500", "茗香红茶 500ml×15", "箱", "45.00"), ("P-JT500", "茗香茉莉花茶 500ml×15", "箱", "46.50"),
    ("P-OJ450", "鲜橙多 450ml×15", "箱", "48.00"), ("P-AJ450", "苹果汁 450ml×15", "箱", "48.00"),
    ("P-PJ1L", "桃汁 1L×12", "箱", "72.00"), ("P-CL330", "可乐 330ml×24 罐", "箱", "52.80"),
    ("P-CL2L", "可乐 2L×6", "箱", "39.00"), ("P-SD330", "柠檬汽水 330ml×24 罐", "箱", "52.80"),
    ("P-SP500", "运动饮料 500ml×15", "箱", "60.00"), ("P-EN250", "能量饮料 250ml×24 罐", "箱", "120.00"),
    ("P-CF280", "即饮咖啡 280ml×15", "箱", "87.00"), ("P-MT250", "纯牛奶 250ml×24", "箱", "66.00"),
    ("P-YG200", "风味酸奶 200g×24", "箱", "79.20"), ("P-SM300", "豆奶 300ml×15", "箱", "42.00"),
    ("P-CN310", "椰汁 310ml×24 罐", "箱", "96.00"), ("P-WG240", "核桃乳 240ml×20 罐", "箱", "70.00"),
    ("P-HT500", "凉茶 500ml×15", "箱", "54.00"), ("P-HT310", "凉茶 310ml×24 罐", "箱", "84.00"),
    ("P-SW380", "苏打水 380ml×24", "箱", "57.60"), ("P-VW500", "维生素水 500ml×15", "箱", "67.50"),
    ("P-MT-GB", "纯牛奶 礼盒装 250ml×12", "盒", "45.00"), ("P-GT-GB", "绿茶 礼盒装 500ml×12", "盒", "42.00"),
    ("P-ICE-T", "冰红茶 1L×12", "箱", "50.40"), ("P-LM1L", "柠檬茶 1L×12", "箱", "50.40"),
    ("P-PW600", "纯净水 600ml×24", "箱", "21.60"), ("P-OLD01", "老包装绿茶 500ml×15（停产）", "箱", "40.00"),
]

USERS = [  # username, full name, role, extra
    ("admin", "系统管理员", "admin", {}),
    ("finance", "林晓梅", "finance", {}),
    ("sup.north", "马国栋", "supervisor", {"regions": ["NORTH"]}),
    ("sup.east", "顾雅琴", "supervisor", {"regions": ["EAST"]}),
    ("sup.south", "梁家辉", "supervisor", {"regions": ["SOUTH"]}),
    # The channel manager: over the three regions' supervisors, gives the second approval of
    # large expense claims and approves the supervisors' own.
    ("mgr.channel", "王经理", "supervisor", {"regions": ["NORTH", "EAST", "SOUTH"], "second_approver": True}),
    ("rep.beijing", "高峰", "field_staff", {"region": "BJ", "kind": "rep"}),
    ("merch.tianjin", "田甜", "field_staff", {"region": "TJ", "kind": "merchandiser"}),
    ("rep.shanghai", "宋磊", "field_staff", {"region": "SH", "kind": "rep"}),
    ("promo.zhejiang", "方芳", "field_staff", {"region": "ZJ", "kind": "promoter"}),
    ("rep.guangdong", "邓超", "field_staff", {"region": "GD", "kind": "rep"}),
    ("merch.guangdong", "罗敏", "field_staff", {"region": "GD", "kind": "merchandiser"}),
    ("dist.bj", "王建国", "distributor", {"account": "GD-BJ01"}),
    ("dist.tj", "李振华", "distributor", {"account": "GD-TJ01"}),
    ("dist.sh", "陈思远", "distributor", {"account": "GD-SH01"}),
    ("dist.gz", "黄志强", "distributor", {"account": "GD-GZ01"}),
]


def _yuan_to_fen(text):
    from .core.money import parse_amount

    return parse_amount(str(text))


def demo_loaded():
    return db.session.get(Setting, MARKER) is not None


def has_any_data():
    for model in (User, Account, Product, Region):
        if db.session.execute(select(func.count()).select_from(model)).scalar_one():
            return True
    return False


def load_demo(with_history=True, today=None):
    """Load the demo company (and, unless told otherwise, a year of ledger history up to
    `today`). Returns False when it was already there."""
    if demo_loaded():
        return False
    if has_any_data():
        raise DemoDataRefused(
            "This database already holds data that is not demo data; demo data is not loaded into it."
        )
    regions = {}
    for code, name, parent in REGIONS:
        regions[code] = Region(code=code, name=name, parent=regions.get(parent))
        db.session.add(regions[code])
    accounts = {}
    for code, name, region, contact, phone, address, limit in DISTRIBUTORS:
        accounts[code] = Account(
            code=code, name=name, kind="distributor", region=regions[region], contact_name=contact,
            phone=phone, address=address, credit_limit_fen=_yuan_to_fen(limit), payment_terms_days=30,
            notes="年度框架协议已签署；月结。",
        )
    for i, (code, name, region, supplier, contact, limit) in enumerate(DEALERS):
        accounts[code] = Account(
            code=code, name=name, kind="dealer", region=regions[region],
            supplier=accounts.get(supplier), contact_name=contact,
            phone=f"13{8 - i % 3}{1000_0000 + i * 7_654_321 % 9000_0000:08d}",
            address=f"{regions[region].name}市{name[:2]}路{10 + i * 3}号",
            credit_limit_fen=_yuan_to_fen(limit), payment_terms_days=30 if supplier else 45,
            status="suspended" if code == "DL-TJ005" else "active",
            notes="暂停供货：连续两个月逾期未回款。" if code == "DL-TJ005" else None,
        )
    db.session.add_all(accounts.values())
    for code, name, unit, price in PRODUCTS:
        db.session.add(Product(code=code, name=name, unit=unit, list_price_fen=_yuan_to_fen(price),
                               active=not code.startswith("P-OLD")))
    password_hash = hash_password(DEMO_PASSWORD)
    for username, full_name, role, extra in USERS:
        user = User(
            username=username, full_name=full_name, role=role, password_hash=password_hash,
            field_kind=extra.get("kind"),
            region=regions[extra["region"]] if "region" in extra else None,
            account=accounts[extra["account"]] if "account" in extra else None,
            second_approver=extra.get("second_approver", False),
        )
        user.supervised_regions = [regions[c] for c in extra.get("regions", [])]
        db.session.add(user)
    db.session.add(Setting(key=MARKER, value="1"))
    db.session.flush()
    record("demo_data_loaded", None, by=None, object_type="system", label="demo data")
    db.session.commit()
    if with_history:
        from .demo_history import load_history

        load_history(today or date.today())
    return True
