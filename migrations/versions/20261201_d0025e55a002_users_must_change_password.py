"""users: must_change_password, set by a one-time password and cleared by the user's own

Revision ID: d0025e55a002
Revises: d0025e55a001
Create Date: 2026-12-01 17:01:00

"""
from alembic import op
import sqlalchemy as sa

revision = 'd0025e55a002'
down_revision = 'd0025e55a001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('must_change_password', sa.Boolean(), server_default=sa.text('false'), nullable=False)
        )


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
