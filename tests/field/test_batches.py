"""My batches, and creating a batch in the farmer's units."""

from __future__ import annotations

import gzip
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from app.auth import Actor
from app.batches import service as batches
from app.batches.models import Batch
from app.db import db
from app.field.models import EnteredQuantity
from tests.field.conftest import form_token, post_form


def _create(client, **fields):
    return post_form(client, "/field/batches/new", fields)


def _batches():
    return db.session.scalar(select(func.count(Batch.id)))


def test_a_cooperative_logs_a_batch_for_a_member_in_jin(signed_in, coop):
    client = signed_in(coop.user)
    form = client.get("/field/batches/new").get_data(as_text=True)
    assert "通山枇杷" in form and "斤" in form and "农户王" in form and "王家枇杷园" in form
    response = _create(
        client,
        product="loquat",
        quantity="200",
        unit="斤",
        producer=coop.members[0].code,
        site=str(coop.member_site.id),
    )
    assert response.status_code == 302
    batch = db.session.scalar(select(Batch).order_by(Batch.id.desc()))
    assert (batch.quantity, batch.unit) == (Decimal("100.000"), "kg")
    assert batch.producer_org_id == coop.members[0].id and batch.custodian_org_id == coop.org.id
    assert batch.site_id == coop.member_site.id
    entered = db.session.scalar(select(EnteredQuantity).where(EnteredQuantity.batch_id == batch.id))
    assert (entered.quantity, entered.unit, entered.event_id) == (Decimal("200.000"), "斤", None)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert batch.lot_code in page and "200 斤" in page and "100 公斤" in page and "批次已创建" in page


def test_tonnes_and_seedlings_convert_exactly(signed_in, coop):
    client = signed_in(coop.user)
    assert _create(client, product="brick_tea", quantity="1.25", unit="吨").status_code == 302
    assert _create(client, product="loquat", quantity="300", unit="株").status_code == 302
    tea, seedlings = db.session.scalars(select(Batch).order_by(Batch.id.desc()).limit(2)).all()[::-1]
    assert (tea.quantity, tea.unit) == (Decimal("1250.000"), "kg")
    assert (seedlings.quantity, seedlings.unit) == (Decimal("300.000"), "piece")


def test_a_refused_form_names_the_field_in_chinese_and_stores_nothing(signed_in, coop):
    client = signed_in(coop.user)
    before = _batches()
    response = _create(client, product="", quantity="", unit="斤")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "产品：请选择产品" in page and "重量或数量：必填" in page
    response = _create(client, product="loquat", quantity="0.0005", unit="斤")
    assert response.status_code == 422 and "重量或数量：换算后超过三位小数" in response.get_data(as_text=True)
    response = _create(client, product="loquat", quantity="十斤", unit="斤")
    assert response.status_code == 422 and "重量或数量：请填写数字" in response.get_data(as_text=True)
    assert _batches() == before
    assert db.session.scalar(select(func.count(EnteredQuantity.id))) == 0


def test_refusals_from_the_batch_service_come_back_by_field(signed_in, coop, make_org):
    client = signed_in(coop.user)
    assert _create(client, product="loquat", quantity="10", unit="公斤", lot_code="WANG-2026-A").status_code == 302
    before = _batches()
    taken = _create(client, product="loquat", quantity="10", unit="公斤", lot_code="WANG-2026-A")
    assert taken.status_code == 422 and "批次号：这个批次号已被使用" in taken.get_data(as_text=True)
    outsider = make_org(kind="farm_household")
    stranger = _create(client, product="loquat", quantity="10", unit="公斤", producer=outsider.code)
    assert stranger.status_code == 422 and "生产农户：只能为本社的成员农户建批次" in stranger.get_data(as_text=True)
    assert _batches() == before


