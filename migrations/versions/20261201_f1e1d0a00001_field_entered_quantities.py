"""field app: quantities as the farmer entered them (斤, 吨, 株...), kept for display

Revision ID: f1e1d0a00001
Revises: 4b7e2c19d0a3
Create Date: 2026-12-01 14:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'f1e1d0a00001'
down_revision = '4b7e2c19d0a3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('field_entered_quantities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('field', sa.String(length=40), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('unit', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_field_entered_quantities_batch_id_batches')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_field_entered_quantities_event_id_events')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_field_entered_quantities'))
    )
    with op.batch_alter_table('field_entered_quantities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_field_entered_quantities_batch_id'), ['batch_id'], unique=False)


def downgrade():
    with op.batch_alter_table('field_entered_quantities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_field_entered_quantities_batch_id'))
    op.drop_table('field_entered_quantities')
