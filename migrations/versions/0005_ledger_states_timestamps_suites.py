"""ledger: state events of mutable tables, RFC 3161 timestamps, algorithm suites

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 09:00:00

Hand-written to match core/ledger/models.py (tests/integration/test_migrations.py checks).
Databases upgraded from 0004 keep their people and deadlines off the ledger until
`flask ledger adopt` ledgers their present state once.
"""
from alembic import op
import sqlalchemy as sa
import core.platform.db


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ledger_states',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('table_name', sa.String(length=64), nullable=False),
    sa.Column('event', sa.String(length=64), nullable=False),
    sa.Column('rows', sa.JSON(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=True),
    sa.Column('at', core.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_states'))
    )
    with op.batch_alter_table('ledger_states', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_states_table', ['table_name', 'id'], unique=False)

    op.create_table('ledger_timestamps',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('checkpoint_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tsa_url', sa.String(length=300), nullable=False),
    sa.Column('token', sa.LargeBinary(), nullable=True),
    sa.Column('gen_time', core.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('next_try_at', core.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', core.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['checkpoint_id'], ['ledger_checkpoints.id'], name=op.f('fk_ledger_timestamps_checkpoint_id_ledger_checkpoints')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_timestamps')),
    sa.UniqueConstraint('checkpoint_id', name=op.f('uq_ledger_timestamps_checkpoint_id'))
    )
    with op.batch_alter_table('ledger_timestamps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_timestamps_next_try_at'), ['next_try_at'], unique=False)

    with op.batch_alter_table('ledger_checkpoints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('algorithms', sa.String(length=32), server_default='sha256-ed25519', nullable=False))
    with op.batch_alter_table('ledger_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('algorithms', sa.String(length=32), nullable=True))
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_entries_kind_seq', ['kind', 'seq'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_entries_kind_seq')
    with op.batch_alter_table('ledger_head', schema=None) as batch_op:
        batch_op.drop_column('algorithms')
    with op.batch_alter_table('ledger_checkpoints', schema=None) as batch_op:
        batch_op.drop_column('algorithms')
    with op.batch_alter_table('ledger_timestamps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_timestamps_next_try_at'))
    op.drop_table('ledger_timestamps')
    with op.batch_alter_table('ledger_states', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_states_table')
    op.drop_table('ledger_states')
