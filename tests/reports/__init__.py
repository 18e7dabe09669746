"""Report engine tests. `settlement_context` builds a statement by hand (no app, no database);
benchmarks/reports.py uses it too."""
from datetime import UTC, date, datetime

KINDS = ["shipment", "payment", "return", "rebate", "adjustment"]
PREFIXES = {"shipment": "FH", "payment": "HK", "return": "TH", "rebate": "FL", "adjustment": "TZ"}
DESCRIPTIONS = [
    "华北区春季订货 发动机配件 {i} 批",
    "银行转账 回款 工行北京分行",
    "退货：包装破损 {i} 件",
    "季度返利兑现（政策 2026-Q3）",
    "价格调整：运费补差",
]


def settlement_context(lines=12, *, seed=1, account_name="北京恒通汽配贸易有限公司", **overrides):
    """A month of `lines` documents with exact running balances and totals (about 25 lines fill
    the first page). Amounts vary with `seed` so that no two figures repeat by accident."""
    opening = 1_234_567_89 * seed % 50_000_000_00 + 12_34
    balance = opening
    rows = []
    debit_total = credit_total = 0
    by_kind = {}
    for i in range(lines):
        kind = KINDS[i % len(KINDS)]
        amount = (i + 1) * 7_919_31 * seed % 9_000_000_00 + 1_01 + i
        debit = amount if kind in ("shipment", "adjustment") else 0
        credit = 0 if debit else amount
        balance += debit - credit
        debit_total += debit
        credit_total += credit
        by_kind[kind] = by_kind.get(kind, 0) + debit - credit
        day = 1 + i * 30 // max(lines, 1)
        rows.append({
            "date": date(2026, 10, day), "number": f"{PREFIXES[kind]}-2026-{i + 1:06d}",
            "kind": kind, "description": DESCRIPTIONS[i % len(DESCRIPTIONS)].format(i=i + 1),
            "debit_fen": debit, "credit_fen": credit, "balance_fen": balance,
        })
    context = {
        "company": {"name": "华夏动力机械股份有限公司", "address": "北京市朝阳区建国路 88 号",
                    "phone": "010-8888 6666"},
        "supplier": {"code": None, "name": "华夏动力机械股份有限公司"},
        "account": {"code": "GD-BJ01", "name": account_name, "kind": "distributor",
                    "region": "华北区"},
        "period": "2026-10", "period_start": date(2026, 10, 1), "period_end": date(2026, 10, 31),
        "opening_fen": opening, "closing_fen": balance,
        "debit_total_fen": debit_total, "credit_total_fen": credit_total,
        "lines": rows,
        "totals": [{"kind": k, "amount_fen": v} for k, v in by_kind.items()],
        "credit_limit_fen": 80_000_000_00, "available_credit_fen": 80_000_000_00 - balance,
        "overdue_fen": 123_456_78,
        "reconciliation": None,
        "generated_at": datetime(2026, 11, 1, 2, 0, 5, tzinfo=UTC),
        "reference": f"run-{seed:06d}",
    }
    context.update(overrides)
    return context
