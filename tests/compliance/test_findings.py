"""The finding workflow: opened by a failure, acted on by the custodian, verified and closed by an inspector."""

from __future__ import annotations

from tests.compliance.factories import post_inspection

LEAD_FAIL = [{"parameter": "lead", "value": "7.5", "unit": "mg/kg"}]


def _open_finding(client, headers, batch_id, report_no="XN-F-1"):
    response = post_inspection(client, headers, batch_id, LEAD_FAIL, report_no=report_no)
    assert response.status_code == 201
    [finding_id] = response.get_json()["findings_opened"]
    return finding_id


def test_every_step_is_kept_with_who_and_when(client, auth, make_user, producer, producer_headers, make_batch):
    batch = make_batch()
    inspector = make_user("inspector", username="insp_wang")
    inspector_headers = auth(user=inspector)
    finding_id = _open_finding(client, inspector_headers, batch.id)
    url = f"/api/v1/findings/{finding_id}"

    # Closing needs a corrective action first; only inspectors close; only the custodian acts.
    assert client.post(f"{url}/close", json={"note": "ok"}, headers=inspector_headers).status_code == 409
    assert client.post(f"{url}/actions", json={"note": "x"}, headers=inspector_headers).status_code == 403
    # A stranger to the batch is told nothing of the finding: missing, as one that does not exist.
    hidden = client.post(f"{url}/actions", json={"note": "x"}, headers=auth("cooperative"))
    assert (hidden.status_code, hidden.get_json()["message"]) == (404, f"no finding with id {finding_id}")
    assert batch.lot_code not in hidden.get_data(as_text=True)
    assert client.post(f"{url}/actions", json={"note": ""}, headers=producer_headers).status_code == 422

    acted = client.post(f"{url}/actions", json={"note": "整批下架，更换茶园土壤检测"}, headers=producer_headers)
    assert acted.status_code == 201
    assert acted.get_json()["status"] == "action_recorded"
    assert client.post(f"{url}/close", json={"note": "ok"}, headers=producer_headers).status_code == 403

    closed = client.post(f"{url}/close", json={"note": "复检合格，同意关闭"}, headers=inspector_headers)
    assert closed.status_code == 200
    body = closed.get_json()
    assert body["status"] == "closed"
    steps = [(s["action"], s["user"], s["org"], s["note"]) for s in body["steps"]]
    assert steps == [
        ("opened", "insp_wang", inspector.organization.code, None),
        ("action", producer.username, producer.organization.code, "整批下架，更换茶园土壤检测"),
        ("closed", "insp_wang", inspector.organization.code, "复检合格，同意关闭"),
    ]
    assert all(s["at"] for s in body["steps"])
    assert client.post(f"{url}/close", json={"note": "again"}, headers=inspector_headers).status_code == 409
    assert client.post(f"{url}/actions", json={"note": "late"}, headers=producer_headers).status_code == 409
    assert (
        client.post("/api/v1/findings/999999/close", json={"note": "x"}, headers=inspector_headers).status_code == 404
    )


def test_a_new_failure_reopens_a_closed_finding_but_rereading_does_not(client, auth, producer_headers, make_batch):
    inspector = auth("inspector")
    batch = make_batch()
    finding_id = _open_finding(client, inspector, batch.id, "XN-R-1")
    client.post(f"/api/v1/findings/{finding_id}/actions", json={"note": "整改"}, headers=producer_headers)
    client.post(f"/api/v1/findings/{finding_id}/close", json={"note": "关闭"}, headers=inspector)
    # Reading the verdict again (it still fails on the old report) keeps the finding closed.
    body = client.get(f"/api/v1/batches/{batch.id}/compliance", headers=inspector).get_json()
    assert [f["status"] for f in body["findings"]] == ["closed"]
    # A new report failing the same parameter reopens it, and says so.
    response = post_inspection(client, inspector, batch.id, LEAD_FAIL, report_no="XN-R-2")
    assert response.get_json()["findings_opened"] == [finding_id]
    body = client.get(f"/api/v1/batches/{batch.id}/compliance", headers=inspector).get_json()
    [finding] = body["findings"]
    assert finding["status"] == "open"
    assert [s["action"] for s in finding["steps"]] == ["opened", "action", "closed", "reopened"]
    assert finding["detail"]["evidence"] == ["XN-R-1", "XN-R-2"]


def test_findings_are_listed_by_status_and_batch_to_those_who_may_see_them(client, auth, producer_headers, make_batch):
    inspector = auth("inspector")
    first, second = make_batch(), make_batch()
    a = _open_finding(client, inspector, first.id, "XN-L-1")
    b = _open_finding(client, inspector, second.id, "XN-L-2")
    client.post(f"/api/v1/findings/{b}/actions", json={"note": "整改"}, headers=producer_headers)

    def ids(query, headers):
        response = client.get(f"/api/v1/findings{query}", headers=headers)
        assert response.status_code == 200
        return {f["id"] for f in response.get_json()["items"]}

    assert {a, b} <= ids("", inspector)
    assert a in ids("?status=open", inspector) and b not in ids("?status=open", inspector)
    assert ids(f"?batch={second.id}", inspector) == {b}
    assert ids("?status=action_recorded", producer_headers) == {b}  # the producer's own batches
    assert ids("", auth("cooperative")) == set()  # someone else's batches are not listed
    assert client.get("/api/v1/findings?status=bogus", headers=inspector).status_code == 422
    assert client.get("/api/v1/findings?bogus=1", headers=inspector).status_code == 422  # unknown filters refused
    assert (
        client.post("/api/v1/findings/9223372036854775808/close", json={"note": "x"}, headers=inspector).status_code
        == 404
    )
