"""office: the register of the standards the pilot writes (stage 立项/征求意见/发布/备案 and dates)

A new table only (office_standards); downgrade drops it.

Revision ID: o15a00000001
Revises: s10a00000001
Create Date: 2026-12-01 19:30:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text  # noqa: F401 - autogenerate renders JSONB(astext_type=Text())
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'o15a00000001'
down_revision = 's10a00000001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('office_standards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('title_zh', sa.String(length=300), nullable=False),
    sa.Column('level', sa.String(length=12), nullable=False),
    sa.Column('products', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('stage', sa.String(length=12), nullable=False),
    sa.Column('proposed_on', sa.Date(), nullable=True),
    sa.Column('consultation_on', sa.Date(), nullable=True),
    sa.Column('published_on', sa.Date(), nullable=True),
    sa.Column('filed_on', sa.Date(), nullable=True),
    sa.Column('filing_no', sa.String(length=60), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("level IN ('local', 'group', 'enterprise', 'national', 'industry')", name=op.f('ck_office_standards_level')),
    sa.CheckConstraint("stage IN ('proposed', 'consultation', 'published', 'filed')", name=op.f('ck_office_standards_stage')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_office_standards')),
    sa.UniqueConstraint('code', name=op.f('uq_office_standards_code'))
    )
    with op.batch_alter_table('office_standards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_office_standards_level'), ['level'], unique=False)


def downgrade():
    with op.batch_alter_table('office_standards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_office_standards_level'))
    op.drop_table('office_standards')
