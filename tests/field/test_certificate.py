"""The field app's 承诺达标合格证: a cooperative issues one from its phone, prints it, and the buyer
confirms it; a held lot says why it is stopped."""

from __future__ import annotations

import datetime as dt
import io

from pypdf import PdfReader
from sqlalchemy import func, select

from app.commitments.models import CommitmentCertificate
from app.custody import service as custody
from app.db import db
from tests.compliance.factories import actor_of, new_batch, post_inspection
from tests.conftest import settle
from tests.field.conftest import PASSWORD, csrf_from, post_form

MOMENT = dt.datetime(2026, 6, 2, 9, tzinfo=dt.UTC)


def test_a_cooperative_issues_and_prints_the_certificate(coop, signed_in):
    lot = new_batch(coop.user, "loquat")
    client = signed_in(coop.user)
    page = client.get(f"/field/batches/{lot.id}").get_data(as_text=True)
    assert 'id="issue-certificate"' in page and "枇杷、莲藕和茶鲜叶上市须附承诺达标合格证" in page
    form = client.get(f"/field/batches/{lot.id}/certificate").get_data(as_text=True)
    assert "不使用禁用农药兽药、停用兽药和非法添加物" in form and "质量安全控制" in form

    refused = post_form(client, f"/field/batches/{lot.id}/certificate", {"contact": "", "basis": "quality_control"})
    assert refused.status_code == 422
    assert "请填写买方能联系到您的电话" in refused.get_data(as_text=True)
    no_report = post_form(client, f"/field/batches/{lot.id}/certificate",
                          {"contact": "13800000000", "basis": "commissioned"})  # fmt: skip
    assert no_report.status_code == 422 and "委托检测须选择本批次已登记的检测报告" in no_report.get_data(as_text=True)
    assert db.session.scalar(select(func.count(CommitmentCertificate.id))) == 0

    done = post_form(client, f"/field/batches/{lot.id}/certificate", {"contact": "13800000000", "basis": "self_tested"})
    assert done.status_code == 302
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    certificate = db.session.scalar(select(CommitmentCertificate).where(CommitmentCertificate.batch_id == lot.id))
    assert "合格证已开具" in page and certificate.number in page
    printed = client.get(f"/field/certificates/{certificate.id}.pdf")
    assert printed.status_code == 200 and printed.mimetype == "application/pdf"
    assert "承诺达标合格证" in PdfReader(io.BytesIO(printed.data)).pages[0].extract_text()


def test_the_buyer_confirms_the_certificate_it_received(coop, signed_in, make_user):
    lot = new_batch(coop.user, "loquat")
    client = signed_in(coop.user)
    post_form(client, f"/field/batches/{lot.id}/certificate", {"contact": "13800000000", "basis": "quality_control"})
    buyer = make_user("retailer", password=PASSWORD)
    transfer = custody.create_transfer(actor_of(coop.user), lot.id, to_org=buyer.organization.code, occurred_at=MOMENT)
    custody.accept_transfer(actor_of(buyer), transfer.id, occurred_at=MOMENT)
    settle()
    token = csrf_from(client.get(f"/field/batches/{lot.id}").get_data(as_text=True))
    client.post("/logout", data={"csrf_token": token})
    client = signed_in(buyer)
    page = client.get(f"/field/batches/{lot.id}").get_data(as_text=True)
    assert "确认已收到此合格证" in page
    certificate = db.session.scalar(select(CommitmentCertificate).where(CommitmentCertificate.batch_id == lot.id))
    # The confirmation is a button on the batch page.
    confirmed = client.post(f"/field/certificates/{certificate.id}/receipt", data={"csrf_token": csrf_from(page)})
    assert confirmed.status_code == 302
    page = client.get(confirmed.headers["Location"]).get_data(as_text=True)
    assert "已确认收到合格证" in page and "确认已收到此合格证" not in page


def test_a_held_lot_says_why_it_is_stopped_and_offers_only_storage(coop, signed_in, client, auth):
    lot = new_batch(coop.user, "loquat")
    assert post_inspection(client, auth("inspector"), lot.id, [{"parameter": "lead", "value": "2", "unit": "mg/kg"}])
    page = signed_in(coop.user).get(f"/field/batches/{lot.id}").get_data(as_text=True)
    assert 'id="on-hold"' in page and "等待监管部门处置" in page
    assert 'id="issue-certificate"' not in page
    assert f"/field/batches/{lot.id}/stages/storage" in page
    assert f"/field/batches/{lot.id}/stages/sale" not in page