def test_errors_in_english_when_the_page_is_english(signed_in, coop):
    client = signed_in(coop.user)
    response = post_form(client, "/field/batches/new?lang=en", {"product": "loquat", "quantity": "", "unit": "斤"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Quantity (weight or count): Required" in page and "重量或数量" not in page


def test_my_batches_holds_produced_and_members_and_nothing_else(signed_in, coop, client, make_user):
    member = signed_in(coop.member_user)
    assert _create(member, product="loquat", quantity="80", unit="斤", lot_code="WANG-OWN-1").status_code == 302
    member.post("/logout", data={"csrf_token": form_token(member, "/field/")})
    other = make_user("cooperative", password="desk-password-1")
    signed_in(other)
    assert _create(client, product="loquat", quantity="5", unit="公斤", lot_code="OTHER-1").status_code == 302
    client.post("/logout", data={"csrf_token": form_token(client, "/field/")})
    coop_client = signed_in(coop.user)
    assert _create(coop_client, product="loquat", quantity="9", unit="公斤", lot_code="COOP-OWN-1").status_code == 302
    page = coop_client.get("/field/").get_data(as_text=True)
    assert 'data-lot="WANG-OWN-1"' in page and 'data-lot="COOP-OWN-1"' in page
    assert "OTHER-1" not in page
    assert "80 斤" in page and "生产：农户王" in page
    found = coop_client.get("/field/?q=wang-own").get_data(as_text=True)
    assert 'data-lot="WANG-OWN-1"' in found and "COOP-OWN-1" not in found
    none = coop_client.get("/field/?q=NOPE_").get_data(as_text=True)
    assert "没有批次号含" in none


def test_another_organizations_batch_is_not_found(signed_in, coop, make_user):
    client = signed_in(coop.user)
    other = make_user("cooperative")
    theirs = batches.create_batch(
        Actor(user=other, org=other.organization), product="loquat", quantity=Decimal(5), unit="kg"
    )
    db.session.commit()
    assert client.get(f"/field/batches/{theirs.id}").status_code == 404
    assert client.get(f"/field/batches/{theirs.id}/stages/harvest").status_code == 404


def test_a_scanned_label_or_a_lot_code_opens_my_batch(signed_in, coop, make_user):
    client = signed_in(coop.user)
    assert _create(client, product="loquat", quantity="10", unit="公斤", lot_code="SCAN-ME-1").status_code == 302
    batch = db.session.scalar(select(Batch).where(Batch.lot_code == "SCAN-ME-1"))
    for code in (f"https://trace.example.cn/t/{batch.public_code}", batch.public_code, "scan-me-1"):
        response = client.get("/field/find", query_string={"code": code})
        assert response.status_code == 302 and response.headers["Location"] == f"/field/batches/{batch.id}", code
    other = make_user("cooperative")
    theirs = batches.create_batch(
        Actor(user=other, org=other.organization), product="loquat", quantity=Decimal(5), unit="kg"
    )
    db.session.commit()
    for code in (f"https://trace.example.cn/t/{theirs.public_code}", "nothing-like-it", ""):
        response = client.get("/field/find", query_string={"code": code})
        assert response.headers["Location"] == "/field/?not_found=1"
    page = client.get("/field/?not_found=1").get_data(as_text=True)
    assert "没有找到这个二维码对应的批次" in page


def test_the_vendored_decoder_is_served_gzipped_and_cached(client):
    path = "/field/static/vendor/qr-scanner-1.4.2/qr-scanner.umd.min.js"
    vendored = (Path(__file__).resolve().parents[2] / "app/field" / path.removeprefix("/field/")).read_bytes()

    def fetch(url, **kwargs):
        response = client.get(url, **kwargs)
        body = response.get_data()
        response.close()  # a sent file stays open until the response is closed
        return response, body

    zipped, body = fetch(path, headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.status_code == 200 and zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == vendored
    assert "max-age=31536000" in zipped.headers["Cache-Control"] and "javascript" in zipped.headers["Content-Type"]
    plain, body = fetch(path)
    assert "Content-Encoding" not in plain.headers and body == vendored
    assert fetch("/field/static/../views.py")[0].status_code == 404
    assert fetch("/field/static/vendor/qr-scanner-1.4.2/qr-scanner-worker.min.js")[0].status_code == 200
