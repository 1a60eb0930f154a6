"""The resolver's every answer: the page (200), 307, 404, 410, 301, the linkset (validated), /u/, /t/ and scans."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import jsonschema
import pytest
from sqlalchemy import select

from app.auth import Actor
from app.db import db
from app.labels.models import Scan, UnitFlag
from app.recalls import service as recalls
from tests.conftest import PUBLIC_BASE_URL, settle
from tests.labels.conftest import GTIN13, GTIN14

SCHEMA = json.loads((Path(__file__).parent / "data" / "linkset-schema.json").read_text())


def make_units(client, labelled, count=3):
    body = client.post(f"/api/v1/batches/{labelled.batch.id}/label-runs", json={"count": count, "template": "zpl"},
                       headers=labelled.headers).get_json()  # fmt: skip
    rows = client.get(f"/api/v1/label-runs/{body['id']}/units.csv", headers=labelled.headers).data.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(rows)))


def path_of(uri: str) -> str:
    assert uri.startswith(PUBLIC_BASE_URL)
    return uri[len(PUBLIC_BASE_URL) :]


def varies(response) -> None:
    assert {"Accept", "Accept-Language"} <= set(response.vary), response.headers.get("Vary")


@pytest.fixture
def unit(client, labelled):
    return make_units(client, labelled)[0]


def test_a_browser_gets_the_consumer_page_with_the_units_box_and_the_scan_is_logged(client, labelled, unit):
    response = client.get(path_of(unit["uri"]), headers={"User-Agent": "Mozilla/5.0 (iPhone) MicroMessenger/8.0"},
                          environ_base={"REMOTE_ADDR": "203.0.113.77"})  # fmt: skip
    assert response.status_code == 200
    varies(response)
    html = response.get_data(as_text=True)
    assert labelled.batch.lot_code in html and "赤壁青砖茶" in html
    assert unit["serial"] in html and "验证真伪" in html and 'id="verify-form"' in html
    assert "此码尚未被验证过" in html
    assert "正品" not in html  # genuine only after a correct PIN
    [scan] = db.session.scalars(select(Scan).where(Scan.batch_id == labelled.batch.id))
    assert (scan.net_prefix, scan.browser, scan.wechat, scan.city) == ("203.0.113.0/24", "wechat", True, None)


def test_the_lot_uri_gets_the_lots_page(client, labelled):
    response = client.get(f"/01/{GTIN14}/10/{labelled.batch.lot_code}")
    assert response.status_code == 200
    assert labelled.batch.lot_code in response.get_data(as_text=True)
    assert 'id="unit"' not in response.get_data(as_text=True)


@pytest.mark.parametrize("how", ["query", "accept"])
def test_the_linkset_validates_against_the_schema(client, labelled, unit, how):
    accept = {"headers": {"Accept": "application/linkset+json"}}
    kwargs = {"query_string": {"linkType": "all"}} if how == "query" else accept
    response = client.get(path_of(unit["uri"]), **kwargs)
    assert response.status_code == 200
    assert response.mimetype == "application/linkset+json"
    varies(response)
    body = response.get_json(force=True)
    jsonschema.validate(body, SCHEMA)
    [context] = body["linkset"]
    assert context["anchor"] == unit["uri"]
    rels = {k.removeprefix("https://gs1.org/voc/") for k in context if k.startswith("https://")}
    assert rels == {"pip", "certificationInfo", "traceability", "defaultLink"}
    assert context["https://gs1.org/voc/pip"][0]["href"] == f"{PUBLIC_BASE_URL}/t/{labelled.batch.public_code}"
    # A linkset read is not a scan of the page.
    assert db.session.scalars(select(Scan).where(Scan.batch_id == labelled.batch.id)).all() == []


def test_the_schema_refuses_a_broken_linkset():
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"linkset": [{"anchor": "https://x.cn/01/1", "https://gs1.org/voc/pip": [{"href": "x"}]}]},
                            SCHEMA)  # fmt: skip


def test_a_known_link_type_is_a_307_and_an_unknown_one_a_404_in_the_error_shape(client, labelled, unit):
    found = client.get(path_of(unit["uri"]), query_string={"linkType": "gs1:traceability"})
    assert found.status_code == 307
    assert found.headers["Location"] == f"{PUBLIC_BASE_URL}/api/v1/public/{labelled.batch.public_code}"
    varies(found)
    missing = client.get(path_of(unit["uri"]), query_string={"linkType": "gs1:smartLabel"})
    assert missing.status_code == 404
    body = missing.get_json()
    assert (body["code"], body["status"]) == (404, "Not Found") and "gs1:smartLabel" in body["message"]
    # recallStatus is a known type, but only for a recalled lot.
    assert client.get(path_of(unit["uri"]), query_string={"linkType": "gs1:recallStatus"}).status_code == 404


def test_a_voided_serial_is_a_410_page_and_its_scan_raises_a_flag(client, labelled, unit):
    client.post(f"/api/v1/units/{unit['serial']}/void", json={"reason": "印错"}, headers=labelled.headers)
    response = client.get(path_of(unit["uri"]))
    assert response.status_code == 410
    assert "此码已作废" in response.get_data(as_text=True)
    [flag] = db.session.scalars(select(UnitFlag).where(UnitFlag.batch_id == labelled.batch.id))
    assert flag.rule == "voided_scan" and flag.detail["reason"] == "印错"


def test_a_recalled_lot_is_still_200_with_its_notice_and_its_recall_status_link(client, labelled, unit, make_user):
    inspector = make_user("inspector")
    recalls.open_recall(Actor(user=inspector, org=inspector.organization), batch_id=labelled.batch.id,
                        reason="铅含量超标", severity="II")  # fmt: skip
    settle()
    page = client.get(path_of(unit["uri"]))
    assert page.status_code == 200
    assert 'id="recall"' in page.get_data(as_text=True) and "铅含量超标" in page.get_data(as_text=True)
    body = client.get(path_of(unit["uri"]), query_string={"linkType": "all"}).get_json(force=True)
    jsonschema.validate(body, SCHEMA)
    assert body["linkset"][0]["https://gs1.org/voc/recallStatus"][0]["href"].endswith("#recall")
    assert client.get(path_of(unit["uri"]), query_string={"linkType": "gs1:recallStatus"}).status_code == 307


def test_short_gtin_forms_redirect_permanently_to_gtin14(client, labelled, unit):
    long_path = path_of(unit["uri"])
    short = long_path.replace(f"/01/{GTIN14}/", f"/01/{GTIN13}/")
    response = client.get(short, query_string={"linkType": "all"})
    assert response.status_code == 301
    assert response.headers["Location"].endswith(long_path + "?linkType=all")


@pytest.mark.parametrize(
    "bad",
    [
        "/01/{g}/21/{s}/10/{lot}",  # qualifiers out of order
        "/01/06901234567893/10/{lot}/21/{s}",  # wrong check digit
        "/01/{g}/10/OTHER-LOT/21/{s}",  # not this serial's lot
        "/01/{g}/10/{lot}/21/0000000000000000",  # no such serial
        "/01/{g}",  # a GTIN alone names no lot here
    ],
)
def test_what_the_resolver_does_not_know_is_a_404(client, labelled, unit, bad):
    path = bad.format(g=GTIN14, s=unit["serial"], lot=labelled.batch.lot_code)
    assert client.get(path).status_code == 404


def test_u_serial_for_a_batch_without_gtin_and_t_links_keep_working(client, make_labelled):
    labelled = make_labelled(gtin=None)
    unit = make_units(client, labelled, 1)[0]
    assert unit["uri"] == f"{PUBLIC_BASE_URL}/u/{unit['serial']}"
    page = client.get(f"/u/{unit['serial'].lower()}")  # read as Crockford: case does not matter
    assert page.status_code == 200 and unit["serial"] in page.get_data(as_text=True)
    assert client.get("/u/ZZZZZZZZZZZZZZZZ").status_code == 404
    assert client.get(f"/t/{labelled.batch.public_code}").status_code == 200


def test_language_negotiation_honours_q_values(client, unit):
    english = client.get(path_of(unit["uri"]), headers={"Accept-Language": "zh;q=0.3, en;q=0.9"})
    chinese = client.get(path_of(unit["uri"]), headers={"Accept-Language": "en;q=0.4, zh-CN;q=0.8"})
    assert '<html lang="en">' in english.get_data(as_text=True)
    assert '<html lang="zh-CN">' in chinese.get_data(as_text=True)


def test_the_well_known_document_describes_the_resolver(client):
    body = client.get("/.well-known/gs1resolver").get_json()
    assert body["resolverRoot"] == PUBLIC_BASE_URL
    assert body["supportedPrimaryKeys"] == ["01"]
    assert body["supportedLinkType"][0]["prefix"] == "gs1:"
