"""Realistic batches for the consumer page, seeded with private values that must never show.

A loquat batch with a full journey (``build_journey``), a brick tea that failed its test and was
harvested inside a pesticide's pre-harvest interval (``build_failed_tea``), and a cooperative lot
pooled from three households' loquats (``build_merged``). Used by the consumer page tests (inside
the rolled-back test transaction) and by the browser tests (committed for real, then removed
with ``remove_journey``).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, or_, select

from app.auth import Actor
from app.batches import service as batches
from app.batches.models import Batch, BatchStandard, Event
from app.catalog.models import Standard
from app.compliance import presenters, verdicts
from app.compliance.evaluation import evaluate_batch
from app.compliance.inspections import record_inspection
from app.compliance.models import (
    BatchVerdict,
    Certification,
    Finding,
    FindingStep,
    Inspection,
    InspectionResult,
    SamplingRecord,
)
from app.db import db
from app.lineage import service as lineage
from app.lineage.models import LineageEdge, Transformation
from app.orgs import service as orgs
from app.orgs.models import ApiToken, Organization, Site, User
from app.recalls.models import Recall, RecallItem
from app.sync.models import ClientWrite
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
CHINA = dt.timezone(dt.timedelta(hours=8))
# A made-up licence number of the right shape (SC and 14 digits); no real licence is meant.
TEA_LICENCE = "SC11442128100019"
TEA_LAB = "湖北省茶叶质量检测中心"


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


def store_verdict(batch: Batch, change: Any = None) -> dict[str, Any]:
    """Store the batch's verdict as the engine would, after ``change(result)`` edits it.

    For what the engine (another package) stores that this one only reads: a row ``needs_review``,
    a verdict judged with a 执行标准 bound. The result is judged first, then ``change`` may edit
    it and the batch's rows (it returns nothing), then it is stored under the fingerprint of the
    inputs as they are then, so every page reads it as current.
    """
    result = presenters.verdict_result(evaluate_batch(batch))
    if change is not None:
        change(result)
    db.session.flush()
    fingerprint = verdicts.fingerprints([batch])[batch.id]
    row = db.session.get(BatchVerdict, batch.id)
    if row is None:
        row = BatchVerdict(batch_id=batch.id, verdict=result["verdict"], result=result, fingerprint=fingerprint,
                           computed_at=T0)  # fmt: skip
        db.session.add(row)
    else:
        row.verdict, row.result, row.fingerprint = result["verdict"], result, fingerprint
    db.session.flush()
    return result


def declare_executive(batch: Batch, code: str) -> None:
    """Mark the bound standard ``code`` as the 执行标准 printed on the batch's label (the engine's contract)."""
    std = db.session.scalar(select(Standard).where(Standard.code == code))
    assert std is not None, code
    bound = db.session.get(BatchStandard, (batch.id, std.id))
    if bound is None:
        db.session.add(BatchStandard(batch_id=batch.id, standard_id=std.id, source="executive", bound_at=T0))
    else:
        bound.source = "executive"
    db.session.flush()


@dataclass
class FailedTea:
    batch: Batch
    processor: Organization
    inspector: Organization
    tag: str


def build_failed_tea(*, executive: bool = True) -> FailedTea:
    """A Chibi brick tea sampled on 2026-02-28 with imidacloprid at 0.8 mg/kg (GB 2763-2021: 0.5),
    picked 4 days after a spraying whose pre-harvest interval is 7 days, made by a licensed processor."""
    tag = secrets.token_hex(4)
    serial = int(tag, 16) % 10**9
    processor = orgs.create_organization(
        code=f"CBTEA-{tag}", name="赤壁市羊楼洞砖茶有限公司", name_en="Yangloudong Brick Tea Co., Chibi",
        kind="processor", county="赤壁市", credit_code=valid_credit_code(serial),
        production_licence=TEA_LICENCE[:-4] + f"{serial % 10000:04d}", contact_phone=COOP_PHONE,
    )  # fmt: skip
    inspectorate = orgs.create_organization(
        code=f"XNQC-{tag}", name="咸宁市市场监督管理局", kind="regulator", county="咸宁市"
    )
    maker = orgs.create_user(username=f"tea_maker_{tag}", org_code=processor.code, role="processor")
    inspector = orgs.create_user(username=f"inspector_{tag}", org_code=inspectorate.code, role="inspector")
    garden = orgs.create_site(processor, name="羊楼洞茶园", kind="tea_garden", county="赤壁市", township="赵李桥镇")
    actor = Actor(user=maker, org=processor)
    now = dt.datetime(2026, 3, 5, 9, 0, tzinfo=CHINA)

    def on(day: int, hour: int = 9) -> dt.datetime:
        return dt.datetime(2026, 2, day, hour, 0, tzinfo=CHINA)

    batch = batches.create_batch(
        actor, product="brick_tea", quantity=Decimal("500"), unit="kg", site=garden.id, produced_at=on(25), now=now
    )
    # The spraying is entered last (补录): it puts the harvest inside its interval, which fails and
    # holds the lot, and a held lot takes no processing or packing.
    steps = [
        ("harvest", on(14), {"quantity": "2000", "unit": "kg", "leaf_grade": "一级"}),
        ("processing", on(20), {"steps": [{"name": n, "started_at": on(20, h).isoformat()}
                                        for n, h in (("杀青", 8), ("渥堆", 10), ("压制", 15))]}),
        ("packing", on(25), {"package": "2千克砖", "count": 250}),
        ("planting", on(10), {"inputs": [{"kind": "pesticide", "name": "吡虫啉", "registration_no": "PD20080001",
                                          "dose": "20", "dose_unit": "g/亩", "applied_at": on(10).isoformat(),
                                          "phi_days": 7}]}),
    ]  # fmt: skip
    for stage, at, data in steps:
        batches.append_event(batch.id, actor, stage=stage, occurred_at=at, data=data, site=garden.id, now=now)
    record_inspection(
        Actor(user=inspector, org=inspectorate), batch.id, report_no=f"CB-2026-{tag}", lab=TEA_LAB,
        sampled_at=on(28), tested_at=on(28, 16), now=now,
        results=[
            {"parameter": "pesticide.imidacloprid", "value": Decimal("0.8"), "unit": "mg/kg"},
            {"parameter": "lead", "value": Decimal("1.2"), "unit": "mg/kg"},
            {"parameter": "fluoride", "value": Decimal("200"), "unit": "mg/kg"},
            {"parameter": "pesticide.glyphosate", "not_detected": True, "lod": Decimal("0.01"), "unit": "mg/kg"},
            {"parameter": "pesticide.bentazone", "value": Decimal("0.05"), "unit": "mg/kg"},
            {"parameter": "cadmium", "not_detected": True, "lod": Decimal("0.01"), "unit": "mg/kg"},
        ],
    )  # fmt: skip
    if executive:
        store_verdict(batch, lambda result: declare_executive(batch, "GB/T 9833.9-2013"))
    db.session.flush()
    return FailedTea(batch=batch, processor=processor, inspector=inspectorate, tag=tag)


@dataclass
class Merged:
    batch: Batch
    sources: list[Batch]
    coop: Organization
    households: list[Organization]


def build_merged() -> Merged:
    """Three member households' loquat lots, pooled by their cooperative into one lot."""
    tag = secrets.token_hex(4)
    serial = int(tag, 16) % 10**9
    coop = orgs.create_organization(
        code=f"DFCOOP-{tag}", name="通山县大畈枇杷专业合作社", name_en="Dafan Loquat Cooperative of Tongshan",
        kind="cooperative", county="通山县", credit_code=valid_credit_code(serial), contact_phone=COOP_PHONE,
    )  # fmt: skip
    user = orgs.create_user(username=f"dafan_coop_{tag}", org_code=coop.code, role="cooperative", phone=USER_PHONE)
    actor = Actor(user=user, org=coop)
    households, sources = [], []
    now = T0 + dt.timedelta(days=90)
    for i, (name, name_en) in enumerate(
        [("大畈镇王家枇杷园", "Wang Family Orchard"), ("大畈镇陈家枇杷园", "Chen Family Orchard"),
         ("大畈镇刘家枇杷园", None)], start=1,
    ):  # fmt: skip
        household = orgs.create_organization(
            code=f"DFHH{i}-{tag}", name=name, name_en=name_en, kind="farm_household", county="通山县",
            masked_id=MASKED_ID, cooperative_code=coop.code,
        )  # fmt: skip
        households.append(household)
        lot = batches.create_batch(actor, product="loquat", quantity=Decimal(100 * i), unit="kg",
                                   producer=household.code, now=now)  # fmt: skip
        batches.append_event(lot.id, actor, stage="harvest", occurred_at=T0 + dt.timedelta(days=78 + i),
                             data={"quantity": str(100 * i), "unit": "kg", "note": f"电话 {NOTE_PHONE}"},
                             now=now)  # fmt: skip
        sources.append(lot)
    result = lineage.transform(
        actor,
        inputs=[lineage.Take(batch=lot.id, quantity=Decimal(lot.quantity)) for lot in sources],
        outputs=[lineage.Output(product="loquat", quantity=Decimal(600), unit="kg")],
        occurred_at=T0 + dt.timedelta(days=82), now=now,
    )  # fmt: skip
    pooled = result.outputs[0]
    batches.append_event(pooled.id, actor, stage="packing", occurred_at=T0 + dt.timedelta(days=83),
                         data={"package": "5千克礼盒", "count": 120}, now=now)  # fmt: skip
    db.session.flush()
    return Merged(batch=pooled, sources=sources, coop=coop, households=households)


