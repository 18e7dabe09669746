"""Asking for reports, rendering the queue, and reading the archive.

A web request only *asks* (a queued run); the scheduler process renders the queue in a pool of
worker processes (`process_queue`), and so does `channel reports generate` from the shell. The
inputs of a report (its context, language and the engine's fingerprint) are hashed: asking again
for a report whose inputs did not change gives the run that exists and renders nothing.
"""
import hashlib
import json
import logging
import os
import socket
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from reports import engine

from ..core.periods import Month
from ..db_types import utcnow
from ..extensions import db
from ..ledger import services as ledger
from ..ledger.models import BalanceSnapshot
from ..masterdata.models import Account
from .models import ReportBatch, ReportFile, ReportRun

log = logging.getLogger("channel.reports")

# Parts of a context that change on every render and say nothing about its content.
VOLATILE = ("generated_at", "reference")


class ReportError(Exception):
    """A report that cannot be asked for (e.g. a month not closed); the message is for people."""


@dataclass(frozen=True)
class QueueResult:
    done: int = 0
    failed: int = 0

    def __add__(self, other):
        return QueueResult(self.done + other.done, self.failed + other.failed)


# --- what a settlement says ----------------------------------------------------------------

def settlement_accounts(month: Month) -> list[Account]:
    """Every account with a ledger at the end of the month (its snapshot exists), in code order."""
    return list(db.session.execute(
        select(Account).join(BalanceSnapshot, BalanceSnapshot.account_id == Account.id)
        .where(BalanceSnapshot.month == str(month)).order_by(Account.code)
    ).scalars())


def _supplier(account: Account) -> dict:
    if account.supplier is not None:
        return {"code": account.supplier.code, "name": account.supplier.name}
    return {"code": None, "name": current_app.config["COMPANY_NAME"]}


def _reconciliation(account: Account, month: Month) -> dict | None:
    """What the PDF prints about the month's reconciliation: its status, and for a confirmed
    one who confirmed it, when, and the hash of the content agreed to."""
    from ..reconciliation.services import find

    rec = find(account, month)
    if rec is None:
        return None
    who = rec.confirmed_by_name or (rec.confirmed_by.full_name if rec.confirmed_by else None)
    confirmed = rec.status == "confirmed"
    return {"status": rec.status, "confirmed_by": who if confirmed else None,
            "confirmed_at": rec.confirmed_at if confirmed else None,
            "hash": rec.confirmed_hash if confirmed else None, "note": None, "version": rec.version,
            # Corrections posted after the month for a dispute: the balance agreed differs.
            "agreed_fen": rec.agreed_fen if confirmed and rec.agreed_fen != rec.closing_fen else None}


def settlement_context(account: Account, month: Month, *, reference: str = "") -> dict:
    """Everything the settlement PDF prints, as plain data (ints are fen)."""
    st = ledger.statement(account, month)
    config = current_app.config
    limit = account.credit_limit_fen
    return {
        "company": {"name": config["COMPANY_NAME"], "address": config["COMPANY_ADDRESS"],
                    "phone": config["COMPANY_PHONE"]},
        "supplier": _supplier(account),
        "account": {"code": account.code, "name": account.name, "kind": account.kind,
                    "region": account.region.name},
        "period": str(month), "period_start": month.first_day, "period_end": month.last_day,
        "opening_fen": st.opening_fen, "closing_fen": st.closing_fen,
        "debit_total_fen": st.debit_total_fen, "credit_total_fen": st.credit_total_fen,
        "lines": [{"date": line.on, "number": line.number, "kind": line.kind,
                   "description": line.description, "debit_fen": line.debit_fen,
                   "credit_fen": line.credit_fen, "balance_fen": line.balance_fen}
                  for line in st.lines],
        "totals": [{"kind": kind, "amount_fen": amount} for kind, amount in st.totals.items() if amount],
        "credit_limit_fen": limit, "available_credit_fen": limit - st.closing_fen,
        "overdue_fen": ledger.overdue(account, month.last_day),
        "reconciliation": _reconciliation(account, month),
        "generated_at": utcnow(),
        "timezone": config["TIMEZONE"],  # the generated_at printed in the business time zone
        "reference": reference,
    }


CONTEXTS = {"settlement": settlement_context}


def _jsonable(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"not JSON: {value!r}")


