"""The ledger's rules as properties, checked by hypothesis through the real services on SQLite
and PostgreSQL:

- a balance, at any date, is the sum of the entries up to that date (with or without closed
  months in between), and balances_at agrees with balance_at;
- the closing balance of a month is the opening balance of the next;
- a reversal nets to zero;
- nothing changes in a closed month;
- replaying any call (a posting with its external reference, a reversal, a close) changes nothing.

The `app` fixture gives one database per test function, not per example, so every example posts
to an account of its own and into months of its own: `Calendar` (in tests/ledger/__init__.py)
hands out months no earlier example used and closes months strictly in order, as finance would.
"""
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channel.extensions import db
from channel.ledger import services
from channel.ledger.models import BalanceSnapshot, Document
from channel.ledger.services import LedgerError

from . import (
    WINDOW,
    Calendar,
    Month,
    call,
    close,
    counts,
    documents,
    entries_sum,
    new_account,
    on,
    post,
    reverse,
    signed,
)

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def in_date_order(docs, first):
    return sorted(docs, key=lambda d: on(d, first))


def statements(acc, first: Month, months=WINDOW):
    """Statements from the month before the window to the month after it."""
    return [services.statement(acc, m) for m in Month.range(first - 1, first + months)]


# --- balance = sum of entries; closing(M) = opening(M+1) --------------------------------------

def test_balance_is_the_sum_of_entries_and_statements_chain(app):
    with app.app_context():
        cal = Calendar()

        @SETTINGS
        @given(docs=st.lists(documents, min_size=1, max_size=6), closes=st.integers(0, WINDOW))
        def example(docs, closes):
            acc = new_account()
            first = cal.window()
            model = []  # (date, signed fen): the plain-Python ledger
            for doc in in_date_order(docs, first):
                month = first + doc["month"]
                if month - first >= 1:  # close the months before this one, up to `closes` of them
                    cal.close_through(min(month - 1, first + closes - 1))
                kw = call(doc, acc, first)
                post(**kw)
                model.append((kw["on"], signed(kw)))
            cal.close_through(first + closes - 1)

            def expected(upto):
                return sum(amount for day, amount in model if day <= upto)

            days = {day for day, _ in model} | {m.last_day for m in Month.range(first - 1, first + WINDOW)}
            days |= {m.first_day for m in Month.range(first, first + WINDOW)}
            for day in sorted(days):
                assert services.balance_at(acc, day) == expected(day) == entries_sum(acc, day), day
                assert services.balances_at(day, account_ids=[acc.id]).get(acc.id, 0) == expected(day)
            assert services.current_balance(acc) == sum(a for _, a in model)
            chain = statements(acc, first)
            assert chain[0].opening_fen == 0
            for month_st, next_st in zip(chain, chain[1:]):
                assert month_st.closing_fen == next_st.opening_fen
                assert month_st.closing_fen == services.balance_at(acc, month_st.period.last_day)
                assert month_st.closing_fen == month_st.opening_fen + sum(
                    ln.debit_fen - ln.credit_fen for ln in month_st.lines)
                assert month_st.closing_fen == month_st.opening_fen + sum(month_st.totals.values())
            for month in Month.range(first, first + closes - 1):
                snap = db.session.get(BalanceSnapshot, (acc.id, str(month)))
                # No row: nothing was ever posted to the account up to then.
                assert (snap.closing_fen if snap else 0) == expected(month.last_day)
                assert snap is not None or not any(day <= month.last_day for day, _ in model)

        example()


# --- a reversal nets to zero ------------------------------------------------------------------

def test_a_reversal_nets_to_zero(app):
    with app.app_context():
        cal = Calendar()

        @SETTINGS
        @given(doc=documents, later=st.integers(0, 40), close_first=st.booleans())
        def example(doc, later, close_first):
            acc = new_account()
            first = cal.window()
            doc = {**doc, "month": 0}
            kw = call(doc, acc, first)
            original = post(**kw).document
            if close_first:
                cal.close_through(first)  # the original's month is closed: reverse into the next
            reversal_on = max(first.next().first_day if close_first else kw["on"],
                              kw["on"] + timedelta(days=later))
            reversal = reverse(original, on=reversal_on)
            assert reversal.kind == original.kind and reversal.amount_fen == original.amount_fen
            assert reversal.direction != original.direction and reversal.reversal_of_id == original.id
            assert original.entry.amount_fen == signed(kw) == -reversal.entry.amount_fen
            assert [(ln.product_id, ln.quantity, ln.unit_price_fen) for ln in reversal.lines] == \
                [(ln.product_id, ln.quantity, ln.unit_price_fen) for ln in original.lines]
            assert services.current_balance(acc) == 0 == entries_sum(acc)
            if reversal_on > kw["on"]:
                assert services.balance_at(acc, reversal_on - timedelta(days=1)) == signed(kw)
            months = Month.range(Month.of(kw["on"]), Month.of(reversal_on))
            assert sum(services.statement(acc, m).totals[kw["kind"]] for m in months) == 0

        example()


