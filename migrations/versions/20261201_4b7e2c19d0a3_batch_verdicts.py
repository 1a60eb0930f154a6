"""batch verdicts: the latest verdict of each batch, with its inputs' fingerprint

Revision ID: 4b7e2c19d0a3
Revises: 030c5012faea
Create Date: 2026-12-01 14:10:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text  # noqa: F401 - autogenerate renders JSONB(astext_type=Text())
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '4b7e2c19d0a3'
down_revision = '030c5012faea'
branch_labels = None
depends_on = None


def upgrade():
    # Empty on creation: pages compute a missing verdict in memory until `flask compliance refresh`
    # (run by `make setup`) or the batch's next relevant write stores it.
    op.create_table('batch_verdicts',
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('verdict', sa.String(length=20), nullable=False),
    sa.Column('result', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_batch_verdicts_batch_id_batches'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('batch_id', name=op.f('pk_batch_verdicts'))
    )


def downgrade():
    op.drop_table('batch_verdicts')
