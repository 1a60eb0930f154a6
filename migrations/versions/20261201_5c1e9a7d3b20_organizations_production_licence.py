"""organizations: the food production licence number (食品生产许可证编号, SC + 14 digits)

Shown on the consumer page of a processed product line. Nullable (farms, cooperatives and
traders have none) and unique (one licence, one holder), by a unique index.

Revision ID: 5c1e9a7d3b20
Revises: c0e3a1d2f4b5
Create Date: 2026-12-01 16:30:00

"""

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "5c1e9a7d3b20"
down_revision = "c0e3a1d2f4b5"
branch_labels = None
depends_on = None


def upgrade():
    # A unique index rather than a unique constraint: on SQLite a constraint would make Alembic
    # rebuild the organizations table, which every batch references.
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('production_licence', sa.String(length=16), nullable=True))
        batch_op.create_index(
            batch_op.f('ix_organizations_production_licence'), ['production_licence'], unique=True
        )


def downgrade():
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organizations_production_licence'))
        batch_op.drop_column('production_licence')
