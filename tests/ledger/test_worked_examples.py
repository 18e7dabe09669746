"""Worked examples: one distributor's books with the company, as an accounting textbook would
set them out, every figure worked by hand in the comments and then checked against the services.

The customer is 北京鑫源商贸有限公司 (GD-BJ01), a general distributor supplied by the company,
credit limit ¥800,000.00, payment terms 30 days. A positive balance is what GD-BJ01 owes.

Go-live was at the end of 2025: the balance taken over from the old system, ¥120,000.00 owed,
is posted as an opening balance (期初) on 31 December 2025 and December is closed, so that
January's statement opens with it.
"""
from datetime import date

from sqlalchemy import select

from channel.extensions import db
from channel.ledger import services
from channel.ledger.models import BalanceSnapshot

from . import LineInput, Month, account, close, post, product, reverse, user, yuan

DEC, JAN, FEB, MAR = Month(2025, 12), Month(2026, 1), Month(2026, 2), Month(2026, 3)


def lines(*items):
    """(product code, quantity, unit price as printed) -> the shipment's lines."""
    return [LineInput(product(code), qty, yuan(price)) for code, qty, price in items]


def january(bj01):
    """GD-BJ01's January, document by document. Returns the documents by their role."""
    # 2025-12-31  QC  opening balance taken over                 debit   120,000.00   bal 120,000.00
    post(kind="opening", account=bj01, on=date(2025, 12, 31), direction="debit",
         amount_fen=yuan("120000.00"), memo="系统上线期初余额 balance taken over")
    close(DEC, today=date(2026, 1, 2))
    docs = {}
    # 2026-01-06  FH-2026-000001 shipment
    #     清泉矿泉水 550ml×24  P-W550   500 箱 × ¥28.80 = ¥14,400.00
    #     茗香绿茶 500ml×15    P-GT500  200 箱 × ¥45.00 = ¥ 9,000.00
    #     可乐 330ml×24 罐     P-CL330  100 箱 × ¥52.80 = ¥ 5,280.00
    #                                                     ¥28,680.00   debit     bal 148,680.00
    docs["ship1"] = post(kind="shipment", account=bj01, on=date(2026, 1, 6), external_ref="ERP-SO-0106",
                         lines=lines(("P-W550", 500, "28.80"), ("P-GT500", 200, "45.00"),
                                     ("P-CL330", 100, "52.80")), memo="春节备货 stock for the New Year").document
    # 2026-01-12  HK-2026-000001 payment by bank acceptance bill (承兑汇票)
    #                                                    ¥100,000.00   credit    bal  48,680.00
    docs["bill"] = post(kind="payment", account=bj01, on=date(2026, 1, 12), amount_fen=yuan("100000.00"),
                        payment_method="acceptance_bill", bank_ref="CDHP 3130 0051 2026 0112").document
    # 2026-01-15  FH-2026-000002 shipment
    #     鲜橙多 450ml×15      P-OJ450  300 箱 × ¥48.00 = ¥14,400.00
    #     纯牛奶 250ml×24      P-MT250  150 箱 × ¥66.00 = ¥ 9,900.00
    #                                                     ¥24,300.00   debit     bal  72,980.00
    docs["ship2"] = post(kind="shipment", account=bj01, on=date(2026, 1, 15),
                         lines=lines(("P-OJ450", 300, "48.00"), ("P-MT250", 150, "66.00"))).document
    # 2026-01-20  TH-2026-000001 return: 20 cases of P-W550 crushed in transit
    #     P-W550  20 箱 × ¥28.80 =                          ¥576.00    credit    bal  72,404.00
    docs["return"] = post(kind="return", account=bj01, on=date(2026, 1, 20),
                          lines=lines(("P-W550", 20, "28.80")), memo="运输破损 damaged in transit").document
    # 2026-01-25  FL-2026-000001 rebate: the fourth quarter's policy payout (政策兑现)
    #                                                      ¥3,000.00   credit    bal  69,404.00
    docs["rebate"] = post(kind="rebate", account=bj01, on=date(2026, 1, 25), amount_fen=yuan("3000.00"),
                          memo="2025年第4季度返利 Q4 2025 rebate").document
    # 2026-01-28  TZ-2026-000001 adjustment: freight paid on the distributor's behalf (代垫运费)
    #                                                        ¥350.00   debit     bal  69,754.00
    docs["freight"] = post(kind="adjustment", account=bj01, on=date(2026, 1, 28), direction="debit",
                           amount_fen=yuan("350.00"), reason="代垫运费 freight paid on its behalf").document
    return docs


