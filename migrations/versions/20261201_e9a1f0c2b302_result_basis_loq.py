"""inspection results: basis, below the LOQ

A result says what it is measured on (as_is, dry_matter 以干样品计, fat 以脂肪计; as_is for every
result stored before) and whether it was reported below the limit of quantification
(未检出(<定量限)), with that limit.

Revision ID: e9a1f0c2b302
Revises: e9a1f0c2b301
Create Date: 2026-12-01 16:51:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'e9a1f0c2b302'
down_revision = 'e9a1f0c2b301'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('inspection_results', schema=None) as batch_op:
        batch_op.add_column(sa.Column('basis', sa.String(length=12), server_default='as_is', nullable=False))
        batch_op.add_column(sa.Column('below_loq', sa.Boolean(), server_default=sa.text('false'), nullable=False))
        batch_op.add_column(sa.Column('loq', sa.Numeric(precision=20, scale=6), nullable=True))


def downgrade():
    with op.batch_alter_table('inspection_results', schema=None) as batch_op:
        batch_op.drop_column('loq')
        batch_op.drop_column('below_loq')
        batch_op.drop_column('basis')
