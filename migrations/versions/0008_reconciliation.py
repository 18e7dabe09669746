"""reconciliation: monthly statements confirmed or disputed, and the policy pass-through links

Documents gain for_account_id (a company rebate meant for a distributor's dealer) and
passes_on_id (the distributor's rebate passing it on). Triggers on SQLite and PostgreSQL:
- a reconciliation is of a closed month; a confirmed one is never changed; none is deleted;
- no ledger entry goes into a month an account has confirmed (even if the month is reopened);
- versions, events, corrections and hold releases are append-only; an answered dispute line
  is never changed again;
- a payout for a dealer is a company rebate to that dealer's distributor; a pass-on is that
  distributor's rebate to that dealer, of such a payout.

Revision ID: 0008_reconciliation
Revises: 0007_notifications
Create Date: 2026-11-25 05:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0008_reconciliation'
down_revision = '0007_notifications'
branch_labels = None
depends_on = None

STATUSES = "('issued', 'disputed', 'confirmed')"
EVENT_KINDS = "('issued', 'reissued', 'confirmed', 'disputed', 'explained', 'corrected', 'hold_released')"
APPEND_ONLY = ("reconciliation_versions", "reconciliation_events", "dispute_corrections",
               "reconciliation_hold_releases")


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.add_column('documents', sa.Column('for_account_id', sa.Integer(), nullable=True))
        op.add_column('documents', sa.Column('passes_on_id', sa.BigInteger(), nullable=True))
        op.create_foreign_key(op.f('fk_documents_for_account_id_accounts'), 'documents', 'accounts',
                              ['for_account_id'], ['id'])
        op.create_foreign_key(op.f('fk_documents_passes_on_id_documents'), 'documents', 'documents',
                              ['passes_on_id'], ['id'])
    else:
        # In place: a batch copy of the table would drop the documents triggers of 0002.
        op.execute("ALTER TABLE documents ADD COLUMN for_account_id INTEGER "
                   "CONSTRAINT fk_documents_for_account_id_accounts REFERENCES accounts (id)")
        op.execute("ALTER TABLE documents ADD COLUMN passes_on_id INTEGER "
                   "CONSTRAINT fk_documents_passes_on_id_documents REFERENCES documents (id)")
    op.create_index(op.f('ix_documents_for_account_id'), 'documents', ['for_account_id'])
    op.create_index(op.f('ix_documents_passes_on_id'), 'documents', ['passes_on_id'])
    if postgres:
        op.create_check_constraint(
            op.f('ck_documents_policy_links_on_rebates'), 'documents',
            "kind = 'rebate' OR (for_account_id IS NULL AND passes_on_id IS NULL)")

    op.create_table('reconciliations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=True),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('opening_fen', sa.BigInteger(), nullable=False),
    sa.Column('closing_fen', sa.BigInteger(), nullable=False),
    sa.Column('agreed_fen', sa.BigInteger(), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_by_name', sa.String(length=100), nullable=True),
    sa.Column('confirmed_ip', sa.String(length=64), nullable=True),
    sa.Column('confirmed_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint(f"status IN {STATUSES}", name=op.f('ck_reconciliations_status_known')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_reconciliations_version_positive')),
    sa.CheckConstraint("status <> 'confirmed' OR (confirmed_at IS NOT NULL AND confirmed_hash = content_hash)",
                       name=op.f('ck_reconciliations_confirmed_names_content')),
    sa.CheckConstraint('due_on >= issued_on', name=op.f('ck_reconciliations_due_after_issue')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_reconciliations_account_id_accounts')),
    sa.ForeignKeyConstraint(['supplier_id'], ['accounts.id'], name=op.f('fk_reconciliations_supplier_id_accounts')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_reconciliations_issued_by_id_users')),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_reconciliations_confirmed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliations')),
    sa.UniqueConstraint('account_id', 'month', name='uq_reconciliations_account_month'),
    )
    op.create_index('ix_reconciliations_month_status', 'reconciliations', ['month', 'status'])
    op.create_index(op.f('ix_reconciliations_supplier_id'), 'reconciliations', ['supplier_id'])

    big = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
    op.create_table('reconciliation_versions',
    sa.Column('id', big, nullable=False),
    sa.Column('reconciliation_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('closing_fen', sa.BigInteger(), nullable=False),
    sa.Column('agreed_fen', sa.BigInteger(), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['reconciliation_id'], ['reconciliations.id'],
                            name=op.f('fk_reconciliation_versions_reconciliation_id_reconciliations')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_reconciliation_versions_issued_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_versions')),
    sa.UniqueConstraint('reconciliation_id', 'version', name='uq_reconciliation_versions'),
    )
    op.create_table('dispute_items',
    sa.Column('id', big, nullable=False),
    sa.Column('reconciliation_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('document_id', big, nullable=True),
    sa.Column('missing_date', sa.Date(), nullable=True),
    sa.Column('missing_amount_fen', sa.BigInteger(), nullable=True),
    sa.Column('missing_ref', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('attachment_sha256', sa.String(length=64), nullable=True),
    sa.Column('attachment_name', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('raised_by_id', sa.Integer(), nullable=True),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('open', 'explained', 'corrected')", name=op.f('ck_dispute_items_status_known')),
    sa.CheckConstraint("status = 'open' OR (answer IS NOT NULL AND answered_at IS NOT NULL)",
                       name=op.f('ck_dispute_items_answered_has_answer')),
    sa.CheckConstraint('missing_amount_fen IS NULL OR missing_amount_fen > 0',
                       name=op.f('ck_dispute_items_missing_amount_positive')),
    sa.ForeignKeyConstraint(['reconciliation_id'], ['reconciliations.id'],
                            name=op.f('fk_dispute_items_reconciliation_id_reconciliations')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_dispute_items_document_id_documents')),
    sa.ForeignKeyConstraint(['attachment_sha256'], ['stored_files.sha256'],
                            name=op.f('fk_dispute_items_attachment_sha256_stored_files')),
    sa.ForeignKeyConstraint(['raised_by_id'], ['users.id'], name=op.f('fk_dispute_items_raised_by_id_users')),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name=op.f('fk_dispute_items_answered_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispute_items')),
    )
    op.create_index(op.f('ix_dispute_items_reconciliation_id'), 'dispute_items', ['reconciliation_id'])
    op.create_index('uq_dispute_items_open_document', 'dispute_items', ['reconciliation_id', 'document_id'],
                    unique=True, sqlite_where=sa.text("status = 'open' AND document_id IS NOT NULL"),
                    postgresql_where=sa.text("status = 'open' AND document_id IS NOT NULL"))
    op.create_table('dispute_corrections',
    sa.Column('id', big, nullable=False),
    sa.Column('item_id', big, nullable=False),
    sa.Column('document_id', big, nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['dispute_items.id'], name=op.f('fk_dispute_corrections_item_id_dispute_items')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_dispute_corrections_document_id_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispute_corrections')),
    sa.UniqueConstraint('document_id', name=op.f('uq_dispute_corrections_document_id')),
    )
    op.create_index(op.f('ix_dispute_corrections_item_id'), 'dispute_corrections', ['item_id'])
    op.create_table('reconciliation_events',
    sa.Column('id', big, nullable=False),
    sa.Column('reconciliation_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('item_id', big, nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author_name', sa.String(length=100), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint(f"kind IN {EVENT_KINDS}", name=op.f('ck_reconciliation_events_kind_known')),
    sa.ForeignKeyConstraint(['reconciliation_id'], ['reconciliations.id'],
                            name=op.f('fk_reconciliation_events_reconciliation_id_reconciliations')),
    sa.ForeignKeyConstraint(['item_id'], ['dispute_items.id'], name=op.f('fk_reconciliation_events_item_id_dispute_items')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_reconciliation_events_author_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_events')),
    )
    op.create_index(op.f('ix_reconciliation_events_reconciliation_id'), 'reconciliation_events', ['reconciliation_id'])
    op.create_table('reconciliation_hold_releases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reconciliation_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('released_by_id', sa.Integer(), nullable=True),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['reconciliation_id'], ['reconciliations.id'],
                            name=op.f('fk_reconciliation_hold_releases_reconciliation_id_reconciliations')),
    sa.ForeignKeyConstraint(['released_by_id'], ['users.id'], name=op.f('fk_reconciliation_hold_releases_released_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_hold_releases')),
    sa.UniqueConstraint('reconciliation_id', 'version', name='uq_hold_releases_version'),
    )
    if postgres:
        op.execute(POSTGRES_SQL)
    else:
        for _, sql in _sqlite_triggers():
            op.execute(sql)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_DROP)
    else:
        for name, _ in _sqlite_triggers():
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table('reconciliation_hold_releases')
    op.drop_index(op.f('ix_reconciliation_events_reconciliation_id'), 'reconciliation_events')
    op.drop_table('reconciliation_events')
    op.drop_index(op.f('ix_dispute_corrections_item_id'), 'dispute_corrections')
    op.drop_table('dispute_corrections')
    op.drop_index('uq_dispute_items_open_document', 'dispute_items')
    op.drop_index(op.f('ix_dispute_items_reconciliation_id'), 'dispute_items')
    op.drop_table('dispute_items')
    op.drop_table('reconciliation_versions')
    op.drop_index(op.f('ix_reconciliations_supplier_id'), 'reconciliations')
    op.drop_index('ix_reconciliations_month_status', 'reconciliations')
    op.drop_table('reconciliations')
    op.drop_index(op.f('ix_documents_passes_on_id'), 'documents')
    op.drop_index(op.f('ix_documents_for_account_id'), 'documents')
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f('ck_documents_policy_links_on_rebates'), 'documents', type_='check')
        op.drop_column('documents', 'passes_on_id')
        op.drop_column('documents', 'for_account_id')
    else:
        # SQLite drops a column in place (3.35+) when nothing refers to it; the documents
        # triggers of 0002 stay as they are (a batch copy of the table would drop them).
        op.execute("ALTER TABLE documents DROP COLUMN passes_on_id")
        op.execute("ALTER TABLE documents DROP COLUMN for_account_id")


# The rules, in SQL shared by both engines where it can be.
POLICY_LINK_FAULT = """(
    (NEW.for_account_id IS NOT NULL AND (NEW.kind <> 'rebate' OR NEW.supplier_key <> 0 OR NOT EXISTS (
        SELECT 1 FROM accounts a WHERE a.id = NEW.for_account_id AND a.supplier_id = NEW.account_id)))
    OR (NEW.passes_on_id IS NOT NULL AND (NEW.kind <> 'rebate' OR NOT EXISTS (
        SELECT 1 FROM documents p WHERE p.id = NEW.passes_on_id AND p.account_id = NEW.supplier_id
        AND p.for_account_id = NEW.account_id)))
)"""


def _month_closed(month_sql):
    return f"EXISTS (SELECT 1 FROM periods WHERE month = {month_sql} AND status = 'closed')"


def _sqlite_triggers():
    yield ("documents_policy_links", f"""
        CREATE TRIGGER documents_policy_links BEFORE INSERT ON documents WHEN {POLICY_LINK_FAULT}
        BEGIN SELECT RAISE(ABORT, 'a policy payout goes to the dealer''s distributor, a pass-on to that dealer'); END""")
    yield ("ledger_entries_confirmed_month", """
        CREATE TRIGGER ledger_entries_confirmed_month BEFORE INSERT ON ledger_entries
        WHEN EXISTS (SELECT 1 FROM reconciliations WHERE account_id = NEW.account_id
                     AND month = substr(NEW.entry_date, 1, 7) AND status = 'confirmed')
        BEGIN SELECT RAISE(ABORT, 'the account has confirmed this month'); END""")
    yield ("reconciliations_closed_month", f"""
        CREATE TRIGGER reconciliations_closed_month BEFORE INSERT ON reconciliations
        WHEN NOT {_month_closed('NEW.month')}
        BEGIN SELECT RAISE(ABORT, 'only a closed month is reconciled'); END""")
    yield ("reconciliations_frozen", """
        CREATE TRIGGER reconciliations_frozen BEFORE UPDATE ON reconciliations
        WHEN OLD.status = 'confirmed' OR NEW.account_id <> OLD.account_id OR NEW.month <> OLD.month
        BEGIN SELECT RAISE(ABORT, 'a confirmed reconciliation is frozen'); END""")
    yield ("reconciliations_confirm_closed", f"""
        CREATE TRIGGER reconciliations_confirm_closed BEFORE UPDATE ON reconciliations
        WHEN NEW.status = 'confirmed' AND NOT {_month_closed('NEW.month')}
        BEGIN SELECT RAISE(ABORT, 'only a closed month is confirmed'); END""")
    yield ("reconciliations_no_delete", """
        CREATE TRIGGER reconciliations_no_delete BEFORE DELETE ON reconciliations
        BEGIN SELECT RAISE(ABORT, 'reconciliations are kept'); END""")
    yield ("dispute_items_answered_kept", """
        CREATE TRIGGER dispute_items_answered_kept BEFORE UPDATE ON dispute_items
        WHEN OLD.status <> 'open' OR NEW.reconciliation_id <> OLD.reconciliation_id
        BEGIN SELECT RAISE(ABORT, 'an answered dispute line is kept as it is'); END""")
    yield ("dispute_items_no_delete", """
        CREATE TRIGGER dispute_items_no_delete BEFORE DELETE ON dispute_items
        BEGIN SELECT RAISE(ABORT, 'dispute lines are kept'); END""")
    for table in APPEND_ONLY:
        for event in ("UPDATE", "DELETE"):
            yield (f"{table}_no_{event.lower()}",
                   f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                   f"BEGIN SELECT RAISE(ABORT, '{table} rows are append-only'); END")


POSTGRES_SQL = f"""
CREATE FUNCTION documents_policy_links() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF {POLICY_LINK_FAULT} THEN
    RAISE EXCEPTION 'a policy payout goes to the dealer''s distributor, a pass-on to that dealer'
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER documents_policy_links BEFORE INSERT ON documents
  FOR EACH ROW EXECUTE FUNCTION documents_policy_links();

