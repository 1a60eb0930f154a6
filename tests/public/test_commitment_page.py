"""The consumer page shows the 承诺达标合格证 (证码合一), says when a lot that must carry one has
none, and says in plain words that a held lot is stopped."""

from __future__ import annotations

from app.commitments import service as commitments
from tests.compliance.factories import actor_of, new_batch, post_inspection
from tests.conftest import settle


def _public(client, code, lang="zh"):
    response = client.get(f"/api/v1/public/{code}?lang={lang}")
    assert response.status_code == 200
    return response.get_json()


def test_the_certificate_shows_on_the_page_its_qr_code_opens(client, make_user):
    grower = make_user("cooperative")
    lot = new_batch(grower, "loquat")
    body = _public(client, lot.public_code)
    assert body["commitment_certificate"] is None and body["commitment_required"] is True
    assert 'id="commitment-missing"' in client.get(f"/t/{lot.public_code}").get_data(as_text=True)

    certificate = commitments.issue_certificate(actor_of(grower), lot.id, contact="0715-8123456", basis="self_tested")
    settle()
    body = _public(client, lot.public_code)
    shown = body["commitment_certificate"]
    assert shown["number"] == certificate.number and shown["basis"] == "自行检测"
    assert "常规农药兽药残留不超标" in shown["commitments"]
    page = client.get(f"/t/{lot.public_code}").get_data(as_text=True)
    assert f'<dd id="commitment">{certificate.number}' in page and 'id="commitment-missing"' not in page
    english = _public(client, lot.public_code, "en")["commitment_certificate"]
    assert english["basis"] == "Tested by the producer"


def test_a_held_lot_says_it_is_stopped(client, make_user, auth):
    lot = new_batch(make_user("processor"), "brick_tea")
    assert post_inspection(client, auth("inspector"), lot.id, [{"parameter": "lead", "value": "8", "unit": "mg/kg"}])
    body = _public(client, lot.public_code)
    assert body["status"] == "on_hold" and body["hold"] == {"cause": lot.lot_code}
    page = client.get(f"/t/{lot.public_code}").get_data(as_text=True)
    assert 'id="hold"' in page and "此批次已暂停销售" in page
    assert body["commitment_required"] is False  # brick tea is not fresh leaf
