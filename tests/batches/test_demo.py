"""The demo data: every product line gets a batch with a verifying chain through its own stages,
and loading it again changes nothing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from app.batches import service
from app.batches.models import Batch, Event
from app.batches.vocabulary import SYSTEM_KINDS
from app.catalog.products import PRODUCTS
from app.db import db
from app.demo import DEMO_PASSWORDS, load_demo
from app.orgs.credit_code import credit_code_error
from app.orgs.models import Organization, Site, User
from app.orgs.service import check_password

TABLES = (Organization, User, Site, Batch, Event)


def _counts() -> dict[str, int]:
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model)) for model in TABLES}


def _demo_rows() -> dict[str, list[tuple]]:
    # What a second run could have touched: each batch's chain head, and every event's hash.
    return {
        "batches": db.session.execute(select(Batch.lot_code, Batch.head_seq, Batch.head_hash).order_by(Batch.id)).all(),
        "events": db.session.execute(select(Event.id, Event.hash).order_by(Event.id)).all(),
    }


def test_loading_twice_changes_nothing(demo):
    assert "created" in demo and "batches" in demo
    counts, rows = _counts(), _demo_rows()
    second = load_demo()
    assert _counts() == counts
    assert _demo_rows() == rows
    assert second.startswith("demo: created nothing;")
    assert "\n" not in second


def test_every_product_line_has_a_demo_batch_through_its_own_stages(client, demo):
    for key, spec in PRODUCTS.items():
        batches = db.session.scalars(select(Batch).where(Batch.product_key == key, Batch.lot_code.like("%-DEMO-%")))
        journeys = []
        for batch in batches:
            report = service.verify_batch(batch)
            assert report.valid, (batch.lot_code, report)
            # Stage events only: the chain also holds system records (a lab's report, for one).
            journeys.append((batch, [e.stage for e in service.events_of(batch) if e.stage not in SYSTEM_KINDS]))
        assert journeys, f"no demo batch for {key}"
        wanted = [s for s in spec.stages if s != "after_sale"]
        full = [(b, stages) for b, stages in journeys if stages == wanted]
        assert full, f"no demo batch of {key} covers {wanted}: {[s for _, s in journeys]}"
        batch = full[0][0]
        assert batch.site is not None and batch.site.county == batch.producer.county
        assert batch.produced_at is not None


def test_the_demo_is_plausible(demo):
    for org in db.session.scalars(select(Organization).where(Organization.credit_code.is_not(None))):
        assert credit_code_error(org.credit_code) is None, org.code
    brick_tea = db.session.scalar(select(Batch).where(Batch.lot_code == "BT-2026-DEMO-01"))
    processing = next(e for e in service.events_of(brick_tea) if e.stage == "processing")
    assert [s["name"] for s in processing.data["steps"]] == ["杀青", "揉捻", "渥堆", "压制", "干燥"]
    for batch in db.session.scalars(select(Batch).where(Batch.lot_code.like("%-DEMO-%"))):
        events = service.events_of(batch)
        assert [e.occurred_at for e in events] == sorted(e.occurred_at for e in events), batch.lot_code
        for event in events:
            assert event.occurred_at.year == 2026
            # The created record is recorded when it happens; every other record some time after.
            assert event.recorded_at > event.occurred_at or event.stage == "created"
            for item in event.data.get("inputs", []):
                if item["kind"] == "pesticide":
                    assert item["registration_no"].startswith("PD20") and item["phi_days"] > 0
                    harvest = next(e for e in events if e.stage == "harvest")
                    # The pre-harvest interval was kept.
                    applied = item["applied_at"]
                    assert (harvest.occurred_at - dt.datetime.fromisoformat(applied)).days >= item["phi_days"], (
                        batch.lot_code
                    )
        lat, lon = batch.site.latitude, batch.site.longitude
        assert 29.0 < lat < 30.2 and 113.6 < lon < 114.8, (batch.lot_code, lat, lon)  # within Xianning


def test_loquat_cooperative_keeps_its_members_small_lots(demo):
    coop = db.session.scalar(select(Organization).where(Organization.code == "TS-DAFAN-COOP"))
    lots = db.session.scalars(
        select(Batch).where(Batch.custodian_org_id == coop.id, Batch.producer_org_id != coop.id)
    ).all()
    producers = {b.producer.code for b in lots}
    assert len(producers) >= 3
    assert all(b.producer.cooperative_id == coop.id and b.product_key == "loquat" for b in lots)
    assert all(b.producer.masked_id and "*" in b.producer.masked_id for b in lots)


def test_the_demo_logins_work(demo):
    assert DEMO_PASSWORDS["inspector"] == "xianning-desk-2026"
    for username, password in DEMO_PASSWORDS.items():
        user = check_password(username, password)
        assert user is not None, username
    assert check_password("inspector", "wrong-password") is None
    assert db.session.scalar(select(User).where(User.username == "inspector")).role == "inspector"


def test_demo_batches_read_through_the_api(client, auth, demo):
    inspector = db.session.scalar(select(User).where(User.username == "inspector"))
    headers = auth(user=inspector)
    listed = client.get("/api/v1/batches?per_page=200", headers=headers).get_json()["items"]
    demo = {b["lot_code"]: b for b in listed if "-DEMO-" in b["lot_code"]}
    assert len(demo) >= 9
    tea = demo["BT-2026-DEMO-01"]
    assert client.get(f"/api/v1/batches/{tea['id']}/verify", headers=headers).get_json()["valid"] is True
    journey = client.get(f"/api/v1/batches/{tea['id']}/events", headers=headers).get_json()["items"]
    assert [e["stage"] for e in journey][:3] == ["seedling", "planting", "harvest"]


def test_the_demo_brick_tea_has_a_whole_test_panel_and_the_loquat_its_certificates(client, demo):
    tea = db.session.scalar(select(Batch).where(Batch.lot_code == "BT-2026-DEMO-01"))
    summary = client.get(f"/api/v1/public/{tea.public_code}").get_json()["compliance"]
    assert summary["verdict"] == "pass", summary
    assert summary["provisional_basis"] is True  # fluoride's 300 mg/kg was never found in a source
    # Moisture is a product-standard item: GB/T 9833.9 is a suggestion until declared, so no
    # limit binds it and the consumer's list of judged tests leaves it out.
    assert {t["parameter"] for t in summary["tests"]} >= {"fluoride", "lead"}
    assert service.verify_batch(tea).valid
    loquat = db.session.scalar(select(Batch).where(Batch.lot_code == "LQ-2026-DEMO-01"))
    certs = client.get(f"/api/v1/public/{loquat.public_code}").get_json()["compliance"]["certifications"]
    # Certificates are listed while valid on the day the page is read: the demo's 承诺达标合格证
    # ran to 2026-06-30, so only the green-food certificate (to 2027-05-31) is still listed.
    assert {c["kind"] for c in certs} == {"green_food"}


def test_the_orchard_licence_covers_the_orchard_lot_only(client, demo):
    household_lot = db.session.scalar(select(Batch).where(Batch.lot_code == "LQ-2026-DEMO-H1"))
    certs = client.get(f"/api/v1/public/{household_lot.public_code}").get_json()["compliance"]["certifications"]
    assert "green_food" not in {c["kind"] for c in certs}  # Wang's orchard is not the licensed one


def test_a_2026_demo_batch_lists_the_2026_pesticide_edition_only(client, demo):
    tea = db.session.scalar(select(Batch).where(Batch.lot_code == "BT-2026-DEMO-01"))
    codes = {s["code"] for s in client.get(f"/api/v1/public/{tea.public_code}").get_json()["standards"]}
    assert "GB 2763-2026" in codes
    assert not codes & {"GB 2763-2021", "GB 2763.1-2022"}
