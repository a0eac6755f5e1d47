"""hardening: token expiry and last use, bind codes with a public half and a failure count

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 09:30:00

Hand-written to match core/people/models.py (tests/integration/test_migrations.py checks).
Tokens issued before this revision keep no expiry (`flask officers list` shows them; revoke
and re-issue). Bind codes issued before it have no public half and can no longer be redeemed.
"""
from alembic import op
import sqlalchemy as sa
import core.platform.db


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', core.platform.db.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('last_used_at',
                                      core.platform.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('bind_codes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lookup', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('failures', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.create_unique_constraint(batch_op.f('uq_bind_codes_lookup'), ['lookup'])


def downgrade() -> None:
    with op.batch_alter_table('bind_codes', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_bind_codes_lookup'), type_='unique')
        batch_op.drop_column('failures')
        batch_op.drop_column('lookup')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')
        batch_op.drop_column('expires_at')
