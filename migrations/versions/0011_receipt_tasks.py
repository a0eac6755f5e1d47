"""evidence: media_tasks also carry the 送达回证 of a service record (issue 12, finding 2)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 12:30:00

Hand-written to match core/evidence/models.py (tests/integration/test_migrations.py checks).
A receipt task names its service record (record_id) instead of an evidence item, so the PDF is
made by the media worker after the signature's transaction has committed.
It follows 0010 (the complaint intake queue), on which nothing here depends.
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('media_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('record_id', sa.String(length=32), nullable=True))
        batch_op.alter_column('evidence_id', existing_type=sa.String(length=32), nullable=True)
        batch_op.create_foreign_key(batch_op.f('fk_media_tasks_record_id_records'), 'records',
                                    ['record_id'], ['id'])
        batch_op.create_unique_constraint('uq_media_tasks_record_kind', ['record_id', 'kind'])


def downgrade() -> None:
    op.execute("DELETE FROM media_tasks WHERE evidence_id IS NULL")
    with op.batch_alter_table('media_tasks', schema=None) as batch_op:
        batch_op.drop_constraint('uq_media_tasks_record_kind', type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_media_tasks_record_id_records'),
                                 type_='foreignkey')
        batch_op.alter_column('evidence_id', existing_type=sa.String(length=32), nullable=False)
        batch_op.drop_column('record_id')
