"""batches: product forms

A batch carries the product-form tags it is (camellia oil ["edible_oil", "pressed"]), set at
creation and changed by a processing record. Batches stored before have no known form: [].

Revision ID: e9a1f0c2b301
Revises: 7c4e2f1a9b3d
Create Date: 2026-12-01 16:50:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'e9a1f0c2b301'
down_revision = '7c4e2f1a9b3d'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql')


def upgrade():
    # A plain ADD COLUMN (SQLite has it, with a constant default): a batch-mode copy of ``batches``
    # would have to drop the table every chain row references.
    op.add_column('batches', sa.Column('forms', JSON, server_default=sa.text("'[]'"), nullable=False))


def downgrade():
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_column('forms')
