"""catalog: product forms, standard status, basis, grading, temporary MRLs

A product line lists its form tags; a requirement gains the forms it binds, the basis its limit
is on, whether it is a grading parameter or an official temporary MRL (临时限量), and the figure
below which a detected value counts as not detected. A standard's ``status`` becomes one of
in_force / withdrawn / uncertain; the free text it held moves to ``status_note`` unchanged.

Revision ID: b6fbda3ba111
Revises: dac73e88a451
Create Date: 2026-12-01 14:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'b6fbda3ba111'
down_revision = 'dac73e88a451'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql')
STATUSES = "status IN ('in_force', 'withdrawn', 'uncertain')"


def upgrade():
    with op.batch_alter_table('product_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('forms', JSON, server_default=sa.text("'[]'"), nullable=False))

    with op.batch_alter_table('requirements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('forms', JSON, server_default=sa.text("'[]'"), nullable=False))
        batch_op.add_column(sa.Column('basis', sa.String(length=12), server_default='as_is', nullable=False))
        batch_op.add_column(sa.Column('grading', sa.Boolean(), server_default=sa.text('false'), nullable=False))
        batch_op.add_column(sa.Column('temporary_mrl', sa.Boolean(), server_default=sa.text('false'), nullable=False))
        batch_op.add_column(sa.Column('not_detected_below', sa.Numeric(precision=20, scale=6), nullable=True))

    # The old free text is kept word for word; the new status is read from it as the catalog did
    # ("UNCERTAIN - ...", "UNVERIFIED - ..."). The next `catalog load` sets every row from the YAML.
    with op.batch_alter_table('standards', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status_note', sa.Text(), nullable=True))
    op.execute("UPDATE standards SET status_note = status")
    op.execute(
        "UPDATE standards SET status = CASE "
        "WHEN UPPER(status) LIKE 'UNCERTAIN%' OR UPPER(status) LIKE 'UNVERIFIED%' THEN 'uncertain' "
        "ELSE 'in_force' END"
    )
    with op.batch_alter_table('standards', schema=None) as batch_op:
        batch_op.alter_column(
            'status', existing_type=sa.Text(), type_=sa.String(length=12), nullable=False, server_default='in_force'
        )
        batch_op.create_check_constraint(op.f('ck_standards_status'), STATUSES)


def downgrade():
    with op.batch_alter_table('standards', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_standards_status'), type_='check')
        batch_op.alter_column(
            'status', existing_type=sa.String(length=12), type_=sa.Text(), nullable=True, server_default=None
        )
    op.execute("UPDATE standards SET status = COALESCE(status_note, status)")
    with op.batch_alter_table('standards', schema=None) as batch_op:
        batch_op.drop_column('status_note')

    with op.batch_alter_table('requirements', schema=None) as batch_op:
        batch_op.drop_column('not_detected_below')
        batch_op.drop_column('temporary_mrl')
        batch_op.drop_column('grading')
        batch_op.drop_column('basis')
        batch_op.drop_column('forms')

    with op.batch_alter_table('product_lines', schema=None) as batch_op:
        batch_op.drop_column('forms')
