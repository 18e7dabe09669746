"""A model-based test: hypothesis drives the ledger services with post / reverse / replay /
conflicting replay / close the next month / post into a closed month, and after every step
compares the database with a plain-Python model of the ledger (a list of signed amounts with
dates). On SQLite and on PostgreSQL.

One database per test function: every run of the machine posts to two accounts of its own, and
into months after every earlier run's (a shared `Calendar`: months are closed strictly in order).
"""
from dataclasses import dataclass
from datetime import date

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from channel.extensions import db
from channel.ledger import services
from channel.ledger.models import BalanceSnapshot, Document
from channel.ledger.services import DuplicateConflict, LedgerError
from channel.masterdata.models import Account

from . import (
    Calendar,
    LineInput,
    Month,
    call,
    counts,
    documents,
    entries_sum,
    new_account,
    post,
    reverse,
    signed,
)


@dataclass
class Posted:
    """The model's view of one document."""

    id: int
    account: int
    on: date
    signed: int
    call: dict | None = None  # the post_document arguments, for replays (None: a reversal)
    reversal_of: int | None = None
    reversed: bool = False


class LedgerModel(RuleBasedStateMachine):
    calendar: Calendar  # set by the test: shared by every run on one database

    def __init__(self):
        super().__init__()
        self.accounts = [new_account().id, new_account().id]
        self.docs: list[Posted] = []
        self.first = max(self.calendar.free, self.calendar.closed + 1)
        self.last = self.first  # the latest month anything was dated in
        self.closed: list[Month] = []  # months of this run that were closed
        self.refs = 0

    def teardown(self):
        self.calendar.free = max(self.calendar.free, self.last + 1, self.calendar.closed + 1)

    # --- the model ---------------------------------------------------------------------------

    def balance(self, account_id, upto=None):
        return sum(d.signed for d in self.docs if d.account == account_id and (upto is None or d.on <= upto))

    def open_day(self, ahead, day) -> date:
        """A day in the first or second month still open."""
        month = max(self.first, self.calendar.closed + 1) + ahead
        self.last = max(self.last, month)
        return month.first_day.replace(day=day)

    # --- rules -------------------------------------------------------------------------------

    @rule(which=st.integers(0, 1), doc=documents, ahead=st.integers(0, 1), with_ref=st.booleans())
    def post_a_document(self, which, doc, ahead, with_ref):
        day = self.open_day(ahead, doc["day"])
        account_id = self.accounts[which]
        ref = None
        if with_ref:
            self.refs += 1
            ref = f"SM{account_id}-{self.refs}"
        kw = call({**doc, "month": 0, "day": day.day}, db.session.get(Account, account_id), Month.of(day),
                  external_ref=ref)
        result = post(**kw)
        assert result.created
        assert result.document.entry.amount_fen == signed(kw)
        self.docs.append(Posted(result.document.id, account_id, day, signed(kw), call=kw if ref else None))

    @precondition(lambda self: self.docs)
    @rule(data=st.data(), ahead=st.integers(0, 1), day=st.integers(1, 28))
    def reverse_a_document(self, data, ahead, day):
        target = data.draw(st.sampled_from(self.docs), label="document")
        on = self.open_day(ahead, day)
        before = counts()
        try:
            reversal = reverse(db.session.get(Document, target.id), on=on)
        except LedgerError as err:
            expected = "reversal_not_reversible" if target.reversal_of else "already_reversed"
            assert err.code == expected and (target.reversal_of or target.reversed)
            assert counts() == before
            return
        assert target.reversal_of is None and not target.reversed
        target.reversed = True
        self.docs.append(Posted(reversal.id, target.account, on, -target.signed, reversal_of=target.id))

    @precondition(lambda self: any(d.call for d in self.docs))
    @rule(data=st.data())
    def replay_an_external_ref(self, data):
        target = data.draw(st.sampled_from([d for d in self.docs if d.call]), label="document")
        before = counts()
        result = post(**target.call)  # even when its month has been closed since
        assert not result.created and result.document.id == target.id
        assert counts() == before

    @precondition(lambda self: any(d.call for d in self.docs))
    @rule(data=st.data())
    def replay_with_other_content(self, data):
        target = data.draw(st.sampled_from([d for d in self.docs if d.call]), label="document")
        kw = dict(target.call)
        if "lines" in kw:
            first = kw["lines"][0]
            changed = LineInput(first.product, first.quantity + 1, first.unit_price_fen or 1)
            kw["lines"] = [changed] + kw["lines"][1:]
        else:
            kw["amount_fen"] += 1
        before = counts()
        try:
            post(**kw)
        except DuplicateConflict as err:
            assert "amount" in err.differences and err.document.id == target.id
        else:
            raise AssertionError("a different document under a used external reference was posted")
        assert counts() == before

    @precondition(lambda self: self.calendar.closed < self.last)  # not past what was posted
    @rule()
    def close_the_next_month(self):
        month = self.calendar.closed + 1
        self.calendar.close_through(month)
        if month >= self.first:
            self.closed.append(month)
            self.last = max(self.last, month)

    @precondition(lambda self: self.closed)
    @rule(data=st.data(), which=st.integers(0, 1), doc=documents)
    def post_into_a_closed_month(self, data, which, doc):
        month = data.draw(st.sampled_from(self.closed), label="closed month")
        kw = call({**doc, "month": 0}, db.session.get(Account, self.accounts[which]), month)
        before = counts()
        try:
            post(**kw)
        except LedgerError as err:
            assert err.code == "period_closed" and err.info["month"] == str(month)
        else:
            raise AssertionError(f"posted into closed {month}")
        assert counts() == before

    # --- invariants, after every step ---------------------------------------------------------

    @invariant()
    def the_ledger_is_the_model(self):
        for account_id in self.accounts:
            expected = self.balance(account_id)
            assert services.current_balance(account_id) == expected == entries_sum(account_id)
            for month in self.closed:
                snap = db.session.get(BalanceSnapshot, (account_id, str(month)))
                assert (snap.closing_fen if snap else 0) == self.balance(account_id, month.last_day), month
            previous = None
            for month in Month.range(self.first - 1, self.last):
                st_ = services.statement(account_id, month)
                assert st_.closing_fen == self.balance(account_id, month.last_day), month
                if previous is not None:
                    assert st_.opening_fen == previous.closing_fen, month
                previous = st_


SETTINGS = settings(max_examples=10, stateful_step_count=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.filter_too_much])


def test_the_ledger_behaves_like_its_model(app):
    with app.app_context():
        LedgerModel.calendar = Calendar()
        run_state_machine_as_test(LedgerModel, settings=SETTINGS)