def test_a_distributors_january(app):
    with app.app_context():
        bj01 = account("GD-BJ01")
        docs = january(bj01)
        assert [d.number for d in docs.values()] == [
            "FH-2026-000001", "HK-2026-000001", "FH-2026-000002", "TH-2026-000001", "FL-2026-000001",
            "TZ-2026-000001"]
        assert docs["ship1"].amount_fen == yuan("28680.00")
        assert [ln.amount_fen for ln in docs["ship1"].lines] == [yuan("14400.00"), yuan("9000.00"), yuan("5280.00")]
        assert docs["ship2"].amount_fen == yuan("24300.00")
        assert docs["return"].amount_fen == yuan("576.00")
        assert docs["bill"].payment_method == "acceptance_bill"

        st = services.statement(bj01, JAN)
        # Opening: the ¥120,000.00 taken over on 31 December.
        assert st.opening_fen == yuan("120000.00")
        # Every line with its running balance, as worked out above.
        assert [(ln.number, ln.debit_fen, ln.credit_fen, ln.balance_fen) for ln in st.lines] == [
            ("FH-2026-000001", yuan("28680.00"), 0, yuan("148680.00")),
            ("HK-2026-000001", 0, yuan("100000.00"), yuan("48680.00")),
            ("FH-2026-000002", yuan("24300.00"), 0, yuan("72980.00")),
            ("TH-2026-000001", 0, yuan("576.00"), yuan("72404.00")),
            ("FL-2026-000001", 0, yuan("3000.00"), yuan("69404.00")),
            ("TZ-2026-000001", yuan("350.00"), 0, yuan("69754.00")),
        ]
        assert st.lines[0].description == "春节备货 stock for the New Year"
        # Totals by kind (net, signed):
        #   shipments   28,680.00 + 24,300.00 =  52,980.00
        #   payments                          = -100,000.00
        #   returns                           =     -576.00
        #   rebates                           =   -3,000.00
        #   adjustments                       =      350.00
        assert st.totals == {"opening": 0, "shipment": yuan("52980.00"), "payment": -yuan("100000.00"),
                             "return": -yuan("576.00"), "rebate": -yuan("3000.00"),
                             "adjustment": yuan("350.00")}
        # Debit column 28,680 + 24,300 + 350 = 53,330.00; credit column 100,000 + 576 + 3,000 = 103,576.00.
        assert (st.debit_total_fen, st.credit_total_fen) == (yuan("53330.00"), yuan("103576.00"))
        # Closing: 120,000.00 + 53,330.00 - 103,576.00 = 69,754.00.
        assert st.closing_fen == yuan("69754.00")
        assert services.balance_at(bj01, date(2026, 1, 31)) == yuan("69754.00")
        # In the middle of the month: after the bill, before the second shipment.
        assert services.balance_at(bj01, date(2026, 1, 14)) == yuan("48680.00")
        # Room left under the ¥800,000.00 limit: 800,000.00 - 69,754.00 = 730,246.00.
        assert bj01.credit_limit_fen - services.current_balance(bj01) == yuan("730246.00")


