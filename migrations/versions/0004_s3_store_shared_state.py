"""several processes: upload-session write leases, database dialog state (kv_entries)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 10:00:00

Hand-written to match core/evidence/models.py (UploadSession.writer, writer_until) and
core/platform/keyvalue.py (tests/integration/test_migrations.py checks).
"""
from alembic import op
import sqlalchemy as sa
import core.platform.db


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('upload_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('writer', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('writer_until',
                                      core.platform.db.UTCDateTime(timezone=True),
                                      nullable=True))
    op.create_table('kv_entries',
    sa.Column('namespace', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_at', core.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('namespace', 'key', name=op.f('pk_kv_entries'))
    )


def downgrade() -> None:
    op.drop_table('kv_entries')
    with op.batch_alter_table('upload_sessions', schema=None) as batch_op:
        batch_op.drop_column('writer_until')
        batch_op.drop_column('writer')
