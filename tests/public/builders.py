"""A realistic loquat batch with a full journey, seeded with private values that must never show.

Used by the consumer page tests (inside the rolled-back test transaction) and by the browser
tests (committed for real, then removed with ``remove_journey``).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import delete, select

from app.auth import Actor
from app.batches import service as batches
from app.batches.models import Batch, BatchStandard, Event
from app.compliance.models import Inspection, InspectionResult
from app.db import db
from app.lineage.models import LineageEdge
from app.orgs import service as orgs
from app.orgs.models import ApiToken, Organization, Site, User
from app.recalls.models import Recall, RecallItem
from tests.conftest import valid_credit_code

# Private values seeded into organizations, users and notes; none may reach a public page.
COOP_PHONE = "13912345678"
USER_PHONE = "13800138000"
NOTE_PHONE = "13712345678"
MASKED_ID = "4212**********123X"
PRICE_NOTE = "单价 12.5 元/斤"
BUYER = "王小五"
VEHICLE = "鄂L·A1234"

T0 = dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC)


@dataclass
class Journey:
    batch: Batch
    coop: Organization
    household: Organization
    user: User
    actor: Actor
    tag: str

    @property
    def private_values(self) -> list[str]:
        """Everything that must stay off the page and out of the JSON."""
        return [
            COOP_PHONE, USER_PHONE, NOTE_PHONE, MASKED_ID, PRICE_NOTE, "12.5", BUYER, VEHICLE,
            self.user.username, self.user.display_name or "", self.coop.credit_code or "",
            self.coop.code, self.household.code,
        ]  # fmt: skip


def build_journey(*, recalled: bool = False, amended: bool = True) -> Journey:
    """Cooperative holds a member household's loquats: seedling to sale, with one correction."""
    tag = secrets.token_hex(4)
    serial = int(tag, 16) % 10**9
    coop = orgs.create_organization(
        code=f"TSCOOP-{tag}",
        name="通山县九宫山枇杷专业合作社",
        name_en="Jiugongshan Loquat Cooperative of Tongshan",
        kind="cooperative",
        county="通山县",
        credit_code=valid_credit_code(serial),
        contact_phone=COOP_PHONE,
    )
    household = orgs.create_organization(
        code=f"TSHH-{tag}",
        name="大畈镇李家枇杷园",
        name_en="Li Family Loquat Orchard, Dafan",
        kind="farm_household",
        county="通山县",
        masked_id=MASKED_ID,
        cooperative_code=coop.code,
    )
    user = orgs.create_user(
        username=f"coop_zhangwei_{tag}", org_code=coop.code, role="cooperative", display_name="张伟", phone=USER_PHONE
    )
    orchard = orgs.create_site(
        household, name="李家枇杷园一号地", name_en="Li orchard plot 1", kind="orchard",
        county="通山县", township="大畈镇", latitude=29.52, longitude=114.62,
    )  # fmt: skip
    store = orgs.create_site(
        coop, name="九宫山冷库", name_en="Jiugongshan cold store", kind="warehouse", county="通山县"
    )
    actor = Actor(user=user, org=coop)
    batch = batches.create_batch(
        actor, product="loquat", quantity=Decimal("1200"), unit="kg", producer=household.code,
        site=orchard.id, produced_at=T0 + dt.timedelta(days=80), now=T0 + dt.timedelta(days=81),
    )  # fmt: skip

    def at(days: int) -> dt.datetime:
        return T0 + dt.timedelta(days=days)

    steps = [
        ("seedling", 0, orchard.id, {"variety": "白玉", "source": "通山县林业局苗圃", "count": 300}),
        ("planting", 10, orchard.id, {
            "area_mu": "12",
            "inputs": [
                {"kind": "fertilizer", "name": "腐熟有机肥", "dose": "200", "dose_unit": "kg/亩",
                 "applied_at": at(10).isoformat()},
                {"kind": "pesticide", "name": "吡虫啉", "registration_no": "PD20080001", "dose": "30",
                 "dose_unit": "g/亩", "applied_at": at(12).isoformat(), "phi_days": 14},
            ],
            "note": f"联系人电话 {NOTE_PHONE}",
        }),
        ("harvest", 78, orchard.id, {"quantity": "1200", "unit": "kg", "grade": "一级", "variety": "白玉",
                                     "brix": "13.5", "note": PRICE_NOTE}),
        ("packing", 79, store.id, {"package": "5千克礼盒", "count": 240}),
        ("storage", 79, store.id, {"temperature_c": "4", "humidity_pct": "90", "warehouse": "九宫山冷库2号间"}),
        ("transport", 80, None, {"vehicle": VEHICLE, "origin": "通山县大畈镇",
                                 "destination": "武汉白沙洲农副产品大市场", "temperature_c": "5"}),
        ("sale", 81, None, {"channel": "武汉白沙洲农副产品大市场批发", "buyer": BUYER}),
    ]  # fmt: skip
    now = at(81)
    for stage, day, site, data in steps:
        batches.append_event(batch.id, actor, stage=stage, occurred_at=at(day), data=data, site=site, now=now)
    if amended:
        batches.append_event(
            batch.id, actor, stage="amendment", occurred_at=at(81), amends_seq=4, now=now,
            data={"reason": "过磅复核", "data": {"quantity": "1180", "unit": "kg", "grade": "一级", "variety": "白玉",
                                                "brix": "13.5"}},
        )  # fmt: skip
    if recalled:
        locked = batches.lock_batch(batch.id)
        batches.append_system_event(locked, actor, "recall", {"reason": "抽检发现吡虫啉残留超标"}, now=now)
        db.session.add(
            Recall(batch_id=batch.id, reason="抽检发现吡虫啉残留超标", severity="high", status="open", opened_at=now)
        )
        locked.status = "recalled"
    db.session.flush()
    return Journey(batch=batch, coop=coop, household=household, user=user, actor=actor, tag=tag)


