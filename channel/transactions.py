"""Transactions that write money.

PostgreSQL: a posting locks its number series (document_counters row), then the account row
(SELECT ... FOR NO KEY UPDATE), in that order, so two postings to one account run one after the
other and each sees the other's result; the order keeps a single posting out of deadlocks with
a transaction posting several documents of one kind (see _lock_counter in ledger/services.py).

SQLite has one writer at a time, and in WAL mode a transaction that has read and then tries to
write after another writer committed fails at once (SQLITE_BUSY_SNAPSHOT) instead of waiting.
So a request that is about to post first ends its read-only transaction and starts the writing
one with BEGIN IMMEDIATE: it waits (busy_timeout) for the write lock, then reads fresh data.
"""
from .extensions import db


def begin_write():
    """Call before the services of a request (or job) that posts money. Nothing may have been
    written in the current transaction yet: it is committed, which only ends the read."""
    session = db.session
    if session.get_bind().dialect.name != "sqlite":
        return
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("begin_write() after changes: call it before the services write")
    session.commit()
    session.connection().exec_driver_sql("BEGIN IMMEDIATE")


def lock_rows(stmt):
    """The statement with FOR UPDATE where the engine has row locks (PostgreSQL)."""
    return stmt.with_for_update()
