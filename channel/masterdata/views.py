from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from ..auth.permissions import can, require, scope_accounts, scope_regions
from ..core.money import fen_to_decimal
from ..exports import export_response
from ..extensions import db
from ..i18n import label
from ..ledger.services import current_balance
from .forms import AccountArchiveForm, AccountForm, ProductForm, RegionForm, money_field_value
from .models import ACCOUNT_KINDS, ACCOUNT_STATUSES, Account, Product, Region, in_tree_order
from .services import MasterDataError, save_account, save_account_archive, save_product, save_region

bp = Blueprint("masterdata", __name__)


@bp.before_request
@login_required
def _login_first():
    pass


MESSAGES = {
    "code_taken": _l("This code is already used."),
    "region_cycle": _l("A region cannot be placed below itself."),
    "distributor_no_supplier": _l("A general distributor buys from the company: leave the supplier empty."),
    "supplier_not_distributor": _l("The supplier must be a general distributor."),
    "supplier_other_region": _l("The supplier must be a general distributor in the same region tree."),
    "distributor_has_dealers": _l("This distributor still supplies dealers; it cannot become a dealer."),
    "dealers_other_region": _l("This distributor supplies dealers in its region tree; it cannot move to another tree."),
    "region_move_splits_accounts": _l("Accounts in this region buy from or supply accounts outside it; it cannot move to another region tree."),
}


def _show_error(form, err):
    field = getattr(form, err.field, None) if err.field else None
    (field.errors if field is not None else form.form_errors).append(MESSAGES[err.code])


def _save(form, save, then):
    """Run the service `save`; a broken rule shows on the form and changes nothing, otherwise
    commit and redirect to `then(obj)`. Returns None when the form is to be shown again."""
    try:
        obj = save()
    except MasterDataError as err:
        db.session.rollback()
        _show_error(form, err)
        return None
    db.session.commit()
    flash(_("Saved."), "success")
    return redirect(then(obj))


def _status(form):
    return 200 if not form.errors else 422


def _visible_regions():
    return in_tree_order(db.session.execute(scope_regions(select(Region), current_user)).scalars())


def _all_regions():
    return in_tree_order(db.session.execute(select(Region)).scalars())


# --- regions ----------------------------------------------------------------------------------

@bp.route("/regions")
def list_regions():
    require("list_regions")
    q = request.args.get("q", "").strip()
    stmt = scope_regions(select(Region), current_user).options(
        selectinload(Region.supervisors), selectinload(Region.parent)
    ).order_by(Region.code)
    if q:
        stmt = stmt.where(or_(Region.code.ilike(f"%{q}%"), Region.name.ilike(f"%{q}%")))
    # Regions are few (tens): the whole tree on one page, each parent above its children.
    regions = in_tree_order(db.session.execute(stmt).scalars())
    fmt = request.args.get("format")
    if fmt:
        cols = [(_("Code"), lambda r: r.code), (_("Name"), lambda r: r.name),
                (_("Parent region"), lambda r: r.parent.path if r.parent else ""),
                (_("Supervisors"), lambda r: ", ".join(u.full_name for u in r.supervisors))]
        return export_response(fmt, "regions", cols, regions)
    return render_template("masterdata/regions.html", regions=regions, q=q)


@bp.route("/regions/<int:region_id>")
def show_region(region_id):
    region = db.get_or_404(Region, region_id)
    require("view_region", region)
    accounts = db.session.execute(
        scope_accounts(select(Account).where(Account.region_id == region.id), current_user)
        .order_by(Account.kind.desc(), Account.code)
    ).scalars().all()
    return render_template("masterdata/region.html", region=region, accounts=accounts)


