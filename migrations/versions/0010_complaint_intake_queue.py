"""complaint intake queue

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 12:40:00.000000
"""
from alembic import op
import sqlalchemy as sa
import core.platform.db


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Issue 12, finding 5: public complaints wait here until a supervisor accepts or rejects
    # them; rows are never deleted.
    op.create_table('complaint_intakes',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('department_id', sa.String(length=32), nullable=False),
    sa.Column('tracking_no', sa.String(length=32), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('received_at', core.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('contact', sa.String(length=200), nullable=False),
    sa.Column('contact_channel', sa.String(length=16), nullable=False),
    sa.Column('contact_to', sa.String(length=200), nullable=False),
    sa.Column('contact_confirmed_at', core.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('confirm_hash', sa.String(length=64), nullable=True),
    sa.Column('confirm_expires_at', core.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('telegram_user_id', sa.BigInteger(), nullable=True),
    sa.Column('lang', sa.String(length=8), nullable=False),
    sa.Column('decided_at', core.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=32), nullable=True),
    sa.Column('reject_kind', sa.String(length=16), nullable=True),
    sa.Column('reject_reason', sa.Text(), nullable=True),
    sa.Column('case_id', sa.String(length=32), nullable=True),
    sa.Column('created_at', core.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_complaint_intakes_case_id_cases')),
    sa.ForeignKeyConstraint(['decided_by'], ['officers.id'], name=op.f('fk_complaint_intakes_decided_by_officers')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_complaint_intakes_department_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_intakes')),
    sa.UniqueConstraint('tracking_no', name=op.f('uq_complaint_intakes_tracking_no'))
    )
    with op.batch_alter_table('complaint_intakes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_intakes_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_intakes_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_intakes_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('complaint_intakes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_intakes_status'))
        batch_op.drop_index(batch_op.f('ix_complaint_intakes_department_id'))
        batch_op.drop_index(batch_op.f('ix_complaint_intakes_case_id'))
    op.drop_table('complaint_intakes')
