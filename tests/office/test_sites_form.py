"""An organization's sites from the office's form: created and edited with township and village, checked, audited."""

from __future__ import annotations

from sqlalchemy import select

from app.db import db
from app.orgs.models import Site
from tests.office.test_pages import admin, sign_in


def test_the_office_adds_and_edits_a_site_with_its_township_and_village(client, make_user, make_org, auth):
    token = sign_in(client, admin(make_user))
    org = make_org(kind="cooperative", county="通山县")
    page = client.get(f"/office/organizations/{org.id}").get_data(as_text=True)
    assert 'id="site-form"' in page and "乡镇" in page

    bad = {"csrf_token": token, "name": "", "kind": "moon_base", "township": "大畈镇", "latitude": "north"}
    refused = client.post(f"/office/organizations/{org.id}/sites", data=bad)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "请填写场所名称" in text and "请选择场所类型" in text and "应为数字" in text
    assert db.session.scalars(select(Site).where(Site.organization_id == org.id)).all() == []

    good = {"csrf_token": token, "name": "枇杷园一号", "kind": "orchard", "county": "", "township": "大畈镇",
            "village": "西庄村", "latitude": "29.532", "longitude": "114.82"}  # fmt: skip
    created = client.post(f"/office/organizations/{org.id}/sites", data=good)
    assert created.status_code == 302
    site = db.session.scalar(select(Site).where(Site.organization_id == org.id))
    assert site is not None and (site.county, site.township, site.village) == ("通山县", "大畈镇", "西庄村")
    listed = client.get(f"/office/organizations/{org.id}").get_data(as_text=True)
    assert "枇杷园一号" in listed and "西庄村" in listed

    edited = client.post(f"/office/organizations/{org.id}/sites/{site.id}", data=good | {"village": "东庄村"})
    assert edited.status_code == 302
    db.session.refresh(site)
    assert site.village == "东庄村"
    # Another organization's site is not this one's.
    other = make_org(kind="enterprise")
    assert client.get(f"/office/organizations/{other.id}/sites/{site.id}").status_code == 404
    log = client.get("/api/v1/office/audit", headers=auth("admin")).get_json()["items"]
    actions = [e["action"] for e in log if org.code in e["target"]]
    assert actions[:2] == ["site.update", "site.create"]
    assert log[0]["details"]["changed"] == {"village": "东庄村"}
    # The field app's API sees the same site.
    assert (
        client.get("/api/v1/sites", headers=auth("cooperative", org=org)).get_json()["items"][0]["village"] == "东庄村"
    )