@bp.route("/regions/new", methods=["GET", "POST"])
@bp.route("/regions/<int:region_id>/edit", methods=["GET", "POST"])
def edit_region(region_id=None):
    region = db.get_or_404(Region, region_id) if region_id else None
    if region is not None:
        require("view_region", region)  # a region outside the user's scope: 404, like its page
    require("manage_regions")
    form = RegionForm(obj=region, regions=[r for r in _all_regions() if r is not region])
    if form.validate_on_submit():
        parent = db.session.get(Region, form.parent_id.data) if form.parent_id.data else None
        done = _save(form, lambda: save_region(region, code=form.code.data.strip(),
                                               name=form.name.data.strip(), parent=parent, by=current_user),
                     lambda saved: url_for(".show_region", region_id=saved.id))
        if done:
            return done
    return render_template("masterdata/region_form.html", form=form, region=region), _status(form)


# --- accounts ---------------------------------------------------------------------------------

def _account_filters():
    args = request.args
    return {
        "q": args.get("q", "").strip(),
        "kind": args.get("kind") if args.get("kind") in ACCOUNT_KINDS else "",
        "status": args.get("status") if args.get("status") in ACCOUNT_STATUSES else "",
        "region": args.get("region", type=int),
        "supplier": args.get("supplier", ""),
    }


def _accounts_query(f):
    # Many-to-one: joined into the one query rather than extra round trips per page.
    stmt = scope_accounts(select(Account), current_user).options(
        joinedload(Account.region).joinedload(Region.parent), joinedload(Account.supplier)
    )
    if f["q"]:
        like = f"%{f['q']}%"
        stmt = stmt.where(or_(Account.code.ilike(like), Account.name.ilike(like),
                              Account.contact_name.ilike(like), Account.phone.ilike(like)))
    if f["kind"]:
        stmt = stmt.where(Account.kind == f["kind"])
    if f["status"]:
        stmt = stmt.where(Account.status == f["status"])
    if f["region"]:
        stmt = stmt.where(Account.region_id == f["region"])
    if f["supplier"] == "company":
        stmt = stmt.where(Account.supplier_id.is_(None))
    elif f["supplier"].isdigit():
        stmt = stmt.where(Account.supplier_id == int(f["supplier"]))
    return stmt.order_by(Account.code)


ACCOUNT_COLUMNS = [
    (_l("Code"), lambda a: a.code),
    (_l("Name"), lambda a: a.name),
    (_l("Kind"), lambda a: str(label(a.kind, "account_kind"))),
    (_l("Region"), lambda a: a.region.path),
    (_l("Supplier"), lambda a: str(a.supplier) if a.supplier else _("The company")),
    (_l("Contact"), lambda a: a.contact_name),
    (_l("Phone"), lambda a: a.phone),
    (_l("Address"), lambda a: a.address),
    (_l("Credit limit (¥)"), lambda a: fen_to_decimal(a.credit_limit_fen)),
    (_l("Payment terms (days)"), lambda a: a.payment_terms_days),
    (_l("Status"), lambda a: str(label(a.status, "account_status"))),
]


@bp.route("/accounts")
def list_accounts():
    require("list_accounts")
    f = _account_filters()
    stmt = _accounts_query(f)
    fmt = request.args.get("format")
    if fmt:
        return export_response(fmt, "accounts", ACCOUNT_COLUMNS, db.session.execute(stmt).scalars())
    page = db.paginate(stmt, per_page=25, error_out=False)
    suppliers = db.session.execute(
        scope_accounts(select(Account).where(Account.kind == "distributor"), current_user).order_by(Account.code)
    ).scalars().all()
    return render_template("masterdata/accounts.html", page=page, f=f, regions=_visible_regions(),
                           suppliers=suppliers, kinds=ACCOUNT_KINDS, statuses=ACCOUNT_STATUSES)


@bp.route("/accounts/<int:account_id>")
def show_account(account_id):
    account = db.get_or_404(Account, account_id)
    require("view_account", account)
    dealers = db.session.execute(
        scope_accounts(select(Account).where(Account.supplier_id == account.id), current_user)
        .order_by(Account.code)
    ).scalars().all()
    balance = current_balance(account) if can("view_ledger", account) else None
    return render_template("masterdata/account.html", account=account, dealers=dealers, balance=balance)


def _distributors():
    return db.session.execute(
        select(Account).where(Account.kind == "distributor").order_by(Account.code)
    ).scalars().all()