def input_hash(kind: str, context: dict, lang: str) -> str:
    """Same hash ⇔ same PDF content: the context without its volatile parts, the language, and
    the engine's fingerprint of the templates and renderer."""
    stable = {k: v for k, v in context.items() if k not in VOLATILE}
    payload = json.dumps([kind, lang, engine.fingerprint(kind), stable], sort_keys=True,
                         default=_jsonable, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def _context_for(run: ReportRun) -> dict:
    return CONTEXTS[run.kind](run.account, Month.parse(run.period), reference=f"R{run.id}·v{run.version}")


# --- asking --------------------------------------------------------------------------------

def _require_closed(kind: str, month: Month):
    if kind == "settlement" and not ledger.is_closed(month):
        raise ReportError(_("%(month)s is not closed yet: settlements are made for closed months.",
                            month=str(month)))


def latest_run(kind: str, period: str, account_id: int, lang: str) -> ReportRun | None:
    return db.session.execute(
        select(ReportRun).where(ReportRun.kind == kind, ReportRun.period == period,
                                ReportRun.account_id == account_id, ReportRun.lang == lang)
        .order_by(ReportRun.version.desc()).limit(1)
    ).scalar_one_or_none()


def request_report(kind: str, month: Month, account: Account, lang: str, *, by=None,
                   schedule: str | None = None, batch: ReportBatch | None = None,
                   force: bool = False) -> tuple[ReportRun, bool]:
    """The run that answers the request, and whether it is new. An unchanged report that is
    done (or a run already queued) answers it; otherwise version n+1 is queued."""
    _require_closed(kind, month)
    if lang not in current_app.config["LANGUAGES"]:
        raise ReportError(f"unknown language {lang!r}")
    latest = latest_run(kind, str(month), account.id, lang)
    if latest is not None and latest.status in ("queued", "running"):
        return latest, False
    if latest is not None and latest.status == "failed":
        # The failed version is asked for again as it is (joining this batch): no new version.
        return _requeue(latest, batch), True
    if latest is not None and latest.status == "done" and not force:
        current = input_hash(kind, CONTEXTS[kind](account, month), lang)
        if current == latest.input_hash:
            return latest, False
    run = ReportRun(kind=kind, period=str(month), account_id=account.id, lang=lang,
                    version=(latest.version + 1) if latest is not None else 1, status="queued",
                    batch=batch, requested_by_id=getattr(by, "id", None), schedule=schedule)
    try:
        with db.session.begin_nested():
            db.session.add(run)
    except IntegrityError:
        # Someone asked for the same report at the same moment: theirs answers both.
        return latest_run(kind, str(month), account.id, lang), False
    return run, True


def request_batch(kind: str, month: Month, lang: str, *, by=None, schedule: str | None = None,
                  accounts=None, force: bool = False) -> ReportBatch:
    """Ask for the report of every account (default: every account with a ledger that month)."""
    _require_closed(kind, month)
    accounts = settlement_accounts(month) if accounts is None else list(accounts)
    batch = ReportBatch(kind=kind, period=str(month), lang=lang, requested_by_id=getattr(by, "id", None),
                        schedule=schedule, total=0)
    db.session.add(batch)
    db.session.flush()
    for account in accounts:
        run, new = request_report(kind, month, account, lang, by=by, schedule=schedule, batch=batch,
                                  force=force)
        if not new and run.batch_id != batch.id:
            continue  # already done and unchanged, or queued by someone else: nothing to do
        batch.total += 1
    return batch


def _requeue(run: ReportRun, batch: ReportBatch | None = None) -> ReportRun:
    values = {"status": "queued", "error": None, "worker": None, "started_at": None, "finished_at": None}
    if batch is not None:
        values["batch_id"] = batch.id
    result = db.session.execute(
        update(ReportRun).where(ReportRun.id == run.id, ReportRun.status == "failed").values(**values))
    db.session.refresh(run)
    if result.rowcount != 1 and run.status != "queued":
        raise ReportError(_("Only a failed report can be retried."))
    return run


def retry_run(run: ReportRun) -> ReportRun:
    """A failed run goes back to the queue as it is (same version): the others are not touched."""
    if run.status != "failed":
        raise ReportError(_("Only a failed report can be retried."))
    return _requeue(run)


# --- rendering the queue ---------------------------------------------------------------------

def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def _process_is_gone(worker: str | None) -> bool:
    """True when `worker` (host:pid) ran on this machine and that process no longer exists."""
    host, _, pid = (worker or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def requeue_stale(now: datetime | None = None) -> int:
    """Runs whose process died while rendering go back to the queue: at once when that process
    ran on this machine, else once they have been running for REPORT_STALE_MINUTES."""
    now = now or utcnow()
    cutoff = now - timedelta(minutes=current_app.config["REPORT_STALE_MINUTES"])
    running = db.session.execute(
        select(ReportRun.id, ReportRun.worker, ReportRun.started_at).where(ReportRun.status == "running")
    ).all()
    stale = [(run_id, worker) for run_id, worker, started in running
             if (started is not None and started < cutoff) or _process_is_gone(worker)]
    requeued = 0
    for run_id, worker in stale:
        # Only if the same worker still holds it: a live one may have finished it meanwhile.
        requeued += db.session.execute(
            update(ReportRun).where(ReportRun.id == run_id, ReportRun.status == "running",
                                    ReportRun.worker == worker)
            .values(status="queued", worker=None, started_at=None)).rowcount
    db.session.commit()
    return requeued


def _claim(limit: int, worker: str, batch_id: int | None = None) -> list[int]:
    """Take up to `limit` queued runs for this worker; a run is claimed by exactly one worker."""
    stmt = select(ReportRun.id).where(ReportRun.status == "queued").order_by(ReportRun.id).limit(limit)
    if batch_id is not None:
        stmt = stmt.where(ReportRun.batch_id == batch_id)
    claimed = []
    for run_id in db.session.execute(stmt).scalars().all():
        result = db.session.execute(
            update(ReportRun).where(ReportRun.id == run_id, ReportRun.status == "queued")
            .values(status="running", worker=worker, started_at=utcnow(), attempts=ReportRun.attempts + 1)
        )
        if result.rowcount == 1:
            claimed.append(run_id)
    db.session.commit()
    return claimed


def store_file(pdf: bytes) -> str:
    """The PDF's sha256, storing the bytes once (content-addressed)."""
    digest = hashlib.sha256(pdf).hexdigest()
    if db.session.get(ReportFile, digest) is None:
        try:
            with db.session.begin_nested():
                db.session.add(ReportFile(sha256=digest, size=len(pdf), content=pdf))
        except IntegrityError:
            pass  # the same bytes were stored a moment ago by another worker
    return digest


def _finish(run_id: int, *, worker: str, pdf: bytes | None = None, error: str | None = None,
            digest_input: str | None = None, seconds: float | None = None) -> bool:
    values = {"finished_at": utcnow(), "seconds": seconds}
    if pdf is not None:
        values.update(status="done", file_sha256=store_file(pdf), size=len(pdf), input_hash=digest_input,
                      error=None)
    else:
        values.update(status="failed", error=(error or "unknown error")[:4000])
    # Only the worker that holds the run may finish it (a stale run may have been requeued).
    result = db.session.execute(
        update(ReportRun).where(ReportRun.id == run_id, ReportRun.status == "running",
                                ReportRun.worker == worker).values(**values))
    db.session.commit()
    return result.rowcount == 1


def process_queue(pool, *, worker: str | None = None, batch_id: int | None = None, chunk: int = 20,
                  max_runs: int | None = None, progress=None) -> QueueResult:
    """Render queued runs until none is left (or max_runs); `progress(done, failed)` after each."""
    worker = worker or worker_name()
    total = QueueResult()
    while max_runs is None or total.done + total.failed < max_runs:
        size = chunk if max_runs is None else min(chunk, max_runs - total.done - total.failed)
        claimed = _claim(size, worker, batch_id)
        if not claimed:
            break
        total += _render_claimed(pool, claimed, worker, progress, total)
    return total


def _render_claimed(pool, run_ids, worker, progress, so_far: QueueResult) -> QueueResult:
    tasks, hashes, done, failed = [], {}, 0, 0
    for run_id in run_ids:
        run = db.session.get(ReportRun, run_id)
        try:
            context = _context_for(run)
        except Exception as exc:  # a broken account fails its own run, not the batch
            log.exception("report run %s: building its content failed", run_id)
            _finish(run_id, worker=worker, error=f"{type(exc).__name__}: {exc}")
            failed += 1
            continue
        hashes[run_id] = input_hash(run.kind, context, run.lang)
        tasks.append((run_id, run.kind, context, run.lang))
    db.session.rollback()  # end the read before the long render
    for run_id, result in pool.render_many(tasks):
        if result.pdf is not None:
            _finish(run_id, worker=worker, pdf=result.pdf, digest_input=hashes[run_id], seconds=result.seconds)
            done += 1
        else:
            log.error("report run %s failed: %s", run_id, result.error)
            _finish(run_id, worker=worker, error=result.error, seconds=result.seconds)
            failed += 1
        if progress is not None:
            progress(so_far.done + done, so_far.failed + failed)
    return QueueResult(done, failed)


# --- reading the archive -------------------------------------------------------------------

def batch_progress(batch: ReportBatch) -> dict[str, int]:
    counts = dict(db.session.execute(
        select(ReportRun.status, func.count()).where(ReportRun.batch_id == batch.id).group_by(ReportRun.status)
    ).all())
    return {status: int(counts.get(status, 0)) for status in ("queued", "running", "done", "failed")}


def pdf_bytes(run: ReportRun) -> bytes:
    return db.session.execute(
        select(ReportFile.content).where(ReportFile.sha256 == run.file_sha256)).scalar_one()


def mark_downloaded(run: ReportRun, by) -> None:
    """The first download marks the run (what the batch's recipient list shows); every download
    is audited by the view."""
    db.session.execute(
        update(ReportRun).where(ReportRun.id == run.id, ReportRun.downloaded_at.is_(None))
        .values(downloaded_at=utcnow(), downloaded_by_id=getattr(by, "id", None)))
