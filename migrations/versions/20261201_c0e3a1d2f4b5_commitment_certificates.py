"""commitment certificates: the 承诺达标合格证 a batch's holder issues, one per batch

Revision ID: c0e3a1d2f4b5
Revises: e9a1f0c2b302
Create Date: 2026-12-01 16:47:00.544186

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text  # noqa: F401 - autogenerate renders JSONB(astext_type=Text())
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'c0e3a1d2f4b5'
down_revision = 'e9a1f0c2b302'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('commitment_certificates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=24), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('issuer_org_id', sa.Integer(), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('product_key', sa.String(length=20), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=3), nullable=False),
    sa.Column('unit', sa.String(length=8), nullable=False),
    sa.Column('origin', sa.String(length=200), nullable=False),
    sa.Column('contact', sa.String(length=40), nullable=False),
    sa.Column('commitments', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), server_default=sa.text("'[]'"), nullable=False),
    sa.Column('basis', sa.String(length=20), nullable=False),
    sa.Column('report_no', sa.String(length=60), nullable=True),
    sa.Column('came_from', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), server_default=sa.text("'[]'"), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_commitment_certificates_batch_id_batches')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_commitment_certificates_issued_by_id_users')),
    sa.ForeignKeyConstraint(['issuer_org_id'], ['organizations.id'], name=op.f('fk_commitment_certificates_issuer_org_id_organizations')),
    sa.ForeignKeyConstraint(['product_key'], ['product_lines.key'], name=op.f('fk_commitment_certificates_product_key_product_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commitment_certificates')),
    sa.UniqueConstraint('batch_id', name=op.f('uq_commitment_certificates_batch_id')),
    sa.UniqueConstraint('number', name=op.f('uq_commitment_certificates_number'))
    )
    with op.batch_alter_table('commitment_certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_commitment_certificates_issuer_org_id'), ['issuer_org_id'], unique=False)



def downgrade():
    with op.batch_alter_table('commitment_certificates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_commitment_certificates_issuer_org_id'))

    op.drop_table('commitment_certificates')
