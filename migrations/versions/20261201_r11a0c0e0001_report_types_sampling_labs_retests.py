"""reports: report types, sampling records (抽样单), labs with their CMA, re-tests (复检)

inspections gain type (existing rows: commissioned), lab_org_id, retest_of_id, notified_at,
requested_at, retest_deadline and warnings; report numbers become unique per lab (per lab
organization, or per free-text lab for rows without one) instead of per batch. organizations gain
the CMA certificate of a lab. sampling_records is new.

Revision ID: r11a0c0e0001
Revises: 5ca9e1ab0001
Create Date: 2026-12-01 19:40:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision = 'r11a0c0e0001'
down_revision = '5ca9e1ab0001'
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql')


def upgrade():
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cma_no', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('cma_valid_from', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('cma_valid_to', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('cma_parameters', _JSON, nullable=True))

    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('type', sa.String(length=20), server_default='commissioned', nullable=False))
        batch_op.add_column(sa.Column('lab_org_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('retest_of_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('requested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('retest_deadline', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('warnings', _JSON, server_default=sa.text("'[]'"), nullable=False))
        batch_op.create_foreign_key(
            batch_op.f('fk_inspections_lab_org_id_organizations'), 'organizations', ['lab_org_id'], ['id']
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_inspections_retest_of_id_inspections'), 'inspections', ['retest_of_id'], ['id']
        )
        batch_op.create_index(batch_op.f('ix_inspections_lab_org_id'), ['lab_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspections_retest_of_id'), ['retest_of_id'], unique=False)
        batch_op.drop_constraint('uq_inspections_batch_id_report_no', type_='unique')
        batch_op.create_index(
            'uq_inspections_lab_org_id_report_no', ['lab_org_id', 'report_no'], unique=True,
            sqlite_where=sa.text('lab_org_id IS NOT NULL'), postgresql_where=sa.text('lab_org_id IS NOT NULL'),
        )
        batch_op.create_index(
            'uq_inspections_lab_report_no', ['lab', 'report_no'], unique=True,
            sqlite_where=sa.text('lab_org_id IS NULL'), postgresql_where=sa.text('lab_org_id IS NULL'),
        )

    op.create_table('sampling_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inspection_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=60), nullable=False),
    sa.Column('task_source', sa.String(length=200), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('sampled_org_id', sa.Integer(), nullable=True),
    sa.Column('sampled_org_name', sa.String(length=200), nullable=False),
    sa.Column('sample_lot', sa.String(length=60), nullable=True),
    sa.Column('production_date', sa.Date(), nullable=True),
    sa.Column('sampling_base', sa.String(length=60), nullable=False),
    sa.Column('quantity', sa.String(length=60), nullable=False),
    sa.Column('sampler_1', sa.String(length=60), nullable=False),
    sa.Column('sampler_2', sa.String(length=60), nullable=False),
    sa.Column('backup_sealed', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_sampling_records_inspection_id_inspections')),
    sa.ForeignKeyConstraint(['sampled_org_id'], ['organizations.id'], name=op.f('fk_sampling_records_sampled_org_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sampling_records')),
    sa.UniqueConstraint('inspection_id', name=op.f('uq_sampling_records_inspection_id'))
    )


def downgrade():
    op.drop_table('sampling_records')
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.drop_index('uq_inspections_lab_report_no')
        batch_op.drop_index('uq_inspections_lab_org_id_report_no')
        batch_op.create_unique_constraint('uq_inspections_batch_id_report_no', ['batch_id', 'report_no'])
        batch_op.drop_index(batch_op.f('ix_inspections_retest_of_id'))
        batch_op.drop_index(batch_op.f('ix_inspections_lab_org_id'))
        batch_op.drop_constraint(batch_op.f('fk_inspections_retest_of_id_inspections'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_inspections_lab_org_id_organizations'), type_='foreignkey')
        batch_op.drop_column('warnings')
        batch_op.drop_column('retest_deadline')
        batch_op.drop_column('requested_at')
        batch_op.drop_column('notified_at')
        batch_op.drop_column('retest_of_id')
        batch_op.drop_column('lab_org_id')
        batch_op.drop_column('type')
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_column('cma_parameters')
        batch_op.drop_column('cma_valid_to')
        batch_op.drop_column('cma_valid_from')
        batch_op.drop_column('cma_no')
