"""files: uploaded attachments (stored_files, content-addressed by sha256)

Stored files are never updated or deleted: triggers on SQLite and PostgreSQL, like report_files.

Revision ID: 0006_files
Revises: 0005
Create Date: 2026-12-01 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_files'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stored_files',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('mime', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("mime IN ('application/pdf', 'image/jpeg', 'image/png')", name=op.f('ck_stored_files_mime_allowed')),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_stored_files'))
    )
    create_triggers()


def downgrade():
    drop_triggers()
    op.drop_table('stored_files')


REFUSE = "SELECT RAISE(ABORT, 'stored_files rows are append-only');"


def _sqlite_triggers():
    yield ("stored_files_no_update",
           f"CREATE TRIGGER stored_files_no_update BEFORE UPDATE ON stored_files BEGIN {REFUSE} END")
    yield ("stored_files_no_delete",
           f"CREATE TRIGGER stored_files_no_delete BEFORE DELETE ON stored_files BEGIN {REFUSE} END")


# refuse_change() is the function 0001_foundation made for the audit log.
POSTGRES_SQL = """
CREATE TRIGGER stored_files_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON stored_files
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
"""


def create_triggers():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_SQL)
    else:
        for _, sql in _sqlite_triggers():
            op.execute(sql)


def drop_triggers():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER stored_files_append_only ON stored_files;")
    else:
        for name, _ in _sqlite_triggers():
            op.execute(f"DROP TRIGGER {name}")
