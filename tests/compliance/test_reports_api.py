"""Report types, sampling records (抽样单), labs and their CMA scope, report numbers per lab and
re-tests (复检), through the API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.batches.models import Batch, Event
from app.compliance import report_types
from app.compliance.models import Finding, Inspection
from app.db import db
from app.lineage import service as lineage
from tests.compliance.factories import actor_of, inspection_body, new_batch
from tests.conftest import settle, valid_credit_code

LEAD_FAIL = [{"parameter": "lead", "value": "8", "unit": "mg/kg", "method": "GB 5009.12-2023"}]
LEAD_PASS = [{"parameter": "lead", "value": "0.5", "unit": "mg/kg", "method": "GB 5009.12-2023"}]
SAMPLED = "2026-06-01T09:00:00+08:00"


@pytest.fixture
def make_lab(make_org):
    def make(
        name="湖北省农产品质量检测中心", scope=("lead", "fluoride", "pesticide.*"), valid_to=dt.date(2029, 12, 31)
    ):
        return make_org(
            kind="lab", name=name, cma_no=f"示例{name[:2]}CMA", cma_valid_from=dt.date(2023, 1, 1),
            cma_valid_to=valid_to, cma_parameters=list(scope),
        )  # fmt: skip

    return make


def sampling(**overrides):
    values = {
        "number": "XN-CY-2026-0042",
        "task_source": "咸宁市市场监督管理局2026年食用农产品监督抽检计划",
        "stage": "production",
        "place": "赤壁市赵李桥镇 茶厂成品库",
        "sampled_org_name": "赤壁市示例茶厂",
        "sample_lot": "QB20260528",
        "production_date": "2026-05-28",
        "sampling_base": "500 kg",
        "quantity": "2 kg",
        "samplers": ["王建国", "李秀英"],
        "backup_sealed": True,
    }
    values.update(overrides)
    return values


def post(client, headers, batch_id, results, **kw):
    extra = {k: kw.pop(k) for k in list(kw) if k not in ("sampled_at", "tested_at", "report_no", "lab")}
    body = {**inspection_body(results, **kw), **extra}
    if "lab_org_id" in extra:
        body.pop("lab")
    return client.post(f"/api/v1/batches/{batch_id}/inspections", json=body, headers=headers)


def compliance(client, headers, batch_id, lang="zh"):
    response = client.get(f"/api/v1/batches/{batch_id}/compliance?lang={lang}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_request_without_a_type_is_a_commissioned_report_as_before(client, inspector_headers, make_batch):
    batch = make_batch()
    response = post(client, inspector_headers, batch.id, [{"parameter": "lead", "value": "1", "unit": "mg/kg"}])
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["type"], body["type_name"], body["sampling"], body["lab_org"]) == (
        "commissioned",
        "委托检验",
        None,
        None,
    )
    assert (body["flags"], body["retest_of"], body["superseded"], body["warnings"]) == ([], None, False, [])
    [report] = compliance(client, inspector_headers, batch.id, "en")["inspections"]
    assert (report["type"], report["type_name"]) == ("commissioned", "Commissioned test")
    # Its chained record is what it always was.
    event = db.session.scalar(select(Event).where(Event.batch_id == batch.id, Event.stage == "inspection"))
    assert set(event.data) == {"report_no", "lab", "sampled_at", "tested_at", "results"}


def test_a_typed_report_gives_each_results_method_and_a_supervision_its_sampling_record(
    client, inspector_headers, make_batch
):
    batch = make_batch()
    no_method = post(client, inspector_headers, batch.id, [{"parameter": "lead", "value": "1", "unit": "mg/kg"}],
                     type="self_check")  # fmt: skip
    assert no_method.status_code == 422
    assert "method" in no_method.get_json()["errors"]["json"]["results"]["0"]
    no_sampling = post(client, inspector_headers, batch.id, LEAD_PASS, type="supervision")
    assert no_sampling.status_code == 422 and "sampling" in no_sampling.get_json()["errors"]["json"]
    one_sampler = post(client, inspector_headers, batch.id, LEAD_PASS, type="supervision",
                       sampling=sampling(samplers=["王建国"]))  # fmt: skip
    assert one_sampler.status_code == 422 and "samplers" in one_sampler.get_json()["errors"]["json"]["sampling"]
    bad_stage = post(client, inspector_headers, batch.id, LEAD_PASS, type="supervision",
                     sampling=sampling(stage="market"))  # fmt: skip
    assert bad_stage.status_code == 422
    assert db.session.scalar(select(Inspection.id).where(Inspection.batch_id == batch.id)) is None
    producer_org = batch.producer_org_id
    ok = post(client, inspector_headers, batch.id, LEAD_PASS, type="supervision",
              sampling=sampling(sampled_org_id=producer_org, sampled_org_name=None))  # fmt: skip
    assert ok.status_code == 201, ok.get_json()
    [report] = compliance(client, inspector_headers, batch.id)["inspections"]
    assert (report["type"], report["type_name"]) == ("supervision", "监督抽检")
    record = report["sampling"]
    assert record["number"] == "XN-CY-2026-0042" and record["stage"] == "production"
    assert record["stage_name"] == "生产" and record["samplers"] == ["王建国", "李秀英"]
    assert record["sampled_org"] == db.session.get(Batch, batch.id).producer.name
    assert (record["sample_lot"], record["production_date"], record["backup_sealed"]) == (
        "QB20260528",
        "2026-05-28",
        True,
    )
    assert (record["sampling_base"], record["quantity"]) == ("500 kg", "2 kg")
    # The sampling record is in the chain with the report.
    event = db.session.scalar(select(Event).where(Event.batch_id == batch.id, Event.stage == "inspection"))
    assert event.data["type"] == "supervision" and event.data["sampling"]["number"] == "XN-CY-2026-0042"
    assert client.get(f"/api/v1/batches/{batch.id}/verify", headers=inspector_headers).get_json()["valid"] is True


def test_a_rapid_test_gives_no_verdict_and_a_positive_one_asks_for_a_laboratory_test(
    client, inspector_headers, make_batch
):
    untested = make_batch()
    baseline = compliance(client, inspector_headers, untested.id)["verdict"]
    negative_lot = make_batch()
    negative = [{"parameter": "pesticide.carbendazim", "not_detected": True, "lod": "0.5", "unit": "mg/kg",
                 "method": "GB/T 5009.199-2003"}]  # fmt: skip
    assert post(client, inspector_headers, negative_lot.id, negative, type="rapid").status_code == 201
    body = compliance(client, inspector_headers, negative_lot.id)
    assert body["verdict"] == baseline and body["verdict"] not in ("pass", "fail")
    assert body["inspections"][0]["type_name"] == "快检" and body["findings"] == []
    positive_lot = make_batch()
    positive = [{"parameter": "pesticide.carbendazim", "value": "60", "unit": "%", "method": "GB/T 5009.199-2003"}]
    response = post(client, inspector_headers, positive_lot.id, positive, type="rapid")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["verdict"] not in ("pass", "fail")
    body = compliance(client, inspector_headers, positive_lot.id)
    assert body["verdict"] == baseline
    [finding] = body["findings"]
    assert finding["kind"] == "lab_test_needed" and finding["detail"]["parameter"] == "pesticide.carbendazim"
    assert response.get_json()["findings_opened"] == [finding["id"]]
    assert not any(r["report_no"] == response.get_json()["report_no"] for r in body["rows"])
    # A 快检 is not laboratory evidence: the lot is not held.
    assert db.session.get(Batch, positive_lot.id).status == "active"


def test_results_outside_the_labs_scope_or_after_its_cma_expired_are_flagged(
    client, inspector_headers, make_batch, make_lab
):
    batch = make_batch()
    lab = make_lab(scope=("fluoride",))
    response = post(client, inspector_headers, batch.id, LEAD_PASS, type="commissioned", lab_org_id=lab.id)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["lab"] == lab.name
    [flag] = response.get_json()["flags"]
    assert (flag["code"], flag["parameter"]) == ("out_of_scope", "lead")
    assert "CMA" in flag["message"] and lab.name in flag["message"]
    body = compliance(client, inspector_headers, batch.id, "en")
    [report] = body["inspections"]
    assert report["lab_org"]["cma_no"] == lab.cma_no and report["lab_org"]["cma_valid_to"] == "2029-12-31"
    [flag] = report["flags"]
    assert flag["code"] == "out_of_scope" and "not within" in flag["message"]
    assert any("out_of_scope" in reason for reason in body["reasons"])

    expired_lab = make_lab(name="咸宁示例检测有限公司", valid_to=dt.date(2026, 5, 31))
    other = make_batch()
    response = post(client, inspector_headers, other.id, LEAD_PASS, type="commissioned", lab_org_id=expired_lab.id)
    assert response.status_code == 201
    [flag] = compliance(client, inspector_headers, other.id)["inspections"][0]["flags"]
    assert (flag["code"], flag["parameter"]) == ("cma_expired", "lead") and "2026-05-31" in flag["message"]


def test_report_numbers_are_unique_per_lab_not_per_batch(client, inspector_headers, make_batch, make_lab):
    first, second = make_batch(), make_batch()
    lab, other_lab = make_lab(), make_lab(name="武汉示例检测中心")
    kw = {"type": "commissioned", "report_no": "WT-2026-001"}
    assert post(client, inspector_headers, first.id, LEAD_PASS, lab_org_id=lab.id, **kw).status_code == 201
    again = post(client, inspector_headers, second.id, LEAD_PASS, lab_org_id=lab.id, **kw)
    assert again.status_code == 409 and "report_no" in again.get_json()["errors"]["json"]
    assert post(client, inspector_headers, second.id, LEAD_PASS, lab_org_id=other_lab.id, **kw).status_code == 201
    # Reports naming their lab in free text only: unique per that text.
    text = {"report_no": "FREE-001", "lab": "某县检测站"}
    assert post(client, inspector_headers, first.id, LEAD_PASS, **text).status_code == 201
    assert post(client, inspector_headers, second.id, LEAD_PASS, **text).status_code == 409
    assert (
        post(client, inspector_headers, second.id, LEAD_PASS, report_no="FREE-001", lab="另一检测站").status_code == 201
    )


def test_only_a_lab_is_a_reports_lab_organization(client, inspector_headers, make_batch, make_org):
    farm = make_org(kind="cooperative")
    response = post(client, inspector_headers, make_batch().id, LEAD_PASS, type="commissioned", lab_org_id=farm.id)
    assert response.status_code == 422 and "lab_org_id" in response.get_json()["errors"]["json"]


def test_the_retest_window_is_seven_working_days_and_a_late_request_is_accepted_with_a_warning(
    client, inspector_headers, make_batch, make_lab
):
    # 2026-06-01 is a Monday; 端午节 2026-06-19 is a holiday. Seven working days: 06-10.
    assert report_types.retest_deadline(dt.date(2026, 6, 1)) == dt.date(2026, 6, 10)
    assert report_types.retest_deadline(dt.date(2026, 6, 15)) == dt.date(2026, 6, 25)  # skips 06-19
    first_lab, second_lab = make_lab(), make_lab(name="武汉示例检测中心")
    for requested, warned in (("2026-06-10T17:00:00+08:00", False), ("2026-06-11T09:00:00+08:00", True)):
        batch = make_batch()
        first = post(client, inspector_headers, batch.id, LEAD_FAIL, type="commissioned", lab_org_id=first_lab.id,
                     notified_at="2026-06-01T15:00:00+08:00")  # fmt: skip
        assert first.status_code == 201, first.get_json()
        retest = post(client, inspector_headers, batch.id, LEAD_PASS, type="commissioned", lab_org_id=second_lab.id,
                      retest_of=first.get_json()["id"], requested_at=requested, sampled_at="2026-06-01T09:00:00+08:00",
                      tested_at="2026-06-12T09:00:00+08:00")  # fmt: skip
        assert retest.status_code == 201, retest.get_json()
        body = retest.get_json()
        assert body["retest_of"] == first.get_json()["id"] and body["retest_deadline"] == "2026-06-10"
        assert bool(body["warnings"]) is warned
        if warned:
            assert "2026-06-10" in body["warnings"][0]
            stored = db.session.get(Inspection, body["id"])
            assert stored.warnings == ["retest_after_window"]
            en = compliance(client, inspector_headers, batch.id, "en")
            [late] = [i for i in en["inspections"] if i["id"] == body["id"]]
            assert "after the deadline" in late["warnings"][0]


def test_a_retest_is_made_once_by_another_qualified_lab_on_a_report_of_the_same_batch(
    client, inspector_headers, make_batch, make_lab
):
    batch, elsewhere = make_batch(), make_batch()
    lab, unqualified, other = (
        make_lab(),
        make_lab(name="某示例农检站", scope=("fluoride",)),
        make_lab(name="武汉示例检测中心"),
    )
    first = post(client, inspector_headers, batch.id, LEAD_FAIL, type="commissioned", lab_org_id=lab.id).get_json()
    kw = {"type": "commissioned", "retest_of": first["id"], "requested_at": "2026-06-03T09:00:00+08:00"}
    same_lab = post(client, inspector_headers, batch.id, LEAD_PASS, lab_org_id=lab.id, **kw)
    assert same_lab.status_code == 422 and "lab_org_id" in same_lab.get_json()["errors"]["json"]
    not_qualified = post(client, inspector_headers, batch.id, LEAD_PASS, lab_org_id=unqualified.id, **kw)
    assert not_qualified.status_code == 422
    assert "parameter" in not_qualified.get_json()["errors"]["json"]["results"]["0"]
    wrong_batch = post(client, inspector_headers, elsewhere.id, LEAD_PASS, lab_org_id=other.id, **kw)
    assert wrong_batch.status_code == 422 and "retest_of" in wrong_batch.get_json()["errors"]["json"]
    ok = post(client, inspector_headers, batch.id, LEAD_PASS, lab_org_id=other.id, **kw)
    assert ok.status_code == 201, ok.get_json()
    assert "notified" in ok.get_json()["warnings"][0] or "告知" in ok.get_json()["warnings"][0]
    twice = post(client, inspector_headers, batch.id, LEAD_PASS, lab_org_id=make_lab(name="第三示例检测所").id, **kw)
    assert twice.status_code == 409


def test_a_failed_supervision_holds_the_lot_a_retest_by_another_lab_passes_and_releases_it(
    client, make_user, auth, make_lab
):
    producer = make_user("processor")
    lot = new_batch(producer, "brick_tea")
    split = lineage.split_batch(
        actor_of(producer), lot.id, parts=[Decimal("40"), Decimal("30")],
        occurred_at=dt.datetime(2026, 6, 2, 9, tzinfo=dt.UTC),
    )  # fmt: skip
    settle()
    children = [out.id for out in split.outputs]
    inspector = auth("inspector")
    first_lab, second_lab = make_lab(), make_lab(name="武汉示例检测中心")
    failed = post(client, inspector, lot.id, LEAD_FAIL, type="supervision", lab_org_id=first_lab.id,
                  sampling=sampling(), notified_at="2026-06-05T10:00:00+08:00",
                  tested_at="2026-06-04T09:00:00+08:00")  # fmt: skip
    assert failed.status_code == 201, failed.get_json()
    assert failed.get_json()["verdict"] == "fail"
    for batch_id in (lot.id, *children):
        assert db.session.get(Batch, batch_id).status == "on_hold"
    refused = client.post(f"/api/v1/batches/{lot.id}/dispositions", json={"kind": "released", "note": "复检"},
                          headers=inspector)  # fmt: skip
    assert refused.status_code == 409
    retest = post(client, inspector, lot.id, LEAD_PASS, type="commissioned", lab_org_id=second_lab.id,
                  retest_of=failed.get_json()["id"], requested_at="2026-06-08T09:00:00+08:00",
                  tested_at="2026-06-10T09:00:00+08:00")  # fmt: skip
    assert retest.status_code == 201, retest.get_json()
    # Lead was the only item tested: the lot no longer fails (the other items are still untested).
    assert retest.get_json()["verdict"] == "incomplete" and retest.get_json()["warnings"] == []
    body = compliance(client, inspector, lot.id)
    assert body["verdict"] == "incomplete"
    first, second = sorted(body["inspections"], key=lambda i: i["id"])
    assert (first["superseded"], first["sampling"]["number"], second["retest_of"]) == (
        True,
        "XN-CY-2026-0042",
        first["id"],
    )
    assert second["superseded"] is False and second["retest_deadline"] == "2026-06-16"
    [lead] = [r for r in body["rows"] if r["parameter"] == "lead"]
    assert (lead["value"], lead["report_no"], lead["verdict"]) == ("0.5", second["report_no"], "pass")
    released = client.post(f"/api/v1/batches/{lot.id}/dispositions",
                           json={"kind": "released", "note": "复检合格，解除暂停"}, headers=inspector)  # fmt: skip
    assert released.status_code == 201, released.get_json()
    for batch_id in (lot.id, *children):
        assert db.session.get(Batch, batch_id).status == "active"
    assert db.session.scalar(select(Finding.kind).where(Finding.batch_id == lot.id)) == "failed_verdict"


def test_an_administrator_sets_a_labs_cma_through_the_organizations_api(client, auth, make_org):
    admin = auth("admin")
    created = client.post("/api/v1/organizations", headers=admin, json={
        "code": "LAB-XN-01", "name": "咸宁示例检测中心", "kind": "lab", "credit_code": valid_credit_code(98765),
        "cma_no": "示例 2023170000", "cma_valid_from": "2023-01-01", "cma_valid_to": "2028-12-31",
        "cma_parameters": ["lead", "pesticide.*"],
    })  # fmt: skip
    assert created.status_code == 201, created.get_json()
    lab = created.get_json()
    assert (lab["cma_no"], lab["cma_valid_to"], lab["cma_parameters"]) == (
        "示例 2023170000",
        "2028-12-31",
        ["lead", "pesticide.*"],
    )
    patched = client.patch(f"/api/v1/organizations/{lab['id']}", headers=admin,
                           json={"cma_valid_to": "2030-12-31", "cma_parameters": ["fluoride", "lead"]})  # fmt: skip
    assert patched.status_code == 200, patched.get_json()
    assert (patched.get_json()["cma_valid_to"], patched.get_json()["cma_parameters"]) == (
        "2030-12-31",
        ["fluoride", "lead"],
    )
    backwards = client.patch(f"/api/v1/organizations/{lab['id']}", headers=admin, json={"cma_valid_to": "2020-01-01"})
    assert backwards.status_code == 422
    farm = make_org(kind="cooperative")
    not_a_lab = client.patch(f"/api/v1/organizations/{farm.id}", headers=admin, json={"cma_no": "X"})
    assert not_a_lab.status_code == 422 and "cma_no" in not_a_lab.get_json()["errors"]["json"]
    assert (
        client.patch(f"/api/v1/organizations/{farm.id}", headers=auth("inspector"), json={"name": "x"}).status_code
        == 403
    )
