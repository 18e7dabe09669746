"""ledger: documents, lines, append-only entries, periods, snapshots, counters

The database refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL) on ledger entries,
documents and their lines, and any ledger entry dated in a closed month.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 00:40:22.045681

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('document_counters',
    sa.Column('prefix', sa.String(length=4), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('prefix', 'year', name=op.f('pk_document_counters'))
    )
    op.create_table('balance_snapshots',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('closing_fen', sa.BigInteger(), nullable=False),
    sa.Column('debit_fen', sa.BigInteger(), nullable=False),
    sa.Column('credit_fen', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_balance_snapshots_account_id_accounts')),
    sa.PrimaryKeyConstraint('account_id', 'month', name=op.f('pk_balance_snapshots'))
    )
    with op.batch_alter_table('balance_snapshots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_balance_snapshots_month'), ['month'], unique=False)

    op.create_table('documents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('direction', sa.String(length=6), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=True),
    sa.Column('supplier_key', sa.Integer(), nullable=False),
    sa.Column('document_date', sa.Date(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('external_ref', sa.String(length=64), nullable=True),
    sa.Column('payment_method', sa.String(length=20), nullable=True),
    sa.Column('bank_ref', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('memo', sa.String(length=500), nullable=True),
    sa.Column('credit_override_reason', sa.String(length=500), nullable=True),
    sa.Column('reversal_of_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("direction IN ('debit', 'credit')", name=op.f('ck_documents_direction_known')),
    sa.CheckConstraint("kind <> 'adjustment' OR reason IS NOT NULL", name=op.f('ck_documents_adjustment_has_reason')),
    sa.CheckConstraint("kind <> 'payment' OR reversal_of_id IS NOT NULL OR payment_method IS NOT NULL", name=op.f('ck_documents_payment_has_method')),
    sa.CheckConstraint("kind IN ('shipment', 'payment', 'return', 'rebate', 'adjustment', 'opening')", name=op.f('ck_documents_kind_known')),
    sa.CheckConstraint("payment_method IS NULL OR payment_method IN ('bank_transfer', 'cash', 'acceptance_bill')", name=op.f('ck_documents_payment_method_known')),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_documents_amount_positive')),
    sa.CheckConstraint('reversal_of_id IS NULL OR reversal_of_id <> id', name=op.f('ck_documents_not_own_reversal')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_documents_account_id_accounts')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_documents_created_by_id_users')),
    sa.ForeignKeyConstraint(['reversal_of_id'], ['documents.id'], name=op.f('fk_documents_reversal_of_id_documents')),
    sa.ForeignKeyConstraint(['supplier_id'], ['accounts.id'], name=op.f('fk_documents_supplier_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents')),
    sa.UniqueConstraint('number', name=op.f('uq_documents_number')),
    sa.UniqueConstraint('reversal_of_id', name=op.f('uq_documents_reversal_of_id')),
    sa.UniqueConstraint('supplier_key', 'external_ref', name='uq_documents_supplier_external_ref')
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index('ix_documents_account_date', ['account_id', 'document_date'], unique=False)

    op.create_table('periods',
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('reopened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reopened_by_id', sa.Integer(), nullable=True),
    sa.Column('reopen_reason', sa.String(length=500), nullable=True),
    sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_periods_status_known')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_periods_closed_by_id_users')),
    sa.ForeignKeyConstraint(['reopened_by_id'], ['users.id'], name=op.f('fk_periods_reopened_by_id_users')),
    sa.PrimaryKeyConstraint('month', name=op.f('pk_periods'))
    )
    op.create_table('document_lines',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price_fen', sa.BigInteger(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('amount_fen = quantity * unit_price_fen', name=op.f('ck_document_lines_amount_is_quantity_times_price')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_document_lines_quantity_positive')),
    sa.CheckConstraint('unit_price_fen >= 0', name=op.f('ck_document_lines_price_not_negative')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_document_lines_document_id_documents')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_document_lines_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_lines')),
    sa.UniqueConstraint('document_id', 'line_no', name='uq_document_lines_document_line_no')
    )
    with op.batch_alter_table('document_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_lines_document_id'), ['document_id'], unique=False)

    op.create_table('ledger_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('entry_date', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('posted_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('amount_fen <> 0', name=op.f('ck_ledger_entries_amount_not_zero')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_ledger_entries_account_id_accounts')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_ledger_entries_document_id_documents')),
    sa.ForeignKeyConstraint(['posted_by_id'], ['users.id'], name=op.f('fk_ledger_entries_posted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entries')),
    sa.UniqueConstraint('document_id', name=op.f('uq_ledger_entries_document_id'))
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_entries_account_date', ['account_id', 'entry_date', 'id', 'amount_fen'], unique=False)
        batch_op.create_index('ix_ledger_entries_date', ['entry_date'], unique=False)

    create_triggers()


def downgrade():
    drop_triggers()
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_entries_date')
        batch_op.drop_index('ix_ledger_entries_account_date')

    op.drop_table('ledger_entries')
    with op.batch_alter_table('document_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_lines_document_id'))

    op.drop_table('document_lines')
    op.drop_table('periods')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index('ix_documents_account_date')

    op.drop_table('documents')
    with op.batch_alter_table('balance_snapshots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_balance_snapshots_month'))

    op.drop_table('balance_snapshots')
    op.drop_table('document_counters')


IMMUTABLE = ("ledger_entries", "documents", "document_lines")


def _sqlite_triggers():
    for table in IMMUTABLE:
        for event in ("UPDATE", "DELETE"):
            yield (f"{table}_no_{event.lower()}",
                   f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                   f"BEGIN SELECT RAISE(ABORT, '{table} rows are append-only'); END")
    yield ("ledger_entries_open_period", """
        CREATE TRIGGER ledger_entries_open_period BEFORE INSERT ON ledger_entries
        WHEN EXISTS (SELECT 1 FROM periods WHERE month = substr(NEW.entry_date, 1, 7) AND status = 'closed')
        BEGIN SELECT RAISE(ABORT, 'the month of this entry is closed'); END""")


POSTGRES_SQL = """
CREATE FUNCTION entry_in_open_period() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM periods WHERE month = to_char(NEW.entry_date, 'YYYY-MM') AND status = 'closed') THEN
    RAISE EXCEPTION 'the month of this entry is closed' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER ledger_entries_open_period BEFORE INSERT ON ledger_entries
  FOR EACH ROW EXECUTE FUNCTION entry_in_open_period();
""" + "".join(
    f"CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t} "
    f"FOR EACH ROW EXECUTE FUNCTION refuse_change();\n"
    f"CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t} "
    f"FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();\n"
    for t in IMMUTABLE
)


def create_triggers():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_SQL)
    else:
        for _, sql in _sqlite_triggers():
            op.execute(sql)


def drop_triggers():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER ledger_entries_open_period ON ledger_entries;"
                   "DROP FUNCTION entry_in_open_period();"
                   + "".join(f"DROP TRIGGER {t}_append_only ON {t}; DROP TRIGGER {t}_no_truncate ON {t};"
                             for t in IMMUTABLE))
    else:
        for name, _ in _sqlite_triggers():
            op.execute(f"DROP TRIGGER {name}")
