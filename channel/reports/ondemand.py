"""Rendering for a person who waits: one warm render worker per web process, shared by the
reports rendered on request (the expense voucher, a region's plan-versus-actual PDF).

The worker has the configured time and memory limits (REPORT_TIMEOUT_SECONDS, REPORT_MEMORY_MB;
another app config with other limits, e.g. in tests, gets a new worker), starts on first use
and is closed at exit. One render at a time per web process: the pool is not thread-safe, and
these reports take a fraction of a second, so a second request waits for the first rather than
starting more workers. WeasyPrint never runs in the web process itself.
"""
import atexit
import io
import threading

from flask import current_app, render_template, send_file

_pool = None
_limits = None
_lock = threading.Lock()


class OnDemandPool:
    """The RenderPool interface (render_many) over the process's one warm worker."""

    def render_many(self, tasks):
        global _pool, _limits
        from reports.pool import RenderPool

        config = current_app.config
        limits = (config["REPORT_TIMEOUT_SECONDS"], config["REPORT_MEMORY_MB"])
        with _lock:
            if _pool is not None and _limits != limits:
                _pool.close()
                _pool = None
            if _pool is None:
                _pool = RenderPool(workers=1, timeout_s=limits[0], memory_mb=limits[1])
                _pool.start()
                _limits = limits
            return list(_pool.render_many(tasks))


class RenderUnavailable(Exception):
    """A report rendered for a person could not be made (error, time or memory limit)."""


def render_now(kind: str, context: dict, lang: str) -> bytes:
    """One PDF of a registered report kind, rendered by this process's warm worker; raises
    RenderUnavailable (logged with the kind and the context's reference)."""
    results = OnDemandPool().render_many([(None, kind, context, lang)])
    result = results[0][1] if results else None
    if result is None or result.error:
        error = result.error if result is not None else "no result"
        current_app.logger.error("%s %s (%s): %s", kind, context.get("reference"), lang, error)
        raise RenderUnavailable(error)
    return result.pdf


def send_pdf(kind: str, context: dict, filename: str, *, unavailable: tuple, after=None):
    """The response of a PDF route: the read transaction ends (none is held while the worker
    renders), the PDF is rendered in the user's language, `after()` (the audit record) runs and
    is committed, and the file is sent as a download. A render that fails is a 503 page with
    `unavailable` = (title, text) in the user's language, and nothing is recorded."""
    from ..extensions import db
    from ..i18n import current_language

    db.session.rollback()
    try:
        pdf = render_now(kind, context, current_language())
    except RenderUnavailable:
        title, text = unavailable
        return render_template("errors/error.html", code=503, title=title, text=text), 503
    if after is not None:
        after()
        db.session.commit()
    return send_file(io.BytesIO(pdf), mimetype="application/pdf", as_attachment=True, download_name=filename,
                     max_age=0)


def close() -> None:
    global _pool
    with _lock:
        if _pool is not None:
            _pool.close()
            _pool = None


atexit.register(close)
