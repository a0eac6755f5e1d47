"""evidence intake: upload links, upload sessions, previews

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 09:00:00

Hand-written to match core/evidence_models.py (tests/integration/test_migrations.py checks).
"""
from alembic import op
import sqlalchemy as sa
import core.platform.db


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('upload_links',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('officer_id', sa.String(length=32), nullable=False),
    sa.Column('created_at', core.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', core.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', core.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_upload_links_case_id_cases')),
    sa.ForeignKeyConstraint(['officer_id'], ['officers.id'], name=op.f('fk_upload_links_officer_id_officers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_upload_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_upload_links_token_hash'))
    )
    with op.batch_alter_table('upload_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_upload_links_case_id'), ['case_id'], unique=False)

    op.create_table('upload_sessions',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('officer_id', sa.String(length=32), nullable=False),
    sa.Column('link_id', sa.String(length=32), nullable=True),
    sa.Column('length', sa.BigInteger(), nullable=False),
    sa.Column('offset', sa.BigInteger(), nullable=False),
    sa.Column('form', sa.JSON(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('filetype', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('evidence_id', sa.String(length=32), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('result_status', sa.Integer(), nullable=True),
    sa.Column('created_at', core.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', core.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_upload_sessions_case_id_cases')),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], name=op.f('fk_upload_sessions_evidence_id_evidence')),
    sa.ForeignKeyConstraint(['link_id'], ['upload_links.id'], name=op.f('fk_upload_sessions_link_id_upload_links')),
    sa.ForeignKeyConstraint(['officer_id'], ['officers.id'], name=op.f('fk_upload_sessions_officer_id_officers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_upload_sessions'))
    )
    with op.batch_alter_table('upload_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_upload_sessions_case_id'), ['case_id'], unique=False)

    op.create_table('evidence_previews',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('evidence_id', sa.String(length=32), nullable=False),
    sa.Column('original_sha256', sa.String(length=64), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('created_at', core.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence.id'], name=op.f('fk_evidence_previews_evidence_id_evidence')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_previews')),
    sa.UniqueConstraint('evidence_id', name=op.f('uq_evidence_previews_evidence_id'))
    )
    with op.batch_alter_table('evidence_previews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_previews_original_sha256'), ['original_sha256'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('evidence_previews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_previews_original_sha256'))

    op.drop_table('evidence_previews')
    with op.batch_alter_table('upload_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_upload_sessions_case_id'))

    op.drop_table('upload_sessions')
    with op.batch_alter_table('upload_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_upload_links_case_id'))

    op.drop_table('upload_links')
