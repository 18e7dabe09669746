"""foundation: users, regions, accounts, products, audit, settings

The database itself keeps the rules that matter: the audit log is append-only, and a
dealer's supplier is always a general distributor (triggers on SQLite and PostgreSQL).

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 23:55:18.530468

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('login_attempts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('success', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts'))
    )
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_login_attempts_address_at', ['address', 'at'], unique=False)
        batch_op.create_index('ix_login_attempts_username_at', ['username', 'at'], unique=False)

    op.create_table('products',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('list_price_fen', sa.BigInteger(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('list_price_fen >= 0', name=op.f('ck_products_price_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_products')),
    sa.UniqueConstraint('code', name=op.f('uq_products_code'))
    )
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_products_name'), ['name'], unique=False)

    op.create_table('regions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('parent_id IS NULL OR parent_id <> id', name=op.f('ck_regions_not_own_parent')),
    sa.ForeignKeyConstraint(['parent_id'], ['regions.id'], name=op.f('fk_regions_parent_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_regions')),
    sa.UniqueConstraint('code', name=op.f('uq_regions_code'))
    )
    op.create_table('scheduler_heartbeats',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('host', sa.String(length=200), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('beat_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_heartbeats'))
    )
    op.create_table('settings',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_settings'))
    )
    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=True),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('contact_name', sa.String(length=100), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('credit_limit_fen', sa.BigInteger(), nullable=False),
    sa.Column('payment_terms_days', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind = 'dealer' OR supplier_id IS NULL", name=op.f('ck_accounts_distributor_buys_from_company')),
    sa.CheckConstraint("kind IN ('distributor', 'dealer')", name=op.f('ck_accounts_kind_known')),
    sa.CheckConstraint("status IN ('active', 'suspended')", name=op.f('ck_accounts_status_known')),
    sa.CheckConstraint('credit_limit_fen >= 0', name=op.f('ck_accounts_credit_limit_not_negative')),
    sa.CheckConstraint('payment_terms_days >= 0 AND payment_terms_days <= 365', name=op.f('ck_accounts_terms_range')),
    sa.CheckConstraint('supplier_id IS NULL OR supplier_id <> id', name=op.f('ck_accounts_not_own_supplier')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_accounts_region_id_regions')),
    sa.ForeignKeyConstraint(['supplier_id'], ['accounts.id'], name=op.f('fk_accounts_supplier_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('code', name=op.f('uq_accounts_code'))
    )
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accounts_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_accounts_region_id'), ['region_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_accounts_supplier_id'), ['supplier_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('full_name', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('field_kind', sa.String(length=20), nullable=True),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=True),
    sa.Column('session_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("field_kind IS NULL OR field_kind IN ('rep', 'merchandiser', 'promoter')", name=op.f('ck_users_field_kind_known')),
    sa.CheckConstraint("role <> 'distributor' OR account_id IS NOT NULL", name=op.f('ck_users_distributor_bound')),
    sa.CheckConstraint("role <> 'field_staff' OR (region_id IS NOT NULL AND field_kind IS NOT NULL)", name=op.f('ck_users_field_staff_has_region')),
    sa.CheckConstraint("role = 'distributor' OR account_id IS NULL", name=op.f('ck_users_only_distributor_bound')),
    sa.CheckConstraint("role IN ('admin', 'finance', 'supervisor', 'field_staff', 'distributor')", name=op.f('ck_users_role_known')),
    sa.CheckConstraint('username = lower(username)', name=op.f('ck_users_username_lower')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_users_account_id_accounts')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_users_region_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('session_token', name=op.f('uq_users_session_token')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('audit_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('object_id', sa.String(length=64), nullable=True),
    sa.Column('object_label', sa.String(length=200), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_entries_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entries_at', ['at'], unique=False)
        batch_op.create_index('ix_audit_entries_object', ['object_type', 'object_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_user_id'), ['user_id'], unique=False)

    op.create_table('supervisor_regions',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_supervisor_regions_region_id_regions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_supervisor_regions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'region_id', name=op.f('pk_supervisor_regions'))
    )

    create_triggers()


def downgrade():
    drop_triggers()

    op.drop_table('supervisor_regions')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entries_user_id'))
        batch_op.drop_index('ix_audit_entries_object')
        batch_op.drop_index('ix_audit_entries_at')

    op.drop_table('audit_entries')
    op.drop_table('users')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounts_supplier_id'))
        batch_op.drop_index(batch_op.f('ix_accounts_region_id'))
        batch_op.drop_index(batch_op.f('ix_accounts_name'))

    op.drop_table('accounts')
    op.drop_table('settings')
    op.drop_table('scheduler_heartbeats')
    op.drop_table('regions')
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_products_name'))

    op.drop_table('products')
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempts_username_at')
        batch_op.drop_index('ix_login_attempts_address_at')

    op.drop_table('login_attempts')



SQLITE_TRIGGERS = [
    ("audit_entries_append_only_u", """
     CREATE TRIGGER audit_entries_append_only_u BEFORE UPDATE ON audit_entries
     BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END"""),
    ("audit_entries_append_only_d", """
     CREATE TRIGGER audit_entries_append_only_d BEFORE DELETE ON audit_entries
     BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END"""),
    ("accounts_supplier_kind_i", """
     CREATE TRIGGER accounts_supplier_kind_i BEFORE INSERT ON accounts
     WHEN NEW.supplier_id IS NOT NULL
      AND (SELECT kind FROM accounts WHERE id = NEW.supplier_id) IS NOT 'distributor'
     BEGIN SELECT RAISE(ABORT, 'the supplier must be a general distributor'); END"""),
    ("accounts_supplier_kind_u", """
     CREATE TRIGGER accounts_supplier_kind_u BEFORE UPDATE OF supplier_id, kind ON accounts
     WHEN (NEW.supplier_id IS NOT NULL
           AND (SELECT kind FROM accounts WHERE id = NEW.supplier_id) IS NOT 'distributor')
       OR (NEW.kind <> 'distributor' AND EXISTS (SELECT 1 FROM accounts WHERE supplier_id = NEW.id))
     BEGIN SELECT RAISE(ABORT, 'the supplier must be a general distributor'); END"""),
    ("users_account_kind", """
     CREATE TRIGGER users_account_kind BEFORE INSERT ON users
     WHEN NEW.account_id IS NOT NULL
      AND (SELECT kind FROM accounts WHERE id = NEW.account_id) IS NOT 'distributor'
     BEGIN SELECT RAISE(ABORT, 'a distributor user belongs to a general distributor'); END"""),
    ("users_account_kind_u", """
     CREATE TRIGGER users_account_kind_u BEFORE UPDATE OF account_id ON users
     WHEN NEW.account_id IS NOT NULL
      AND (SELECT kind FROM accounts WHERE id = NEW.account_id) IS NOT 'distributor'
     BEGIN SELECT RAISE(ABORT, 'a distributor user belongs to a general distributor'); END"""),
]

POSTGRES_SQL = """
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% rows are append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
  FOR EACH ROW EXECUTE FUNCTION refuse_change();

