"""``checkpoints create`` runs the restated-row checks (batches/integrity.py) and never signs over a
batch whose rows contradict its chain: it says which batch and why, and signs the others."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from app.checkpoints.models import CheckpointLeaf
from app.db import db
from tests.conftest import settle


def _leaves(lot_code: str) -> list[CheckpointLeaf]:
    return list(db.session.scalars(select(CheckpointLeaf).where(CheckpointLeaf.lot_code == lot_code)))


@pytest.mark.parametrize(
    ("column", "value", "fact"), [("quantity", 5000, "quantity"), ("unit", "t", "unit"), ("lot_code", "X-FORGED", None)]
)
def test_a_batch_whose_row_contradicts_its_first_record_is_left_out_by_name(
    cli, party, make_batch, checkpoint, column, value, fact
):
    owner = party("farmer")
    honest, tampered = make_batch(owner), make_batch(owner)
    settle()
    db.session.execute(text(f"UPDATE batches SET {column} = :v WHERE id = :b"), {"v": value, "b": tampered.id})
    settle()
    db.session.expire_all()
    result = checkpoint()
    assert result.exit_code == 1, result.output
    lot = "X-FORGED" if column == "lot_code" else tampered.lot_code
    reason = f"the batch's {fact} is not what record 1 committed to" if fact else "content does not match its hash"
    assert f"left out {lot}: its chain does not verify at event 1: {reason}" in result.output, result.output
    assert _leaves(lot) == [] and len(_leaves(honest.lot_code)) == 1  # the honest one is signed


def test_a_test_report_changed_under_its_record_is_left_out(cli, client, party, make_batch, checkpoint):
    from tests.compliance.factories import post_inspection

    owner, inspector = party("farmer"), party("inspector")
    batch = make_batch(owner)
    report = post_inspection(
        client, inspector.headers, batch.id, [{"parameter": "fluoride", "value": "350", "unit": "mg/kg"}]
    )
    assert report.status_code == 201, report.get_json()
    db.session.execute(
        text("UPDATE inspection_results SET value = 10 WHERE inspection_id IN "
             "(SELECT id FROM inspections WHERE batch_id = :b)"), {"b": batch.id}
    )  # fmt: skip
    settle()
    db.session.expire_all()
    result = checkpoint()
    assert result.exit_code == 1 and f"left out {batch.lot_code}: its chain does not verify at event 2" in result.output
    assert "is not what record 2 says" in result.output
    assert _leaves(batch.lot_code) == []
