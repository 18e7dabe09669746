from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from ..auth.permissions import require
from ..extensions import db
from ..transactions import begin_write
from .imports import COLUMNS, check_and_post, read_rows, template_file

bp = Blueprint("imports", __name__, url_prefix="/imports")

KINDS = {"shipment": _l("Shipments"), "payment": _l("Payments")}


class ImportForm(FlaskForm):
    file = FileField(_l("CSV or Excel file"), validators=[FileRequired(_l("Choose a file."))])


@bp.before_request
@login_required
def _login_first():
    pass


@bp.route("/")
def index():
    require("import_documents")
    return render_template("imports/import.html", forms={k: ImportForm(prefix=k) for k in KINDS},
                           kinds=KINDS, columns=COLUMNS, result=None, kind=None)


@bp.route("/template/<kind>.<fmt>")
def template(kind, fmt):
    require("import_documents")
    if kind not in KINDS or fmt not in ("csv", "xlsx"):
        abort(404)
    mimetype = "text/csv; charset=utf-8" if fmt == "csv" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(template_file(kind, fmt), mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{kind}-import-template.{fmt}"'})


@bp.route("/<kind>", methods=["POST"])
def upload(kind):
    require("import_documents")
    if kind not in KINDS:
        abort(404)
    forms = {k: ImportForm(prefix=k) for k in KINDS}
    form = forms[kind]
    result = None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            rows = read_rows(upload.filename or "", upload.read())
        except ValueError as err:
            form.file.errors.append(str(err))
        else:
            begin_write()
            result = check_and_post(kind, rows, user=current_user._get_current_object())
            if result.ok:
                db.session.commit()
                flash(_("%(posted)s documents posted, %(replayed)s already present (not posted again).",
                        posted=len(result.posted), replayed=len(result.replayed)), "success")
                return redirect(url_for(".index"))
            db.session.rollback()
    status = 200 if result is None and not form.errors else 422
    return render_template("imports/import.html", forms=forms, kinds=KINDS, columns=COLUMNS,
                           result=result, kind=kind), status
