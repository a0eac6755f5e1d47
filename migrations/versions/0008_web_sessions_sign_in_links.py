"""web pages: staff sign-in links and sessions

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 09:30:00

Hand-written to match core/people/models.py (WebSignInLink, WebSession);
tests/integration/test_migrations.py checks.
"""
from alembic import op
import sqlalchemy as sa
import core.platform.db


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('web_sign_in_links',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('officer_id', sa.String(length=32), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('created_at', core.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', core.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', core.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['officer_id'], ['officers.id'], name=op.f('fk_web_sign_in_links_officer_id_officers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_sign_in_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_web_sign_in_links_token_hash'))
    )
    with op.batch_alter_table('web_sign_in_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_sign_in_links_officer_id'), ['officer_id'], unique=False)

    op.create_table('web_sessions',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('officer_id', sa.String(length=32), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('link_id', sa.String(length=32), nullable=True),
    sa.Column('created_at', core.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', core.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', core.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', core.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=32), nullable=True),
    sa.Column('remote', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['link_id'], ['web_sign_in_links.id'], name=op.f('fk_web_sessions_link_id_web_sign_in_links')),
    sa.ForeignKeyConstraint(['officer_id'], ['officers.id'], name=op.f('fk_web_sessions_officer_id_officers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_sessions')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_web_sessions_secret_hash'))
    )
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_sessions_officer_id'), ['officer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_sessions_officer_id'))
    op.drop_table('web_sessions')
    with op.batch_alter_table('web_sign_in_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_sign_in_links_officer_id'))
    op.drop_table('web_sign_in_links')
