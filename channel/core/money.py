"""Money is integer fen. Decimal only at the edges (forms, API, display); never float."""
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FEN_PER_YUAN = 100
# Far above any real amount, far below BigInteger's limit: refuses 20-digit nonsense.
MAX_ABS_FEN = 10**15


class MoneyError(ValueError):
    """An amount that is not a valid sum of money. `code` says why, for translated messages."""

    def __init__(self, code: str, text: str):
        super().__init__(text)
        self.code = code


def parse_amount(value, *, allow_negative: bool = False, allow_zero: bool = True) -> int:
    """Turn user input (str, int or Decimal) into fen, exactly, or raise MoneyError.

    Refuses floats, NaN, infinities, exponents, thousands separators and more than two decimals:
    "1.005" is a typing mistake, not 1.01 yuan.
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise MoneyError("type", "amounts must be given as text or Decimal, not float")
    if isinstance(value, int):
        dec = Decimal(value)
    elif isinstance(value, Decimal):
        dec = value
    elif isinstance(value, str):
        text = value.strip()
        if not text or any(c not in "0123456789.-+" for c in text):
            raise MoneyError("format", f"not an amount: {value!r}")
        try:
            dec = Decimal(text)
        except InvalidOperation:
            raise MoneyError("format", f"not an amount: {value!r}") from None
    else:
        raise MoneyError("type", f"not an amount: {value!r}")
    if not dec.is_finite():
        raise MoneyError("format", f"not an amount: {value!r}")
    if dec.as_tuple().exponent < -2 and dec != dec.quantize(Decimal("0.01")):
        raise MoneyError("precision", "at most two decimals (fen)")
    fen = int(dec * FEN_PER_YUAN)
    if abs(fen) > MAX_ABS_FEN:
        raise MoneyError("range", "amount too large")
    if fen < 0 and not allow_negative:
        raise MoneyError("negative", "amount must not be negative")
    if fen == 0 and not allow_zero:
        raise MoneyError("zero", "amount must not be zero")
    return fen


def fen_to_decimal(fen: int) -> Decimal:
    return (Decimal(fen) / FEN_PER_YUAN).quantize(Decimal("0.01"))


def format_fen(fen: int | None, *, symbol: str = "¥") -> str:
    """¥1,234.56; negative amounts as -¥1,234.56."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(int(fen)), FEN_PER_YUAN)
    return f"{sign}{symbol}{yuan:,}.{cents:02d}"


def to_api(fen: int) -> str:
    """The API's string form: "1234.50"."""
    return str(fen_to_decimal(fen))


def allocate(total_fen: int, weights: list[int]) -> list[int]:
    """Split total_fen in proportion to weights by largest remainder; always sums to the total."""
    if not weights:
        return []
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    whole = sum(weights)
    if whole == 0:
        return [0] * len(weights)
    shares = [total_fen * w // whole for w in weights]
    remainders = [(total_fen * w % whole, -i) for i, w in enumerate(weights)]
    left = total_fen - sum(shares)
    for _, neg_i in sorted(remainders, reverse=True)[:left]:
        shares[-neg_i] += 1
    return shares


def quantize_half_up(value: Decimal) -> int:
    """Round a computed Decimal amount of yuan to whole fen, half up (the accountant's rule)."""
    return int((value * FEN_PER_YUAN).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
