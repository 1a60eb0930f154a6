"""The field app's custody, lineage and print pages: a transfer sent and answered, a split and a
transformation with their mass balance checked by the server, a held lot saying why it is refused,
and the batch's label as a page and a PDF (read back with pypdf, its QR code decoded)."""

from __future__ import annotations

import io
import shutil
import subprocess
from decimal import Decimal

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from app.batches.models import Batch
from app.custody.models import Transfer
from app.db import db
from app.lineage.models import LineageEdge
from tests.compliance.factories import new_batch, post_inspection
from tests.field.conftest import PASSWORD, csrf_from, post_form


def decide(client, transfer_id: int, verb: str, **data: str):
    token = csrf_from(client.get("/field/transfers").get_data(as_text=True))
    return client.post(f"/field/transfers/{transfer_id}/{verb}", data={"csrf_token": token, **data})


def sign_out(client) -> None:
    token = csrf_from(client.get("/field/").get_data(as_text=True))
    client.post("/logout", data={"csrf_token": token})


def test_a_transfer_sent_and_accepted_by_the_receiver(coop, signed_in, make_user):
    lot = new_batch(coop.user, "loquat")
    buyer = make_user("processor", password=PASSWORD)
    client = signed_in(coop.user)
    page = client.get(f"/field/batches/{lot.id}").get_data(as_text=True)
    assert f"/field/batches/{lot.id}/transfer" in page
    form = client.get(f"/field/batches/{lot.id}/transfer").get_data(as_text=True)
    assert buyer.organization.code in form and "接收的主体" in form
    none_picked = post_form(
        client, f"/field/batches/{lot.id}/transfer", {"to_org": "", "occurred_at": "2026-06-01T08:00"}
    )
    assert none_picked.status_code == 422 and "请选择接收的主体" in none_picked.get_data(as_text=True)
    form = {"to_org": buyer.organization.code, "occurred_at": "2026-06-01T08:00", "vehicle": "鄂L12345"}
    sent = post_form(client, f"/field/batches/{lot.id}/transfer", form)
    assert sent.status_code == 302
    transfer = db.session.scalar(select(Transfer).where(Transfer.batch_id == lot.id))
    assert transfer.status == "pending" and transfer.transport == {"vehicle": "鄂L12345"}
    assert "已发出，等待对方接收" in client.get(sent.headers["Location"]).get_data(as_text=True)
    sign_out(client)

    client = signed_in(buyer)
    incoming = client.get("/field/transfers").get_data(as_text=True)
    assert f'data-transfer="{transfer.id}"' in incoming and lot.lot_code in incoming
    done = decide(client, transfer.id, "accept")
    assert done.status_code == 302
    db.session.refresh(lot)
    assert lot.custodian_org_id == buyer.organization.id
    assert "已接收" in client.get(done.headers["Location"]).get_data(as_text=True)
    again = decide(client, transfer.id, "accept")
    assert again.status_code == 422 and 'id="transfer-error"' in again.get_data(as_text=True)


def test_a_rejection_needs_a_reason_and_leaves_custody(coop, signed_in, make_user):
    from app.custody import service as custody
    from tests.compliance.factories import actor_of

    lot = new_batch(coop.user, "loquat")
    buyer = make_user("retailer", password=PASSWORD)
    transfer = custody.create_transfer(
        actor_of(coop.user), lot.id, to_org=buyer.organization.code, occurred_at=lot.created_at
    )
    client = signed_in(buyer)
    blank = decide(client, transfer.id, "reject", reason=" ")
    assert blank.status_code == 422 and "请写明拒收的原因" in blank.get_data(as_text=True)
    done = decide(client, transfer.id, "reject", reason="果子磕伤")
    assert done.status_code == 302
    db.session.refresh(lot)
    assert lot.custodian_org_id == coop.org.id
    assert db.session.get(Transfer, transfer.id).reason == "果子磕伤"


def test_a_split_in_jin_shows_the_balance_and_is_checked_again(coop, signed_in):
    lot = new_batch(coop.user, "loquat")  # 100 kg = 200 斤
    client = signed_in(coop.user)
    page = client.get(f"/field/batches/{lot.id}/split").get_data(as_text=True)
    assert "本批次剩余 200 斤" in page and 'id="balance"' in page and "物料平衡" in page
    over = post_form(client, f"/field/batches/{lot.id}/split", {"unit": "斤", "part-0": "150", "part-1": "60"})
    assert over.status_code == 422
    text = over.get_data(as_text=True)
    assert "分出的总量超过本批次剩余的 200 斤" in text and "210 斤" in text
    assert db.session.scalar(select(LineageEdge).where(LineageEdge.input_batch_id == lot.id)) is None
    done = post_form(client, f"/field/batches/{lot.id}/split", {"unit": "斤", "part-0": "120", "part-1": "30"})
    assert done.status_code == 302
    children = db.session.scalars(select(LineageEdge).where(LineageEdge.input_batch_id == lot.id)).all()
    assert sorted(Decimal(e.quantity) for e in children) == [Decimal(15), Decimal(60)]
    assert "已分批" in client.get(done.headers["Location"]).get_data(as_text=True)