CREATE FUNCTION accounts_supplier_kind() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.supplier_id IS NOT NULL
     AND (SELECT kind FROM accounts WHERE id = NEW.supplier_id) IS DISTINCT FROM 'distributor' THEN
    RAISE EXCEPTION 'the supplier must be a general distributor' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF TG_OP = 'UPDATE' AND NEW.kind <> 'distributor'
     AND EXISTS (SELECT 1 FROM accounts WHERE supplier_id = NEW.id) THEN
    RAISE EXCEPTION 'a distributor that supplies dealers stays a distributor' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER accounts_supplier_kind BEFORE INSERT OR UPDATE OF supplier_id, kind ON accounts
  FOR EACH ROW EXECUTE FUNCTION accounts_supplier_kind();

CREATE FUNCTION users_account_kind() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.account_id IS NOT NULL
     AND (SELECT kind FROM accounts WHERE id = NEW.account_id) IS DISTINCT FROM 'distributor' THEN
    RAISE EXCEPTION 'a distributor user belongs to a general distributor' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER users_account_kind BEFORE INSERT OR UPDATE OF account_id ON users
  FOR EACH ROW EXECUTE FUNCTION users_account_kind();
"""


def create_triggers():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_SQL)
    else:
        for _, sql in SQLITE_TRIGGERS:
            op.execute(sql)


def drop_triggers():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_entries_append_only ON audit_entries;"
                   "DROP TRIGGER accounts_supplier_kind ON accounts;"
                   "DROP TRIGGER users_account_kind ON users;"
                   "DROP FUNCTION refuse_change(); DROP FUNCTION accounts_supplier_kind();"
                   "DROP FUNCTION users_account_kind();")
    else:
        for name, _ in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
