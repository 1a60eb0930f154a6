"""sync: client_writes, the field app's queued writes stored once under their client-made id

One new table: each write's client id (its Idempotency-Key) per user, its result, and the device's
own clock time beside the server's. Nothing existing changes.

Revision ID: s10a00000001
Revises: r11a0c0e0001
Create Date: 2026-12-01 19:45:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text  # noqa: F401 - autogenerate renders JSONB(astext_type=Text())
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 's10a00000001'
down_revision = 'r11a0c0e0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('client_writes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('result', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('device_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_client_writes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client_writes')),
    sa.UniqueConstraint('user_id', 'client_id', name=op.f('uq_client_writes_user_id_client_id'))
    )


def downgrade():
    op.drop_table('client_writes')