def remove_journey(org_codes: list[str]) -> None:
    """Delete, for real, every row a committed ``build_journey`` made (browser tests clean up)."""
    org_ids = list(db.session.scalars(select(Organization.id).where(Organization.code.in_(org_codes))))
    if not org_ids:
        return
    batch_ids = list(db.session.scalars(select(Batch.id).where(Batch.custodian_org_id.in_(org_ids))))
    user_ids = list(db.session.scalars(select(User.id).where(User.organization_id.in_(org_ids))))
    inspection_ids = select(Inspection.id).where(Inspection.batch_id.in_(batch_ids))
    recall_ids = select(Recall.id).where(Recall.batch_id.in_(batch_ids))
    db.session.execute(delete(InspectionResult).where(InspectionResult.inspection_id.in_(inspection_ids)))
    db.session.execute(delete(Inspection).where(Inspection.batch_id.in_(batch_ids)))
    db.session.execute(delete(RecallItem).where(RecallItem.recall_id.in_(recall_ids)))
    db.session.execute(delete(Recall).where(Recall.batch_id.in_(batch_ids)))
    db.session.execute(delete(Event).where(Event.batch_id.in_(batch_ids)))
    db.session.execute(delete(BatchStandard).where(BatchStandard.batch_id.in_(batch_ids)))
    touching = LineageEdge.input_batch_id.in_(batch_ids) | LineageEdge.output_batch_id.in_(batch_ids)
    db.session.execute(delete(LineageEdge).where(touching))
    db.session.execute(delete(Batch).where(Batch.id.in_(batch_ids)))
    db.session.execute(delete(ApiToken).where(ApiToken.user_id.in_(user_ids)))
    db.session.execute(delete(User).where(User.id.in_(user_ids)))
    db.session.execute(delete(Site).where(Site.organization_id.in_(org_ids)))
    # Member households first: they point at their cooperative.
    members = Organization.id.in_(org_ids) & Organization.cooperative_id.is_not(None)
    db.session.execute(delete(Organization).where(members))
    db.session.execute(delete(Organization).where(Organization.id.in_(org_ids)))
    db.session.commit()
