"""office: the audit log of onboarding, and organizations' enrollments by product line

Revision ID: 0ff1ce000001
Revises: f1e1d0a00002
Create Date: 2026-12-01 14:40:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text  # noqa: F401 - autogenerate renders JSONB(astext_type=Text())
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0ff1ce000001'
down_revision = 'f1e1d0a00002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('office_audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('actor_username', sa.String(length=60), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('target', sa.String(length=120), nullable=False),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'], name=op.f('fk_office_audit_log_actor_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_office_audit_log'))
    )
    with op.batch_alter_table('office_audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_office_audit_log_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_office_audit_log_at'), ['at'], unique=False)

    op.create_table('office_enrollments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('product_key', sa.String(length=20), nullable=False),
    sa.Column('enrolled_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_office_enrollments_organization_id_organizations')),
    sa.ForeignKeyConstraint(['product_key'], ['product_lines.key'], name=op.f('fk_office_enrollments_product_key_product_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_office_enrollments')),
    sa.UniqueConstraint('organization_id', 'product_key', name=op.f('uq_office_enrollments_organization_id_product_key'))
    )
    with op.batch_alter_table('office_enrollments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_office_enrollments_organization_id'), ['organization_id'], unique=False)


def downgrade():
    with op.batch_alter_table('office_enrollments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_office_enrollments_organization_id'))
    op.drop_table('office_enrollments')
    with op.batch_alter_table('office_audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_office_audit_log_at'))
        batch_op.drop_index(batch_op.f('ix_office_audit_log_action'))
    op.drop_table('office_audit_log')
