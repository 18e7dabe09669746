"""Helpers for the expense tests: claims written as a finance person reads them."""
from datetime import date

from channel.core.periods import Month
from channel.expenses import services as es
from tests.ledger import user, written, yuan

# The tests' month is a past one, so that every line date is "not in the future".
MONTH = Month(2026, 3)
D = date(2026, 3, 10)


def claim(username="rep.beijing", lines=((D, "travel", "300.00"),), *, title="Beijing visits", month=MONTH,
          submit=False):
    """A claim of `username` with lines (date, category, amount[, city tier, nights]), committed."""
    def make():
        c = es.create_claim(user(username), month=month, title=title)
        for spec in lines:
            on, category, amount, *rest = spec
            tier, nights = (rest + [None, 1])[:2] if rest else (None, 1)
            es.add_line(c, es.LineInput(on, category, yuan(amount), city_tier=tier, nights=nights), by=user(username))
        if submit:
            es.submit(c, by=user(username))
        return c
    return written(make)


def act(fn, c, username, **kw):
    return written(fn, c, by=user(username), **kw)
