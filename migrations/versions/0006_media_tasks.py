"""evidence: media_tasks, the truth of the media work (thumbnails) done by the worker

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 09:30:00

Hand-written to match core/evidence/models.py (tests/integration/test_migrations.py checks).
Items recorded before this revision have no task; a media job run for one makes its task.
"""
from alembic import op
import sqlalchemy as sa
import core.platform.db


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('media_tasks',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('evidence_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_until', core.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('created_at', core.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], name=op.f('fk_media_tasks_evidence_id_evidence')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_media_tasks')),
    sa.UniqueConstraint('evidence_id', 'kind', name='uq_media_tasks_item_kind')
    )
    with op.batch_alter_table('media_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_media_tasks_due', ['status', 'lease_until'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('media_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_media_tasks_due')

    op.drop_table('media_tasks')