def remove_journey(org_codes: list[str]) -> None:
    """Delete, for real, every row a committed builder made (browser tests clean up)."""
    org_ids = list(db.session.scalars(select(Organization.id).where(Organization.code.in_(org_codes))))
    if not org_ids:
        return
    batch_ids = list(
        db.session.scalars(
            select(Batch.id).where(or_(Batch.custodian_org_id.in_(org_ids), Batch.producer_org_id.in_(org_ids)))
        )
    )
    user_ids = list(db.session.scalars(select(User.id).where(User.organization_id.in_(org_ids))))
    inspection_ids = select(Inspection.id).where(Inspection.batch_id.in_(batch_ids))
    recall_ids = select(Recall.id).where(Recall.batch_id.in_(batch_ids))
    finding_ids = select(Finding.id).where(Finding.batch_id.in_(batch_ids))
    db.session.execute(delete(FindingStep).where(FindingStep.finding_id.in_(finding_ids)))
    db.session.execute(delete(Finding).where(Finding.batch_id.in_(batch_ids)))
    db.session.execute(delete(BatchVerdict).where(BatchVerdict.batch_id.in_(batch_ids)))
    db.session.execute(delete(InspectionResult).where(InspectionResult.inspection_id.in_(inspection_ids)))
    db.session.execute(delete(SamplingRecord).where(SamplingRecord.inspection_id.in_(inspection_ids)))
    db.session.execute(delete(Inspection).where(Inspection.batch_id.in_(batch_ids)))
    db.session.execute(delete(RecallItem).where(RecallItem.recall_id.in_(recall_ids)))
    db.session.execute(delete(Recall).where(Recall.batch_id.in_(batch_ids)))
    db.session.execute(delete(Event).where(Event.batch_id.in_(batch_ids)))
    db.session.execute(delete(BatchStandard).where(BatchStandard.batch_id.in_(batch_ids)))
    touching = LineageEdge.input_batch_id.in_(batch_ids) | LineageEdge.output_batch_id.in_(batch_ids)
    db.session.execute(delete(LineageEdge).where(touching))
    db.session.execute(delete(Transformation).where(Transformation.actor_org_id.in_(org_ids)))
    db.session.execute(delete(Batch).where(Batch.id.in_(batch_ids)))
    db.session.execute(delete(Certification).where(Certification.holder_org_id.in_(org_ids)))
    db.session.execute(delete(ApiToken).where(ApiToken.user_id.in_(user_ids)))
    db.session.execute(delete(ClientWrite).where(ClientWrite.user_id.in_(user_ids)))
    db.session.execute(delete(User).where(User.id.in_(user_ids)))
    db.session.execute(delete(Site).where(Site.organization_id.in_(org_ids)))
    # Member households first: they point at their cooperative.
    members = Organization.id.in_(org_ids) & Organization.cooperative_id.is_not(None)
    db.session.execute(delete(Organization).where(members))
    db.session.execute(delete(Organization).where(Organization.id.in_(org_ids)))
    db.session.commit()
