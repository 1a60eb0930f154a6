"""catalog: versions of the catalog, and the version each stored verdict was judged against

No version is written here: the next ``catalog load`` (``make run`` runs one) records the catalog
as it then stands as version 1, and verdicts name a version from their next judgement on.

Revision ID: d0025e55a003
Revises: d0025e55a002
Create Date: 2026-12-01 17:02:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text  # noqa: F401 - autogenerate renders JSONB(astext_type=Text())
from sqlalchemy.dialects import postgresql

revision = 'd0025e55a003'
down_revision = 'd0025e55a002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'catalog_versions',
        sa.Column('number', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('standards', sa.Integer(), nullable=False),
        sa.Column('requirements', sa.Integer(), nullable=False),
        sa.Column('entries', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
        sa.PrimaryKeyConstraint('number', name=op.f('pk_catalog_versions')),
    )
    with op.batch_alter_table('batch_verdicts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('catalog_version', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_batch_verdicts_catalog_version_catalog_versions'), 'catalog_versions',
            ['catalog_version'], ['number'],
        )


def downgrade():
    with op.batch_alter_table('batch_verdicts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_batch_verdicts_catalog_version_catalog_versions'), type_='foreignkey')
        batch_op.drop_column('catalog_version')
    op.drop_table('catalog_versions')
