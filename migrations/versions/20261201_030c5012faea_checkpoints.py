"""checkpoints: the signed checkpoint log and its Merkle tree's leaves (issue 12)

Revision ID: 030c5012faea
Revises: b6fbda3ba111
Create Date: 2026-12-01 14:07:54.085176

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text  # noqa: F401 - autogenerate renders JSONB(astext_type=Text())


# revision identifiers, used by Alembic.
revision = '030c5012faea'
down_revision = 'b6fbda3ba111'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('checkpoints',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('tree_size', sa.Integer(), nullable=False),
    sa.Column('root_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('prev_id', sa.Integer(), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=True),
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('public_key', sa.String(length=44), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['prev_id'], ['checkpoints.id'], name=op.f('fk_checkpoints_prev_id_checkpoints')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkpoints')),
    sa.UniqueConstraint('hash', name=op.f('uq_checkpoints_hash')),
    sa.UniqueConstraint('prev_id', name=op.f('uq_checkpoints_prev_id'))
    )
    op.create_table('checkpoint_leaves',
    sa.Column('leaf_index', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('checkpoint_id', sa.Integer(), nullable=False),
    sa.Column('lot_code', sa.String(length=40), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('head_hash', sa.String(length=64), nullable=False),
    sa.Column('leaf_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['checkpoint_id'], ['checkpoints.id'], name=op.f('fk_checkpoint_leaves_checkpoint_id_checkpoints')),
    sa.PrimaryKeyConstraint('leaf_index', name=op.f('pk_checkpoint_leaves')),
    sa.UniqueConstraint('lot_code', 'seq', name=op.f('uq_checkpoint_leaves_lot_code_seq'))
    )
    with op.batch_alter_table('checkpoint_leaves', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkpoint_leaves_checkpoint_id'), ['checkpoint_id'], unique=False)



def downgrade():
    with op.batch_alter_table('checkpoint_leaves', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkpoint_leaves_checkpoint_id'))

    op.drop_table('checkpoint_leaves')
    op.drop_table('checkpoints')