CREATE FUNCTION entry_not_in_confirmed_month() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM reconciliations WHERE account_id = NEW.account_id
             AND month = to_char(NEW.entry_date, 'YYYY-MM') AND status = 'confirmed') THEN
    RAISE EXCEPTION 'the account has confirmed this month' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER ledger_entries_confirmed_month BEFORE INSERT ON ledger_entries
  FOR EACH ROW EXECUTE FUNCTION entry_not_in_confirmed_month();

CREATE FUNCTION reconciliation_rules() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'reconciliations are kept' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF TG_OP = 'UPDATE' AND (OLD.status = 'confirmed' OR NEW.account_id <> OLD.account_id
                           OR NEW.month <> OLD.month) THEN
    RAISE EXCEPTION 'a confirmed reconciliation is frozen' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF (TG_OP = 'INSERT' OR NEW.status = 'confirmed') AND NOT {_month_closed('NEW.month')} THEN
    RAISE EXCEPTION 'only a closed month is reconciled' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER reconciliations_rules BEFORE INSERT OR UPDATE OR DELETE ON reconciliations
  FOR EACH ROW EXECUTE FUNCTION reconciliation_rules();

CREATE FUNCTION dispute_item_rules() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' OR OLD.status <> 'open' OR NEW.reconciliation_id <> OLD.reconciliation_id THEN
    RAISE EXCEPTION 'an answered dispute line is kept as it is' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER dispute_items_rules BEFORE UPDATE OR DELETE ON dispute_items
  FOR EACH ROW EXECUTE FUNCTION dispute_item_rules();
""" + "".join(
    f"CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t} "
    f"FOR EACH ROW EXECUTE FUNCTION refuse_change();\n"
    for t in APPEND_ONLY
) + "".join(
    f"CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t} "
    f"FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();\n"
    for t in APPEND_ONLY + ("reconciliations", "dispute_items")
)

POSTGRES_DROP = """
DROP TRIGGER documents_policy_links ON documents; DROP FUNCTION documents_policy_links();
DROP TRIGGER ledger_entries_confirmed_month ON ledger_entries; DROP FUNCTION entry_not_in_confirmed_month();
DROP TRIGGER reconciliations_rules ON reconciliations; DROP FUNCTION reconciliation_rules();
DROP TRIGGER dispute_items_rules ON dispute_items; DROP FUNCTION dispute_item_rules();
""" + "".join(f"DROP TRIGGER {t}_append_only ON {t};" for t in APPEND_ONLY) + "".join(
    f"DROP TRIGGER {t}_no_truncate ON {t};" for t in APPEND_ONLY + ("reconciliations", "dispute_items")
)
