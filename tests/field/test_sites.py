"""Sites: GET/POST /api/v1/sites and the field pages, with township, village and coordinates."""

from __future__ import annotations

from sqlalchemy import select

from app.db import db
from app.orgs.models import Site
from tests.field.conftest import post_form


def test_a_cooperative_registers_a_site_for_a_member_through_the_api(client, coop, auth):
    headers = auth(user=coop.user)
    body = {
        "name": "隐水村刘家枇杷园", "kind": "orchard", "township": "大畈镇", "village": "隐水村",
        "latitude": 29.5886, "longitude": 114.5315, "organization": coop.members[1].code,
    }  # fmt: skip
    response = client.post("/api/v1/sites", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    site = response.get_json()
    assert (site["organization"], site["village"], site["latitude"]) == (coop.members[1].code, "隐水村", "29.588600")
    assert site["county"] == coop.members[1].county
    listed = client.get("/api/v1/sites", headers=headers).get_json()
    assert {s["name"] for s in listed["items"]} == {"合作社分级冷库", "王家枇杷园", "隐水村刘家枇杷园"}
    assert listed["meta"]["total"] == 3


def test_sites_are_refused_naming_the_field_and_others_sites_are_not_listed(client, coop, auth, make_org):
    headers = auth(user=coop.user)
    bad = client.post("/api/v1/sites", json={"name": "x", "kind": "castle"}, headers=headers)
    assert bad.status_code == 422 and "kind" in bad.get_json()["errors"]["json"]
    stranger = make_org(kind="farm_household")
    refused = client.post(
        "/api/v1/sites", json={"name": "x", "kind": "plot", "organization": stranger.code}, headers=headers
    )
    assert refused.status_code == 422 and "organization" in refused.get_json()["errors"]["json"]
    member = client.get("/api/v1/sites", headers=auth(user=coop.member_user)).get_json()
    assert [s["name"] for s in member["items"]] == ["王家枇杷园"]
    assert (
        client.post("/api/v1/sites", json={"name": "x", "kind": "plot"}, headers=auth("inspector")).status_code == 403
    )


def test_the_site_pages(signed_in, coop):
    client = signed_in(coop.user)
    form = client.get("/field/sites/new").get_data(as_text=True)
    assert "茶园" in form and "用手机当前位置" in form and "农户陈" in form
    refused = post_form(client, "/field/sites/new", {"name": "", "kind": "orchard", "latitude": "200"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "场所名称：必填" in page and "纬度：应在 -90 到 90 之间" in page
    assert db.session.scalar(select(Site).where(Site.name == "")) is None
    done = post_form(
        client, "/field/sites/new",
        {"name": "西泉村陈家枇杷园", "kind": "orchard", "organization": coop.members[1].code,
         "county": "通山县", "township": "大畈镇", "village": "西泉村", "latitude": "29.6072", "longitude": "114.5083"},
    )  # fmt: skip
    assert done.status_code == 302
    site = db.session.scalar(select(Site).where(Site.name == "西泉村陈家枇杷园"))
    assert site.organization_id == coop.members[1].id and site.village == "西泉村"
    listing = client.get("/field/sites?created=1").get_data(as_text=True)
    assert "场所已登记" in listing and "西泉村陈家枇杷园" in listing and "大畈镇 西泉村" in listing
    # The new site is offered when the cooperative creates a batch for that household.
    assert "西泉村陈家枇杷园" in client.get("/field/batches/new").get_data(as_text=True)
