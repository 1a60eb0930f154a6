"""chain: every batch's chain commits to the batch's own facts

From this revision a batch's chain opens with a record of its facts (lot code, product,
producer, quantity, unit, creation time, site, GTIN): a ``created`` record, or the split or
transformation record that made the lot. Verification then checks the batch's row against it.

Chains begun before are not re-hashed: that would change every head a signed checkpoint has
already anchored, and a re-chained history is what checkpoints exist to catch. Instead each
batch whose first record carries no facts gets a ``created`` record appended to its chain now,
committing to its facts as stored today (an empty chain gets it as its first record). Verifying
reads the facts from seq 1, or on such an older chain from that one ``created`` record; removing
it means re-hashing the chain or cutting its tail, which the checkpoints find.

No schema change. Downgrade leaves the records: they are ordinary chained records, and removing
records from chains is exactly the tampering this project detects.

Revision ID: 7c4e2f1a9b3d
Revises: 0ff1ce000001
Create Date: 2026-12-01 15:00:00

"""
import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

# The chain's hash is pure and frozen (changing it would break every stored chain), so the
# migration uses the app's own rather than a copy that could drift from it.
from app.batches import chain

revision = '7c4e2f1a9b3d'
down_revision = '0ff1ce000001'
branch_labels = None
depends_on = None


def _aware(value):
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def upgrade():
    conn = op.get_bind()
    meta = sa.MetaData()
    events = sa.Table('events', meta, autoload_with=conn)
    now = dt.datetime.now(dt.UTC)
    batches = conn.execute(sa.text(
        "SELECT b.id, b.lot_code, b.product_key, b.quantity, b.unit, b.created_at, b.site_id, b.gtin, "
        "b.head_seq, b.head_hash, b.custodian_org_id, o.code AS producer FROM batches b "
        "JOIN organizations o ON o.id = b.producer_org_id ORDER BY b.id"
    )).mappings().all()
    custodians = dict(conn.execute(sa.text("SELECT id, code FROM organizations")).all())
    for b in batches:
        first = conn.execute(
            sa.select(events.c.stage, events.c.data).where(events.c.batch_id == b['id'], events.c.seq == 1)
        ).first()
        if first is not None and 'batch' in (first.data or {}):
            continue
        created_at = _aware(b['created_at'])
        facts = chain.batch_facts(
            lot_code=b['lot_code'], product=b['product_key'], producer=b['producer'],
            quantity=str(Decimal(b['quantity']).quantize(Decimal('0.001'))), unit=b['unit'],
            created_at=created_at, site_id=b['site_id'], gtin=b['gtin'],
        )
        seq = b['head_seq'] + 1
        fields = chain.ChainFields(
            lot_code=b['lot_code'], seq=seq, stage=chain.CREATED, occurred_at=created_at, recorded_at=now,
            actor_org=custodians[b['custodian_org_id']], actor_user=None, site_id=None,
            data={'batch': facts}, amends_seq=None, prev_hash=b['head_hash'],
        )
        digest = fields.digest()
        # SQLite keeps UTC as naive datetimes (app.db.UTCDateTime); PostgreSQL keeps the zone.
        stored = (lambda v: v.replace(tzinfo=None)) if conn.dialect.name == 'sqlite' else (lambda v: v)
        conn.execute(events.insert().values(
            batch_id=b['id'], seq=seq, stage=chain.CREATED, occurred_at=stored(created_at), recorded_at=stored(now),
            actor_user_id=None, actor_org_id=b['custodian_org_id'], site_id=None, data={'batch': facts},
            amends_seq=None, prev_hash=b['head_hash'], hash=digest,
        ))
        conn.execute(
            sa.text("UPDATE batches SET head_seq = :s, head_hash = :h WHERE id = :id"),
            {'s': seq, 'h': digest, 'id': b['id']},
        )


def downgrade():
    pass
