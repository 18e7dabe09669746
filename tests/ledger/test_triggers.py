"""The database itself keeps the ledger append-only: raw SQL that updates or deletes entries,
documents or lines is refused by triggers (and TRUNCATE on PostgreSQL), and so is an entry dated
in a closed month, whoever writes it. On SQLite and on PostgreSQL."""
from datetime import date

import pytest
from sqlalchemy import Date, bindparam, select, text
from sqlalchemy.exc import DBAPIError

from channel.extensions import db
from channel.ledger import services
from channel.ledger.models import Document, DocumentLine, LedgerEntry

from . import LineInput, Month, close, counts, new_account, post, product, reopen, yuan


def _posted(app):
    """One shipment with two lines, in January 2026; returns (document id, account id)."""
    acc = new_account()
    doc = post(kind="shipment", account=acc, on=date(2026, 1, 5),
               lines=[LineInput(product("P-W550"), 10, yuan("28.80")),
                      LineInput(product("P-GT500"), 2, yuan("45.00"))]).document
    return doc.id, acc.id


def _state():
    rows = lambda model: sorted(tuple(getattr(r, c.key) for c in model.__table__.columns)  # noqa: E731
                                for r in db.session.execute(select(model)).scalars())
    db.session.expire_all()
    return [rows(Document), rows(DocumentLine), rows(LedgerEntry)]


def _refused(sql, params, *, message="append-only"):
    with pytest.raises(DBAPIError) as caught:
        db.session.execute(text(sql), params)
        db.session.flush()
    db.session.rollback()
    assert message in str(caught.value.orig), str(caught.value.orig)


STATEMENTS = [
    ("UPDATE ledger_entries SET amount_fen = amount_fen + 1 WHERE document_id = :doc", "entry amount"),
    ("UPDATE ledger_entries SET entry_date = '2026-02-01' WHERE document_id = :doc", "entry date"),
    ("UPDATE ledger_entries SET account_id = account_id WHERE document_id = :doc", "entry no-op"),
    ("DELETE FROM ledger_entries WHERE document_id = :doc", "entry delete"),
    ("DELETE FROM ledger_entries", "entries delete all"),
    ("UPDATE documents SET amount_fen = 1 WHERE id = :doc", "document amount"),
    ("UPDATE documents SET memo = 'edited' WHERE id = :doc", "document memo"),
    ("UPDATE documents SET reversal_of_id = NULL WHERE id = :doc", "document link"),
    ("DELETE FROM documents WHERE id = :doc", "document delete"),
    ("UPDATE document_lines SET quantity = 1, amount_fen = unit_price_fen WHERE document_id = :doc",
     "line quantity"),
    ("DELETE FROM document_lines WHERE document_id = :doc", "line delete"),
]


def test_raw_sql_cannot_update_or_delete_the_ledger(app):
    with app.app_context():
        doc_id, _ = _posted(app)
        before = _state()
        for sql, label in STATEMENTS:
            try:
                _refused(sql, {"doc": doc_id})
            except BaseException as failure:
                raise AssertionError(label) from failure
        assert _state() == before


def test_the_orm_cannot_edit_a_posted_document_either(app):
    with app.app_context():
        doc_id, acc_id = _posted(app)
        before = _state()
        doc = db.session.get(Document, doc_id)
        doc.amount_fen = 1
        with pytest.raises(DBAPIError):
            db.session.commit()
        db.session.rollback()
        entry = db.session.execute(select(LedgerEntry).where(LedgerEntry.document_id == doc_id)).scalar_one()
        db.session.delete(entry)
        with pytest.raises(DBAPIError):
            db.session.commit()
        db.session.rollback()
        assert _state() == before
        assert services.current_balance(acc_id) == yuan("378.00")


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)  # SQLite has no TRUNCATE
def test_truncate_is_refused_on_postgresql(app):
    with app.app_context():
        assert db.engine.dialect.name == "postgresql"
        _posted(app)
        before = _state()
        for sql in ("TRUNCATE ledger_entries", "TRUNCATE document_lines",
                    "TRUNCATE ledger_entries, document_lines, documents CASCADE"):
            _refused(sql, {})
        # Without CASCADE the tables referring to documents (disputes, corrections) refuse first.
        _refused("TRUNCATE ledger_entries, document_lines, documents", {}, message="")
        assert _state() == before


def _raw_entry(on, acc_id, number):
    """A document and its entry written with plain SQL, past every service check."""
    doc_id = db.session.execute(text(
        "INSERT INTO documents (number, kind, direction, account_id, supplier_key, document_date, "
        "amount_fen, created_at) VALUES (:number, 'rebate', 'credit', :acc, 0, :on, 100, CURRENT_TIMESTAMP) "
        "RETURNING id").bindparams(bindparam("on", type_=Date)),
        {"number": number, "acc": acc_id, "on": on}).scalar_one()
    db.session.execute(text(
        "INSERT INTO ledger_entries (account_id, document_id, entry_date, kind, amount_fen, posted_at) "
        "VALUES (:acc, :doc, :on, 'rebate', -100, CURRENT_TIMESTAMP)").bindparams(bindparam("on", type_=Date)),
        {"acc": acc_id, "doc": doc_id, "on": on})
    db.session.flush()


def test_the_database_refuses_an_entry_dated_in_a_closed_month(app):
    with app.app_context():
        _, acc_id = _posted(app)
        close(Month(2026, 1), today=date(2026, 2, 1))
        before = counts()
        for on in (date(2026, 1, 1), date(2026, 1, 31)):
            with pytest.raises(DBAPIError) as caught:
                _raw_entry(on, acc_id, f"RAW-{on.isoformat()}")
            db.session.rollback()
            assert "closed" in str(caught.value.orig)
        assert counts() == before
        # The same raw insert dated in an open month is accepted: the trigger looks at the month.
        _raw_entry(date(2026, 2, 1), acc_id, "RAW-OPEN")
        db.session.commit()
        assert counts() == (before[0] + 1, before[1] + 1, before[2])
        # Reopened, January takes entries again (the admin's way to correct a closed month).
        reopen(Month(2026, 1))
        _raw_entry(date(2026, 1, 31), acc_id, "RAW-REOPENED")
        db.session.commit()
        assert services.balance_at(acc_id, date(2026, 1, 31)) == yuan("378.00") - 100
