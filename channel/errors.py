from flask import jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError

from .extensions import db

TITLES = {
    400: _l("Bad request"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    413: _l("Upload too large"),
    500: _l("Something went wrong"),
}
TEXTS = {
    400: _l("The request could not be understood."),
    403: _l("You do not have access to this page."),
    404: _l("This page does not exist, or you have no access to it."),
    405: _l("This address does not accept that kind of request."),
    413: _l("The file is larger than allowed."),
    500: _l("The error has been logged. Please try again; if it persists, tell your administrator."),
}


def _page(code, text=None):
    if request.path.startswith("/api/"):
        return jsonify({"message": str(text or TEXTS[code])}), code
    return render_template("errors/error.html", code=code, title=TITLES[code],
                           text=text or TEXTS[code]), code


def init_errors(app):
    for code in (400, 403, 404, 405, 413):
        app.register_error_handler(code, lambda e, code=code: _page(code))

    @app.errorhandler(CSRFError)
    def _csrf(e):
        return _page(400, _l("The form has expired or was not sent from this site. Go back, reload and try again."))

    @app.errorhandler(500)
    def _server_error(e):
        db.session.rollback()
        return _page(500)