def test_month_close_and_february_opens_where_january_closed(app):
    with app.app_context():
        bj01 = account("GD-BJ01")
        docs = january(bj01)
        # Finance closes January on 2 February.
        close(JAN, today=date(2026, 2, 2))
        snap = db.session.get(BalanceSnapshot, (bj01.id, "2026-01"))
        # The snapshot holds the month's figures: debits 53,330.00, credits 103,576.00, closing 69,754.00.
        assert (snap.debit_fen, snap.credit_fen, snap.closing_fen) == (
            yuan("53330.00"), yuan("103576.00"), yuan("69754.00"))

        # February. On 3 February the ¥48.00 price on FH-2026-000002 turns out wrong: the agreed
        # price for GD-BJ01 was 5% lower. The January document is not touched: it is reversed
        # (红冲) in February, and the correct one posted.
        # 2026-02-03  FH-2026-000003 reversal of FH-2026-000002       credit  24,300.00  bal 45,454.00
        wrong = docs["ship2"]
        red = reverse(wrong, on=date(2026, 2, 3), reason="单价错误，应为协议价 wrong price", by=user("finance"))
        assert red.number == "FH-2026-000003" and red.reversal_of_id == wrong.id
        # 2026-02-03  FH-2026-000004 the shipment again at the agreed prices
        #     P-OJ450  300 箱 × ¥45.60 = ¥13,680.00
        #     P-MT250  150 箱 × ¥62.70 = ¥ 9,405.00
        #                                ¥23,085.00                    debit   23,085.00  bal 68,539.00
        right = post(kind="shipment", account=bj01, on=date(2026, 2, 3),
                     lines=lines(("P-OJ450", 300, "45.60"), ("P-MT250", 150, "62.70")),
                     memo="更正 FH-2026-000002 corrected").document
        assert right.number == "FH-2026-000004" and right.amount_fen == yuan("23085.00")
        # 2026-02-10  HK-2026-000002 bank transfer                   credit  50,000.00  bal 18,539.00
        post(kind="payment", account=bj01, on=date(2026, 2, 10), amount_fen=yuan("50000.00"),
             payment_method="bank_transfer", bank_ref="BT 2026021000012")

        feb = services.statement(bj01, FEB)
        # February opens with January's closing balance, ¥69,754.00.
        assert feb.opening_fen == services.statement(bj01, JAN).closing_fen == yuan("69754.00")
        assert [(ln.number, ln.debit_fen, ln.credit_fen, ln.balance_fen) for ln in feb.lines] == [
            ("FH-2026-000003", 0, yuan("24300.00"), yuan("45454.00")),
            ("FH-2026-000004", yuan("23085.00"), 0, yuan("68539.00")),
            ("HK-2026-000002", 0, yuan("50000.00"), yuan("18539.00")),
        ]
        # The reversal says what it reverses, and why.
        assert feb.lines[0].description == "↩ FH-2026-000002 单价错误，应为协议价 wrong price"
        # Shipments net: -24,300.00 + 23,085.00 = -1,215.00 (the 5% on the corrected lines).
        assert feb.totals["shipment"] == -yuan("1215.00")
        assert feb.totals["payment"] == -yuan("50000.00")
        # Closing: 69,754.00 + 23,085.00 - 74,300.00 = 18,539.00.
        assert (feb.debit_total_fen, feb.credit_total_fen) == (yuan("23085.00"), yuan("74300.00"))
        assert feb.closing_fen == yuan("18539.00") == services.current_balance(bj01)

        # January, closed, reads exactly as it did: the correction lives in February.
        jan = services.statement(bj01, JAN)
        assert jan.closing_fen == yuan("69754.00") and len(jan.lines) == 6
        # And nothing can be slipped into January any more.
        before = services.statement(bj01, JAN)
        try:
            post(kind="payment", account=bj01, on=date(2026, 1, 31), amount_fen=yuan("1.00"),
                 payment_method="cash")
        except services.LedgerError as err:
            assert err.code == "period_closed"
        else:
            raise AssertionError("a payment was posted into closed January")
        assert services.statement(bj01, JAN) == before


