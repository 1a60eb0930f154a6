"""The certification registry, and a batch's certifications judged on its harvest or production date."""

from __future__ import annotations

import datetime as dt

from app.clock import CHINA_TZ as CST
from app.orgs import service as orgs
from tests.compliance.factories import add_event, new_batch
from tests.conftest import settle


def cert(holder, number, valid_from, valid_to=None, kind="green_food", product="brick_tea", **kw):
    return {"kind": kind, "number": number, "issuer": "中国绿色食品发展中心", "holder": holder,
            "product": product, "valid_from": valid_from, "valid_to": valid_to, **kw}  # fmt: skip


def test_a_batch_shows_the_certifications_covering_it_judged_on_its_harvest_date(client, auth, producer, make_org):
    admin = auth("admin")
    org = producer.organization
    garden = orgs.create_site(org, name="羊楼洞茶园", kind="tea_garden", county="赤壁市")
    other_garden = orgs.create_site(org, name="新店茶园", kind="tea_garden", county="赤壁市")
    settle()
    batch = new_batch(producer, "brick_tea", site=garden.id)
    add_event(batch, producer, "harvest", dt.datetime(2026, 5, 10, 9, tzinfo=CST), {"quantity": "800", "unit": "kg"})
    rival = make_org(kind="cooperative")
    registered = [
        cert(org.code, "LB-2025-001", "2025-01-01", "2025-12-31"),  # expired by the harvest
        cert(org.code, "OG-2026-001", "2026-01-01", "2028-12-31", kind="organic", issuer="南京国环有机产品认证中心"),
        cert(org.code, "GI-AGI-0001", "2019-06-01", None, kind="geographical_indication", issuer="农业农村部"),
        cert(org.code, "HG-2026-0610", "2026-06-10", "2026-12-31", kind="compliance_certificate", issuer=org.name),
        cert(org.code, "LB-SITE-OWN", "2026-01-01", "2026-12-31", site=garden.id),
        cert(org.code, "LB-SITE-OTHER", "2026-01-01", "2026-12-31", site=other_garden.id),  # another garden
        cert(org.code, "LB-LOQUAT", "2026-01-01", "2026-12-31", product="loquat"),  # another product
        cert(rival.code, "LB-RIVAL", "2026-01-01", "2026-12-31"),  # another holder
    ]
    for body in registered:
        response = client.post("/api/v1/certifications", json=body, headers=admin)
        assert response.status_code == 201, response.get_json()

    response = client.get(f"/api/v1/batches/{batch.id}/certifications", headers=auth("inspector"))
    assert response.status_code == 200
    body = response.get_json()
    assert (body["judged_on"], body["basis"]) == ("2026-05-10", "harvest")
    status = {c["number"]: c["status"] for c in body["items"]}
    assert status == {
        "LB-2025-001": "expired",
        "OG-2026-001": "valid",
        "GI-AGI-0001": "valid",
        "HG-2026-0610": "not_yet_valid",
        "LB-SITE-OWN": "valid",
    }
    organic = next(c for c in body["items"] if c["number"] == "OG-2026-001")
    assert (organic["kind_zh"], organic["holder"], organic["issuer"]) == (
        "有机产品",
        org.code,
        "南京国环有机产品认证中心",
    )


def test_without_a_harvest_the_production_date_decides(client, auth, producer):
    org = producer.organization
    batch = new_batch(producer, "mahua", produced_at=dt.datetime(2026, 2, 1, 9, tzinfo=CST))
    client.post("/api/v1/certifications", json=cert(org.code, "HG-MH-1", "2026-01-01", "2026-01-31", product="mahua"),
                headers=auth("inspector"))  # fmt: skip
    body = client.get(f"/api/v1/batches/{batch.id}/certifications", headers=auth("inspector")).get_json()
    assert (body["judged_on"], body["basis"]) == ("2026-02-01", "production")
    assert [(c["number"], c["status"]) for c in body["items"]] == [("HG-MH-1", "expired")]


def test_the_registry_lists_and_refuses(client, auth, producer, make_org):
    org = producer.organization
    inspector = auth("inspector")
    assert (
        client.post("/api/v1/certifications", json=cert(org.code, "N-1", "2026-01-01"), headers=inspector).status_code
        == 201
    )
    assert (
        client.post("/api/v1/certifications", json=cert(org.code, "N-1", "2026-01-01"), headers=inspector).status_code
        == 409
    )
    assert (
        client.post(
            "/api/v1/certifications", json=cert(org.code, "N-2", "2026-01-01"), headers=auth("farmer")
        ).status_code
        == 403
    )
    bad = [
        (cert(org.code, "N-3", "2026-06-01", "2026-01-01"), "valid_to"),
        (cert("NOBODY", "N-4", "2026-01-01"), "holder"),
        (cert(org.code, "N-5", "2026-01-01", kind="michelin"), "kind"),
    ]
    rival = make_org(kind="cooperative")
    rival_site = orgs.create_site(rival, name="别人的茶园", kind="tea_garden")
    settle()
    bad.append((cert(org.code, "N-6", "2026-01-01", site=rival_site.id), "site"))
    for body, field in bad:
        response = client.post("/api/v1/certifications", json=body, headers=inspector)
        assert response.status_code == 422, body
        assert field in response.get_json()["errors"]["json"]
    listed = client.get(f"/api/v1/certifications?holder={org.code}&product=brick_tea", headers=inspector).get_json()
    assert [c["number"] for c in listed["items"]] == ["N-1"]
    assert client.get("/api/v1/certifications?holder=NOBODY", headers=inspector).get_json()["items"] == []
    assert client.get("/api/v1/certifications").status_code == 401
