"""The office's organization form carries the food production licence number (SC + 14 digits)."""

from __future__ import annotations

from app.orgs import service as orgs
from tests.conftest import valid_credit_code
from tests.office.test_pages import admin, sign_in


def test_the_form_stores_a_licence_and_refuses_a_bad_one_naming_it(client, make_user):
    token = sign_in(client, admin(make_user))
    form = {"csrf_token": token, "code": "FORM-TEA", "name": "赤壁砖茶厂", "kind": "processor", "county": "赤壁市",
            "credit_code": valid_credit_code(72_101), "production_licence": "SC1144212810001"}  # fmt: skip
    refused = client.post("/office/organizations/new", data=form)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert 'id="e-production_licence"' in page and "SC 之后应为 14 位数字，实为 13 位" in page
    assert 'value="SC1144212810001"' in page  # what was typed stays in the field
    created = client.post("/office/organizations/new", data=form | {"production_licence": "sc 11442128100019"})
    assert created.status_code == 302, created.get_data(as_text=True)[:400]
    org = orgs.get_org_by_code("FORM-TEA")
    assert org.production_licence == "SC11442128100019"
    assert 'value="SC11442128100019"' in client.get(f"/office/organizations/{org.id}").get_data(as_text=True)
    # Saving the same organization again keeps its own licence; another may not take it.
    assert (
        client.post(
            f"/office/organizations/{org.id}",
            data=form | {"production_licence": org.production_licence, "name": "改名砖茶厂"},
        ).status_code
        == 302
    )
    other = form | {"code": "FORM-TEA2", "credit_code": valid_credit_code(72_102),
                    "production_licence": "SC11442128100019"}  # fmt: skip
    taken = client.post("/office/organizations/new", data=other)
    assert taken.status_code == 422 and "已登记在主体 FORM-TEA 名下" in taken.get_data(as_text=True)