@bp.route("/accounts/new", methods=["GET", "POST"])
@bp.route("/accounts/<int:account_id>/edit", methods=["GET", "POST"])
def edit_account(account_id=None):
    account = db.get_or_404(Account, account_id) if account_id else None
    if account is not None:
        require("view_account", account)
        if not can("edit_account", account):
            return edit_account_archive(account)
    else:
        require("create_account")
    form = AccountForm(obj=account, regions=_all_regions(),
                       distributors=[d for d in _distributors() if d is not account])
    if request.method == "GET":
        form.credit_limit.data = money_field_value(account.credit_limit_fen if account else 0)
        if account is None:
            form.payment_terms_days.data = 30
    if form.validate_on_submit():
        region = db.session.get(Region, form.region_id.data)
        supplier = db.session.get(Account, form.supplier_id.data) if form.supplier_id.data else None
        done = _save(form, lambda: save_account(
            account, by=current_user, code=form.code.data.strip(), name=form.name.data.strip(),
            kind=form.kind.data, region=region, supplier=supplier,
            contact_name=form.contact_name.data or None, phone=form.phone.data or None,
            address=form.address.data or None, credit_limit_fen=form.credit_limit.fen,
            payment_terms_days=form.payment_terms_days.data, status=form.status.data,
            notes=form.notes.data or None,
        ), lambda saved: url_for(".show_account", account_id=saved.id))
        if done:
            return done
    return render_template("masterdata/account_form.html", form=form, account=account), _status(form)


def edit_account_archive(account):
    # The account is visible (checked by the caller): no right to edit it is 403, not 404.
    if not can("edit_account_archive", account):
        abort(403)
    form = AccountArchiveForm(obj=account)
    if form.validate_on_submit():
        save_account_archive(account, by=current_user, contact_name=form.contact_name.data,
                             phone=form.phone.data, address=form.address.data, notes=form.notes.data)
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for(".show_account", account_id=account.id))
    return render_template("masterdata/account_archive_form.html", form=form, account=account), _status(form)


# --- products ---------------------------------------------------------------------------------

PRODUCT_COLUMNS = [
    (_l("Code"), lambda p: p.code),
    (_l("Name"), lambda p: p.name),
    (_l("Unit"), lambda p: p.unit),
    (_l("List price (¥)"), lambda p: fen_to_decimal(p.list_price_fen)),
    (_l("Status"), lambda p: str(label(p.active, "active"))),
]


@bp.route("/products")
def list_products():
    require("list_products")
    q = request.args.get("q", "").strip()
    active = request.args.get("active", "")
    stmt = select(Product).order_by(Product.code)
    if q:
        stmt = stmt.where(or_(Product.code.ilike(f"%{q}%"), Product.name.ilike(f"%{q}%")))
    if not can("manage_products"):
        active = ""  # discontinued products are for the people who manage the catalogue
        stmt = stmt.where(Product.active.is_(True))
    elif active in ("1", "0"):
        stmt = stmt.where(Product.active.is_(active == "1"))
    fmt = request.args.get("format")
    if fmt:
        return export_response(fmt, "products", PRODUCT_COLUMNS, db.session.execute(stmt).scalars())
    page = db.paginate(stmt, per_page=25, error_out=False)
    return render_template("masterdata/products.html", page=page, q=q, active=active)


@bp.route("/products/new", methods=["GET", "POST"])
@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
def edit_product(product_id=None):
    product = db.get_or_404(Product, product_id) if product_id else None
    require("manage_products")
    form = ProductForm(obj=product)
    if request.method == "GET" and product is not None:
        form.list_price.data = money_field_value(product.list_price_fen)
    if form.validate_on_submit():
        done = _save(form, lambda: save_product(
            product, by=current_user, code=form.code.data.strip(), name=form.name.data.strip(),
            unit=form.unit.data.strip(), list_price_fen=form.list_price.fen, active=form.active.data,
        ), lambda saved: url_for(".list_products"))
        if done:
            return done
    return render_template("masterdata/product_form.html", form=form, product=product), _status(form)
