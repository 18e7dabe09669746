"""Changing master data. Services validate, change, flush and audit; the view commits."""
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from ..audit.services import diff, record, snapshot
from ..extensions import db
from .models import Account, Product, Region

REGION_FIELDS = ("code", "name", "parent_id")
ACCOUNT_FIELDS = ("code", "name", "kind", "supplier_id", "region_id", "contact_name", "phone",
                  "address", "credit_limit_fen", "payment_terms_days", "status", "notes")
ARCHIVE_FIELDS = ("contact_name", "phone", "address", "notes")
PRODUCT_FIELDS = ("code", "name", "unit", "list_price_fen", "active")


class MasterDataError(Exception):
    """A rule of master data was broken. `field` is the form field to show it on."""

    def __init__(self, code, field=None):
        super().__init__(code)
        self.code = code
        self.field = field


def root_of(region):
    node, seen = region, set()
    while node.parent is not None and node.id not in seen:
        seen.add(node.id)
        node = node.parent
    return node


def _code_taken(model, code, own_id=None):
    stmt = select(func.count()).select_from(model).where(func.lower(model.code) == code.lower())
    if own_id is not None:
        stmt = stmt.where(model.id != own_id)
    return db.session.execute(stmt).scalar_one() > 0


def _apply(obj, values, fields, *, by, action):
    before = snapshot(obj, fields) if action == "updated" else {}
    for name, value in values.items():
        setattr(obj, name, value)
    if action == "created":
        db.session.add(obj)
    db.session.flush()
    changes = diff(before, snapshot(obj, fields))
    if changes:
        record(action, obj, by=by, changes=changes)
    return obj


# --- regions ----------------------------------------------------------------------------------

def save_region(region, *, code, name, parent, by):
    creating = region is None
    region = region or Region()
    if _code_taken(Region, code, region.id):
        raise MasterDataError("code_taken", "code")
    node = parent
    while node is not None:  # a region may not sit below itself
        if region.id is not None and node.id == region.id:
            raise MasterDataError("region_cycle", "parent_id")
        node = node.parent
    new_root = root_of(parent) if parent is not None else region
    if region.id is not None and new_root.id != root_of(region).id:
        _check_region_move(region)
    return _apply(region, {"code": code, "name": name, "parent_id": parent.id if parent else None},
                  REGION_FIELDS, by=by, action="created" if creating else "updated")


def _check_region_move(region):
    """A region moving to another region tree takes its accounts along: no supplier link may
    cross its border, or a dealer would buy from a distributor in another tree."""
    from ..auth.permissions import region_tree_ids

    inside = region_tree_ids([region.id])
    supplier = aliased(Account)
    crossing = db.session.execute(
        select(func.count()).select_from(Account).join(supplier, Account.supplier_id == supplier.id)
        .where(Account.region_id.in_(inside) != supplier.region_id.in_(inside))
    ).scalar_one()
    if crossing:
        raise MasterDataError("region_move_splits_accounts", "parent_id")


# --- accounts ---------------------------------------------------------------------------------

def check_account_rules(*, kind, region, supplier, account=None):
    if kind == "distributor" and supplier is not None:
        raise MasterDataError("distributor_no_supplier", "supplier_id")
    if supplier is not None:
        if supplier.kind != "distributor" or (account is not None and supplier.id == account.id):
            raise MasterDataError("supplier_not_distributor", "supplier_id")
        if root_of(supplier.region).id != root_of(region).id:
            raise MasterDataError("supplier_other_region", "supplier_id")
    if account is not None and account.kind == "distributor" and kind == "dealer":
        has_dealers = db.session.execute(
            select(func.count()).select_from(Account).where(Account.supplier_id == account.id)
        ).scalar_one()
        if has_dealers:
            raise MasterDataError("distributor_has_dealers", "kind")
    if account is not None and account.kind == "distributor" and kind == "distributor":
        # Moving a distributor to another region tree would leave its dealers behind.
        dealers = db.session.execute(select(Account).where(Account.supplier_id == account.id)).scalars()
        if any(root_of(d.region).id != root_of(region).id for d in dealers):
            raise MasterDataError("dealers_other_region", "region_id")


def save_account(account, *, by, **values):
    """values: code, name, kind, region, supplier, contact_name, phone, address,
    credit_limit_fen, payment_terms_days, status, notes."""
    creating = account is None
    region, supplier = values.pop("region"), values.pop("supplier")
    if _code_taken(Account, values["code"], account.id if account else None):
        raise MasterDataError("code_taken", "code")
    check_account_rules(kind=values["kind"], region=region, supplier=supplier, account=account)
    values.update(region_id=region.id, supplier_id=supplier.id if supplier else None)
    return _apply(account or Account(), values, ACCOUNT_FIELDS, by=by,
                  action="created" if creating else "updated")


def save_account_archive(account, *, by, **values):
    return _apply(account, {k: values.get(k) or None for k in ARCHIVE_FIELDS}, ARCHIVE_FIELDS,
                  by=by, action="updated")


# --- products ---------------------------------------------------------------------------------

def save_product(product, *, by, code, name, unit, list_price_fen, active):
    creating = product is None
    if _code_taken(Product, code, product.id if product else None):
        raise MasterDataError("code_taken", "code")
    values = dict(code=code, name=name, unit=unit, list_price_fen=list_price_fen, active=active)
    return _apply(product or Product(), values, PRODUCT_FIELDS, by=by,
                  action="created" if creating else "updated")