# --- nothing changes in a closed month --------------------------------------------------------

def test_nothing_changes_in_a_closed_month(app):
    with app.app_context():
        cal = Calendar()

        @SETTINGS
        @given(before=st.lists(documents, min_size=1, max_size=4),
               after=st.lists(documents, min_size=1, max_size=4),
               reverse_some=st.lists(st.booleans(), min_size=4, max_size=4))
        def example(before, after, reverse_some):
            acc, other = new_account(), new_account()
            first = cal.window()
            posted = [post(**call({**doc, "month": 0}, acc, first)).document for doc in before]
            cal.close_through(first)

            def frozen():
                snapshot = db.session.get(BalanceSnapshot, (acc.id, str(first)))
                days = [first.first_day.replace(day=d) for d in range(1, first.days + 1)]
                return (services.statement(acc, first), snapshot.closing_fen,
                        [services.balance_at(acc, day) for day in days], services.balances_at(first.last_day))
            was = frozen()
            for doc in after:
                # Into the closed month: refused, nothing written, for either account.
                for target in (acc, other):
                    kw = call({**doc, "month": 0}, target, first)
                    n = counts()
                    try:
                        post(**kw)
                    except LedgerError as err:
                        assert err.code == "period_closed"
                    else:
                        raise AssertionError(f"posted into closed {first}: {kw}")
                    assert counts() == n
                # Into the open month after it: fine, and it does not touch the closed month.
                post(**call({**doc, "month": 1}, acc, first))
            for doc, yes in zip(posted, reverse_some):
                if yes:
                    try:
                        reverse(doc, on=first.last_day)
                    except LedgerError as err:
                        assert err.code == "period_closed"
                    else:
                        raise AssertionError("reversed into a closed month")
                    reverse(doc, on=first.next().first_day)
            assert frozen() == was

        example()


# --- replaying any call changes nothing -------------------------------------------------------

def test_replaying_any_call_changes_nothing(app):
    with app.app_context():
        cal = Calendar()

        @SETTINGS
        @given(docs=st.lists(documents, min_size=1, max_size=5), data=st.data())
        def example(docs, data):
            acc = new_account()
            first = cal.window()
            ref = f"R{acc.id}"
            calls = [call(doc, acc, first, external_ref=f"{ref}-{i}") for i, doc in enumerate(docs)]
            originals = [post(**kw).document.id for kw in calls]

            def state():
                return (counts(), services.current_balance(acc), statements(acc, first),
                        services.balances_at(None, account_ids=[acc.id]))
            was = state()
            # Replay in any order, any number of times, before and after a month close.
            order = data.draw(st.lists(st.integers(0, len(calls) - 1), min_size=1, max_size=8),
                              label="replays")
            close_after = data.draw(st.integers(0, len(order)), label="close after replay #")
            for n, i in enumerate(order):
                if n == close_after:
                    cal.close_through(first + WINDOW - 1)
                    assert state() == was  # closing moves no money: the same statements
                result = post(**calls[i])
                assert not result.created and result.document.id == originals[i]
                assert state() == was
            # A reversal replayed is refused and changes nothing; so is a close replayed.
            if cal.closed < first:
                target = data.draw(st.integers(0, len(calls) - 1), label="reverse")
                doc = db.session.get(Document, originals[target])
                reverse(doc, on=(first + WINDOW - 1).last_day)
                after_reversal = state()
                try:
                    reverse(doc, on=(first + WINDOW - 1).last_day)
                except LedgerError as err:
                    assert err.code == "already_reversed"
                else:
                    raise AssertionError("reversed twice")
                assert state() == after_reversal
            else:
                try:
                    close(cal.closed)
                except LedgerError as err:
                    assert err.code == "period_already_closed"
                else:
                    raise AssertionError("closed twice")
                assert state() == was

        example()