def test_ageing_first_in_first_out_on_a_concrete_history(app):
    with app.app_context():
        bj01 = account("GD-BJ01")
        docs = january(bj01)
        close(JAN, today=date(2026, 2, 2))
        reverse(docs["ship2"], on=date(2026, 2, 3), reason="单价错误 wrong price")
        post(kind="shipment", account=bj01, on=date(2026, 2, 3),
             lines=lines(("P-OJ450", 300, "45.60"), ("P-MT250", 150, "62.70")))      # 23,085.00

        # Ageing on 31 January (what the books said then; later documents are ignored).
        #   credits so far: 100,000.00 + 576.00 + 3,000.00           = 103,576.00
        #   paid first in, first out:
        #     2025-12-31 opening    120,000.00 - 103,576.00 = 16,424.00 left, 31 days  -> 31-60
        #     2026-01-06 shipment    28,680.00                unpaid,     25 days  -> 0-30
        #     2026-01-15 shipment    24,300.00                unpaid,     16 days  -> 0-30
        #     2026-01-28 freight        350.00                unpaid,      3 days  -> 0-30
        #   0-30: 28,680 + 24,300 + 350 = 53,330.00; 31-60: 16,424.00; total 69,754.00 = the balance.
        jan = services.ageing(bj01, date(2026, 1, 31))
        assert jan.labels == ("0-30", "31-60", "61-90", ">90")
        assert jan.buckets_fen == (yuan("53330.00"), yuan("16424.00"), 0, 0)
        assert jan.total_fen == yuan("69754.00") == services.balance_at(bj01, date(2026, 1, 31))
        assert jan.unapplied_credit_fen == 0
        # Overdue on 31 January with 30 days' terms: only the opening balance (31 days > 30).
        assert services.overdue(bj01, date(2026, 1, 31)) == yuan("16424.00")

        # Ageing on 5 February, after the reversal of FH-2026-000002 on 3 February.
        # The 红冲 cancels the shipment it reverses; it does not pay the oldest debt:
        #   credits that pay: 100,000.00 + 576.00 + 3,000.00          = 103,576.00
        #     2025-12-31 opening    120,000.00 - 103,576.00 = 16,424.00 left, 36 days  -> 31-60
        #     2026-01-06 shipment    28,680.00                unpaid,     30 days  -> 0-30
        #     2026-01-15 shipment    (reversed: out of the ageing, with its reversal)
        #     2026-01-28 freight        350.00                unpaid,      8 days  -> 0-30
        #     2026-02-03 shipment    23,085.00                unpaid,      2 days  -> 0-30
        #   0-30: 28,680 + 350 + 23,085 = 52,115.00; 31-60: 16,424.00; total 68,539.00.
        feb5 = services.ageing(bj01, date(2026, 2, 5))
        assert feb5.buckets_fen == (yuan("52115.00"), yuan("16424.00"), 0, 0)
        assert feb5.total_fen == yuan("68539.00") == services.balance_at(bj01, date(2026, 2, 5))
        # 30 days old is within 30 days' terms; 36 days is not.
        assert services.overdue(bj01, date(2026, 2, 5)) == yuan("16424.00")

        # 10 February: ¥50,000.00 by bank transfer; 20 March: another shipment of 1,000 × ¥28.80.
        post(kind="payment", account=bj01, on=date(2026, 2, 10), amount_fen=yuan("50000.00"),
             payment_method="bank_transfer")
        post(kind="shipment", account=bj01, on=date(2026, 3, 20), lines=lines(("P-W550", 1000, "28.80")))
        # Ageing on 31 March:
        #   credits that pay: 103,576.00 + 50,000.00                   = 153,576.00
        #     2025-12-31 opening    120,000.00  paid          (33,576.00 of credit left)
        #     2026-01-06 shipment    28,680.00  paid          ( 4,896.00 left)
        #     2026-01-28 freight        350.00  paid          ( 4,546.00 left)
        #     2026-02-03 shipment    23,085.00 - 4,546.00 = 18,539.00 left, 56 days -> 31-60
        #     2026-03-20 shipment    28,800.00                unpaid,     11 days -> 0-30
        #   total 47,339.00 = the balance: 18,539.00 after February + 28,800.00.
        mar = services.ageing(bj01, date(2026, 3, 31))
        assert mar.buckets_fen == (yuan("28800.00"), yuan("18539.00"), 0, 0)
        assert mar.total_fen == yuan("47339.00") == services.current_balance(bj01)
        assert services.overdue(bj01, date(2026, 3, 31)) == yuan("18539.00")
        # A month later the February shipment is 86 days old, the March one 41.
        apr = services.ageing(bj01, date(2026, 4, 30))
        assert apr.buckets_fen == (0, yuan("28800.00"), yuan("18539.00"), 0)
        assert services.overdue(bj01, date(2026, 4, 30)) == yuan("47339.00")


def test_the_distributor_keeps_its_own_dealers_books(app):
    """Tier two: GD-BJ01 supplies 朝阳区惠民便利店 (DL-BJ001). Its user dist.bj posts the dealer's
    documents; they are numbered in the same series but belong to GD-BJ01's ledger with
    DL-BJ001, not to the company's ledger with GD-BJ01."""
    with app.app_context():
        bj01, bj001 = account("GD-BJ01"), account("DL-BJ001")
        by = user("dist.bj")
        # 2026-01-08  shipment to the dealer: P-W550 40 箱 × ¥32.00 = ¥1,280.00   bal 1,280.00
        ship = post(kind="shipment", account=bj001, on=date(2026, 1, 8), by=by,
                    lines=lines(("P-W550", 40, "32.00"))).document
        # 2026-01-18  the dealer pays cash ¥1,000.00                              bal   280.00
        post(kind="payment", account=bj001, on=date(2026, 1, 18), by=by, amount_fen=yuan("1000.00"),
             payment_method="cash")
        # 2026-01-31  GD-BJ01 passes on the company's display fee: rebate ¥80.00   bal   200.00
        post(kind="rebate", account=bj001, on=date(2026, 1, 31), by=by, amount_fen=yuan("80.00"),
             memo="陈列费兑现 display fee passed on")
        assert ship.supplier_id == bj01.id
        st = services.statement(bj001, JAN)
        assert [ln.balance_fen for ln in st.lines] == [yuan("1280.00"), yuan("280.00"), yuan("200.00")]
        assert (st.opening_fen, st.closing_fen) == (0, yuan("200.00"))
        # The company's ledger with GD-BJ01 is untouched by its dealer's documents.
        assert services.current_balance(bj01) == 0
        assert db.session.execute(select(BalanceSnapshot)).first() is None
