"""The desk's batch page as an inspector works it: find a lot by code, see its hold, record the
disposition, open a recall, read its timeline, lineage and 承诺达标合格证."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from app.batches.models import Batch, Event
from app.commitments import service as commitments
from app.db import db
from app.lineage import service as lineage
from app.recalls.models import Recall
from tests.compliance.factories import actor_of, new_batch, post_inspection
from tests.conftest import settle
from tests.web.conftest import csrf_from

LEAD_FAIL = [{"parameter": "lead", "value": "8", "unit": "mg/kg"}]
MOMENT = dt.datetime(2026, 6, 2, 9, tzinfo=dt.UTC)


def test_find_a_lot_by_its_code(desk, make_user):
    lot = new_batch(make_user("processor"), "brick_tea")
    found = desk.get(f"/desk/find?lot={lot.lot_code}")
    assert found.status_code == 302 and found.headers["Location"].endswith(f"/desk/batches/{lot.id}")
    missing = desk.get("/desk/find?lot=NO-SUCH-LOT", follow_redirects=True)
    assert "没有批次号为 NO-SUCH-LOT 的批次" in missing.get_data(as_text=True)


def test_a_held_lot_shows_its_hold_and_takes_a_disposition(desk, make_user, auth):
    maker = make_user("processor")
    lot = new_batch(maker, "brick_tea")
    split = lineage.split_batch(actor_of(maker), lot.id, parts=[Decimal("40")], occurred_at=MOMENT)
    settle()
    [child] = split.outputs
    assert post_inspection(desk, auth("inspector"), lot.id, LEAD_FAIL).status_code == 201
    page = desk.get(f"/desk/batches/{lot.id}").get_data(as_text=True)
    assert 'id="hold"' in page and f"因批次 {lot.lot_code} 判定不合格而暂停" in page
    assert 'data-status="on_hold"' in page
    assert f'href="/desk/batches/{child.id}"' in page  # the lineage: what was split from it
    assert '<li data-stage="hold">' in page  # the timeline names each record
    child_page = desk.get(f"/desk/batches/{child.id}").get_data(as_text=True)
    assert f'href="/desk/batches/{lot.id}"' in child_page and 'id="hold"' in child_page

    token = csrf_from(page)
    form = {"csrf_token": token, "kind": "destroyed", "note": "粉碎销毁"}
    refused = desk.post(f"/desk/batches/{lot.id}/dispositions", data=form, follow_redirects=True)
    assert "销毁或无害化处理须填写证明材料" in refused.get_data(as_text=True)
    assert db.session.get(Batch, lot.id).status == "on_hold"
    done = desk.post(
        f"/desk/batches/{lot.id}/dispositions",
        data={"csrf_token": token, "kind": "destroyed", "note": "粉碎销毁", "evidence": "销毁记录 XN-031"},
        follow_redirects=True,
    )
    assert "处置已记录，涉及 2 个批次" in done.get_data(as_text=True)
    db.session.expire_all()
    assert {db.session.get(Batch, i).status for i in (lot.id, child.id)} == {"disposed"}


def test_open_a_recall_from_the_batch_page(desk, make_user):
    lot = new_batch(make_user("processor"), "brick_tea")
    page = desk.get(f"/desk/batches/{lot.id}").get_data(as_text=True)
    assert 'id="recall"' in page
    token = csrf_from(page)
    no_level = desk.post(f"/desk/batches/{lot.id}/recall", data={"csrf_token": token, "reason": "标签错印"},
                         follow_redirects=True)  # fmt: skip
    assert "召回须选择召回级别" in no_level.get_data(as_text=True)
    form = {"csrf_token": token, "reason": "标签错印", "severity": "III"}
    done = desk.post(f"/desk/batches/{lot.id}/recall", data=form, follow_redirects=True)
    assert "已发起，涉及 1 个批次" in done.get_data(as_text=True)
    recall = db.session.scalar(select(Recall).where(Recall.batch_id == lot.id))
    assert recall is not None and recall.severity == "III"


def test_the_page_says_whether_a_lot_carries_its_commitment_certificate(desk, make_user):
    grower = make_user("cooperative")
    bare = new_batch(grower, "loquat")
    page = desk.get(f"/desk/batches/{bare.id}").get_data(as_text=True)
    assert 'id="commitment-missing"' in page
    certified = new_batch(grower, "loquat")
    certificate = commitments.issue_certificate(
        actor_of(grower), certified.id, contact="0715-8123456", basis="quality_control"
    )
    settle()
    page = desk.get(f"/desk/batches/{certified.id}").get_data(as_text=True)
    assert f'data-number="{certificate.number}"' in page and 'id="commitment-missing"' not in page
    assert db.session.scalar(select(Event.stage).where(Event.batch_id == certified.id).order_by(Event.seq.desc()))