def test_a_split_in_english(coop, signed_in):
    lot = new_batch(coop.user, "loquat")
    client = signed_in(coop.user)
    over = post_form(client, f"/field/batches/{lot.id}/split?lang=en", {"unit": "公斤", "part-0": "101"})
    assert over.status_code == 422
    assert "more than the" in over.get_data(as_text=True).lower() or "exceeds" in over.get_data(as_text=True).lower()


def test_a_transformation_shows_the_loss(coop, signed_in):
    lot = new_batch(coop.user, "loquat")
    client = signed_in(coop.user)
    bad = post_form(client, f"/field/batches/{lot.id}/transform",
                    {"taken": "100", "unit": "斤", "product": "loquat", "made": "x", "made_unit": "斤"})  # fmt: skip
    assert bad.status_code == 422 and "请填写数字" in bad.get_data(as_text=True)
    done = post_form(client, f"/field/batches/{lot.id}/transform",
                     {"taken": "100", "unit": "斤", "product": "loquat", "made": "40", "made_unit": "公斤",
                      "lot_code": "JAM-0001"})  # fmt: skip
    assert done.status_code == 302, done.get_data(as_text=True)
    made = db.session.scalar(select(Batch).where(Batch.lot_code == "JAM-0001"))
    assert (made.quantity, made.unit) == (Decimal(40), "kg")
    edge = db.session.scalar(select(LineageEdge).where(LineageEdge.output_batch_id == made.id))
    assert Decimal(edge.quantity) == Decimal(50)  # 100 斤 taken


def test_the_server_balance_in_the_farmers_unit(coop, signed_in):
    from app.field import custody_pages
    from app.units import QUANTITY_UNITS

    lot = new_batch(coop.user, "loquat")
    with signed_in(coop.user).application.test_request_context():
        balance = custody_pages.transform_balance(
            lot, Decimal(100), QUANTITY_UNITS["斤"], Decimal(40), QUANTITY_UNITS["公斤"]
        )
        assert (balance.inputs, balance.outputs, balance.loss, balance.stays) == (100, 80, 20, 100)
        oil = custody_pages.transform_balance(lot, Decimal(100), QUANTITY_UNITS["斤"], Decimal(5), QUANTITY_UNITS["升"])
        assert oil.outputs is None and oil.loss is None and oil.texts()["loss"] == "—"


def test_a_held_lot_says_why_it_cannot_move(coop, signed_in, client, auth):
    lot = new_batch(coop.user, "loquat")
    post_inspection(client, auth("inspector"), lot.id, [{"parameter": "lead", "value": "2", "unit": "mg/kg"}])
    field = signed_in(coop.user)
    for page in ("transfer", "split", "transform"):
        text = field.get(f"/field/batches/{lot.id}/{page}").get_data(as_text=True)
        assert 'id="held"' in text and "不能转交、分批或加工" in text and lot.lot_code in text, page
        assert '<form method="post" action="/field/batches' not in text
    refused = post_form(field, f"/field/batches/{lot.id}/split", {"unit": "斤", "part-0": "10"})
    assert refused.status_code == 422 and "已暂停" in refused.get_data(as_text=True)


def test_the_label_page_and_pdf(app, coop, signed_in, tmp_path):
    lot = new_batch(coop.user, "loquat")
    client = signed_in(coop.user)
    page = client.get(f"/field/batches/{lot.id}/label").get_data(as_text=True)
    assert lot.lot_code in page and "通山枇杷" in page and "<svg" in page and "@media print" in page
    printed = client.get(f"/field/batches/{lot.id}/label.pdf")
    assert printed.status_code == 200 and printed.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(printed.data))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text().replace(" ", "")
    assert lot.lot_code in text and "通山枇杷" in text
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (70, 50)
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) renders the PDF; CI installs it")
    (tmp_path / "label.pdf").write_bytes(printed.data)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "300", "-singlefile", tmp_path / "label.pdf", tmp_path / "label"], check=True
    )
    codes = zxingcpp.read_barcodes(Image.open(tmp_path / "label.png"))
    assert [c.text for c in codes] == [f"{app.config['PUBLIC_BASE_URL']}/t/{lot.public_code}"]


def test_another_farms_lot_has_no_label(coop, signed_in, make_user):
    other = new_batch(make_user("farmer"), "loquat")
    client = signed_in(coop.user)
    assert client.get(f"/field/batches/{other.id}/label").status_code == 404
    assert client.get(f"/field/batches/{other.id}/label.pdf").status_code == 404
