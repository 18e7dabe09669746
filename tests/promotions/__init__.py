"""Helpers for the promotion tests: a product of its own (the demo's history never ships it), so
that every figure of a test comes from the documents the test posts."""
from datetime import date

from sqlalchemy import select

from channel.extensions import db
from channel.masterdata.models import Product, Region
from channel.promotions import services as ps
from tests.ledger import LineInput, account, post, user, written

START, END = date(2026, 3, 1), date(2026, 3, 31)
DURING, AFTER = date(2026, 3, 15), date(2026, 4, 2)


def new_product(code="P-PROMO", price_fen=5_000) -> Product:
    p = Product(code=code, name=f"促销装 {code}", unit="箱", list_price_fen=price_fen, active=True)
    db.session.add(p)
    db.session.commit()
    return p


def region(code: str) -> Region:
    return db.session.execute(select(Region).where(Region.code == code)).scalar_one()


def promotion(kind="per_unit", rate=200, *, products=("P-PROMO",), budgets=(("NORTH", 1_000_000),), code=None,
              min_quantity=0, cap_fen=None, start=START, end=END, publish=True, by="finance"):
    """A promotion (published by default) of these products in these regions."""
    ids = [db.session.execute(select(Product.id).where(Product.code == c)).scalar_one() for c in products]
    data = ps.PromotionInput(code=code or f"PR-{kind}", name=f"{kind} 促销", kind=kind, rate=rate, starts_on=start,
                             ends_on=end, product_ids=ids, budgets={region(r).id: b for r, b in budgets},
                             min_quantity=min_quantity, cap_fen=cap_fen)
    p = written(ps.create_promotion, data, by=user(by))
    if publish:
        p = written(ps.publish, p, version=p.version, by=user(by), today=date(2026, 2, 20))
    return p


def enrol(p, code, *, qty=0, outlets=0, by="sup.north", today=DURING):
    return written(ps.enrol, p, account(code), target_qty=qty, target_outlets=outlets, by=user(by), today=today)


def ship(code, on, qty, product_code="P-PROMO", price=5_000, kind="shipment"):
    """A shipment (or return) of the promotion's product, posted by whoever keeps that ledger."""
    acc = account(code)
    by = user("finance") if acc.supplier_id is None else user(_distributor_user(acc.supplier.code))
    prod = db.session.execute(select(Product).where(Product.code == product_code)).scalar_one()
    return post(kind=kind, account=acc, on=on, lines=[LineInput(prod, qty, price)], by=by)


def _distributor_user(supplier_code):
    return {"GD-BJ01": "dist.bj", "GD-TJ01": "dist.tj", "GD-SH01": "dist.sh", "GD-GZ01": "dist.gz"}[supplier_code]
