"""The 承诺达标合格证: issued per batch, chained, printed with a QR code that opens the batch's page,
named by the lots split from it, and recorded by the next holder."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
from decimal import Decimal

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import func, select

from app.batches.models import Event
from app.commitments import service as commitments
from app.commitments.models import CommitmentCertificate
from app.custody import service as custody
from app.db import db
from app.lineage import service as lineage
from tests.compliance.factories import actor_of, new_batch, post_inspection
from tests.conftest import settle

MOMENT = dt.datetime(2026, 6, 2, 9, tzinfo=dt.UTC)


def _issue(client, headers, batch_id, **body):
    payload = {"contact": "0715-8123456", "basis": "quality_control", **body}
    return client.post(f"/api/v1/batches/{batch_id}/commitment-certificates", json=payload, headers=headers)


@pytest.fixture
def grower(make_user):
    return make_user("cooperative")


def test_a_grower_issues_the_certificate_and_it_enters_the_chain(client, grower, auth):
    lot = new_batch(grower, "loquat")
    response = _issue(client, auth(user=grower), lot.id)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert re.fullmatch(r"HG\d{8}[0-9A-HJKMNP-TV-Z]{6}", body["number"])
    assert body["lot_code"] == lot.lot_code and body["issuer"] == grower.organization.code
    assert body["quantity"] == "100.000" and body["unit"] == "kg" and body["basis"] == "quality_control"
    assert body["commitments"] == list(commitments.COMMITMENTS) and body["came_from"] == []
    record = db.session.scalar(select(Event).where(Event.batch_id == lot.id, Event.stage == "certificate_issued"))
    assert record.data["number"] == body["number"] and record.data["contact"] == "0715-8123456"
    inspector = auth("inspector")
    assert client.get(f"/api/v1/batches/{lot.id}/verify", headers=inspector).get_json()["valid"] is True
    fetched = client.get(f"/api/v1/commitment-certificates/{body['id']}", headers=inspector)
    assert fetched.status_code == 200 and fetched.get_json()["number"] == body["number"]
    again = _issue(client, auth(user=grower), lot.id)
    assert again.status_code == 409  # one per batch


def test_bad_input_names_the_field_and_changes_nothing(client, grower, auth):
    lot = new_batch(grower, "loquat")
    headers = auth(user=grower)
    no_report = _issue(client, headers, lot.id, basis="commissioned")
    assert no_report.status_code == 422 and list(no_report.get_json()["errors"]["json"]) == ["report_no"]
    unknown = _issue(client, headers, lot.id, basis="commissioned", report_no="XN-NOPE")
    assert unknown.status_code == 422 and "XN-NOPE" in unknown.get_json()["errors"]["json"]["report_no"][0]
    too_much = _issue(client, headers, lot.id, quantity="101")
    assert too_much.status_code == 422 and "quantity" in too_much.get_json()["errors"]["json"]
    bad_basis = _issue(client, headers, lot.id, basis="trust_me")
    assert bad_basis.status_code == 422 and "basis" in bad_basis.get_json()["errors"]["json"]
    assert db.session.scalar(select(func.count(CommitmentCertificate.id))) == 0
    assert db.session.scalar(select(func.count(Event.id)).where(Event.batch_id == lot.id)) == 1  # created only


def test_a_commissioned_test_names_a_report_of_this_batch(client, grower, auth):
    lot = new_batch(grower, "loquat")
    lead = [{"parameter": "lead", "value": "0.02", "unit": "mg/kg"}]
    tested = post_inspection(client, auth("inspector"), lot.id, lead, report_no="XN-HG-1")
    assert tested.status_code == 201
    response = _issue(client, auth(user=grower), lot.id, basis="commissioned", report_no="XN-HG-1")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["report_no"] == "XN-HG-1"


def test_a_failed_lot_gets_no_certificate(client, make_user, auth):
    maker = make_user("processor")
    lot = new_batch(maker, "brick_tea")
    assert post_inspection(client, auth("inspector"), lot.id, [{"parameter": "lead", "value": "8", "unit": "mg/kg"}])
    refused = _issue(client, auth(user=maker), lot.id)
    assert refused.status_code == 409 and "on hold" in refused.get_json()["message"]


def test_only_the_custodian_issues(client, grower, make_user, auth):
    lot = new_batch(grower, "loquat")
    assert _issue(client, auth(user=make_user("processor")), lot.id).status_code == 404  # not its to read
    assert _issue(client, auth("inspector"), lot.id).status_code == 403


def _pdf_image(data: bytes, folder) -> Image.Image:
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) renders the PDF; CI installs it")
    (folder / "label.pdf").write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "300", "-singlefile", folder / "label.pdf", folder / "label"], check=True)
    return Image.open(folder / "label.png")


def test_the_printed_certificate_says_what_it_is_and_its_qr_code_opens_the_page(app, client, grower, auth, tmp_path):
    lot = new_batch(grower, "loquat")
    certificate = _issue(client, auth(user=grower), lot.id).get_json()
    response = client.get(f"/api/v1/commitment-certificates/{certificate['id']}.pdf", headers=auth(user=grower))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    for expected in ("承诺达标合格证", certificate["number"], "通山枇杷", "0715-8123456", "常规农药兽药残留不超标",
                     "质量安全控制", lot.lot_code):  # fmt: skip
        assert expected in text.replace(" ", ""), expected
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (100, 70)  # a 100 × 70 mm label
    codes = zxingcpp.read_barcodes(_pdf_image(response.data, tmp_path))
    assert [c.text for c in codes] == [f"{app.config['PUBLIC_BASE_URL']}/t/{lot.public_code}"]
    # Set in the embedded TrueType face (CI installs it), not a font the phone's viewer must have.
    fonts = subprocess.run(["pdffonts", tmp_path / "label.pdf"], capture_output=True, text=True, check=True).stdout
    assert [line.split()[-5] for line in fonts.splitlines() if "WenQuanYiZenHei" in line] == ["yes"], fonts


def test_a_lot_split_from_a_certified_lot_names_its_certificate(client, grower, auth):
    lot = new_batch(grower, "loquat")
    parent = _issue(client, auth(user=grower), lot.id).get_json()
    split = lineage.split_batch(actor_of(grower), lot.id, parts=[Decimal("40")], occurred_at=MOMENT)
    settle()
    [child] = split.outputs
    response = _issue(client, auth(user=grower), child.id, quantity="40")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["came_from"] == [parent["number"]]


def test_the_next_holder_records_the_certificate_it_received(client, grower, make_org, make_user, auth):
    lot = new_batch(grower, "loquat")
    certificate = _issue(client, auth(user=grower), lot.id).get_json()
    receipts = f"/api/v1/commitment-certificates/{certificate['id']}/receipts"
    assert client.post(receipts, headers=auth(user=grower)).status_code == 409  # the issuer does not receive
    buyer = make_user("retailer")
    transfer = custody.create_transfer(actor_of(grower), lot.id, to_org=buyer.organization.code, occurred_at=MOMENT)
    assert client.post(receipts, headers=auth(user=buyer)).status_code == 403  # not yet its lot
    custody.accept_transfer(actor_of(buyer), transfer.id, occurred_at=MOMENT)
    settle()
    received = client.post(receipts, headers=auth(user=buyer))
    assert received.status_code == 201, received.get_json()
    assert received.get_json()["number"] == certificate["number"]
    assert received.get_json()["received_by"] == buyer.organization.code
    assert client.post(receipts, headers=auth(user=buyer)).status_code == 409  # once


def test_fruit_vegetables_and_fresh_tea_leaf_must_carry_one(grower, make_user):
    assert commitments.required_for(new_batch(grower, "loquat"))
    assert commitments.required_for(new_batch(grower, "lotus_root"))
    assert not commitments.required_for(new_batch(make_user("processor"), "camellia_oil"))
