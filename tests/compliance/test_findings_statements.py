"""``GET /findings`` answers in a fixed number of queries however many findings it lists."""

from __future__ import annotations

from tests.compliance.factories import new_batch, post_inspection
from tests.statements import counted

LEAD_FAIL = [{"parameter": "lead", "value": "8", "unit": "mg/kg"}]


def test_the_findings_list_costs_the_same_queries_for_one_finding_as_for_six(client, auth, make_user):
    grower = make_user("cooperative")
    inspector = auth("inspector")
    holder = auth(user=grower)
    first = new_batch(grower, "brick_tea")
    assert post_inspection(client, inspector, first.id, LEAD_FAIL).status_code == 201

    def listed() -> tuple[int, list]:
        with counted() as statements:
            response = client.get("/api/v1/findings", headers=holder)
            assert response.status_code == 200
        return len(statements), response.get_json()["items"]

    listed()  # warm-up
    one, items = listed()
    assert len(items) == 1
    for _ in range(5):
        batch = new_batch(grower, "brick_tea")
        assert post_inspection(client, inspector, batch.id, LEAD_FAIL).status_code == 201
    finding = items[0]["id"]
    acted = client.post(f"/api/v1/findings/{finding}/actions", json={"note": "整批下架"}, headers=holder)
    assert acted.status_code == 201
    six, items = listed()
    assert len(items) == 6 and six == one, (one, six)
    steps = next(i for i in items if i["id"] == finding)["steps"]
    assert [s["action"] for s in steps] == ["opened", "action"]
    assert steps[1]["user"] == grower.username and steps[1]["org"] == grower.organization.code
    assert all(i["lot_code"] for i in items)
