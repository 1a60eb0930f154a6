"""sites: the village (村) beside the township, for the field app's sites

Revision ID: f1e1d0a00002
Revises: f1e1d0a00001
Create Date: 2026-12-01 14:30:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'f1e1d0a00002'
down_revision = 'f1e1d0a00001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('village', sa.String(length=60), nullable=True))


def downgrade():
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('village')
