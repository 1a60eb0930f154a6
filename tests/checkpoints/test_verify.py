"""``flask checkpoints verify FILE`` against rows tampered with directly through SQL.

The three tamperings an insider with the published algorithm could otherwise hide (issue 12):

- a whole chain rewritten, every hash recomputed and the head fixed (``/verify`` finds nothing);
- a truncated tail with the head fixed to the new last event (``/verify`` finds nothing);
- a batch removed after the checkpoint, events and all (``/verify`` has nothing left to check),
  with and without its leaves in the checkpoint log.

Each is found by verifying against a checkpoint file saved before the tampering, on SQLite and on
PostgreSQL (the suite runs on both).
"""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text, update

from app.batches import chain
from app.batches.models import Batch, Event
from app.db import db
from app.orgs.models import Organization, User
from tests.checkpoints.conftest import save
from tests.conftest import settle


@pytest.fixture
def anchored(client, party, with_events, checkpoint, tmp_path):
    """Three batches, checkpoint 1 over them, saved to a file as a regulator would."""
    owner = party("farmer")
    batches = [with_events(owner, n) for n in (2, 3, 4)]
    assert checkpoint().exit_code == 0
    saved = save(tmp_path, "checkpoint-1.json", client.get("/api/v1/checkpoints/latest").get_json())
    return owner, batches, saved


def verify(cli, saved, *options):
    result = cli.invoke(args=["checkpoints", "verify", str(saved), *options])
    settle()
    return result


def rewrite_chain(batch: Batch) -> None:
    """Change every event's data and recompute every hash and the head, as an insider could."""
    rows = db.session.execute(
        select(Event, Organization.code, User.username)
        .join(Organization, Organization.id == Event.actor_org_id)
        .outerjoin(User, User.id == Event.actor_user_id)
        .where(Event.batch_id == batch.id)
        .order_by(Event.seq)
    ).all()
    prev = chain.GENESIS
    for event, org_code, username in rows:
        data = chain.canonical_data({**event.data, "temperature_c": "35"})
        fields = chain.ChainFields(
            lot_code=batch.lot_code, seq=event.seq, stage=event.stage, occurred_at=event.occurred_at,
            recorded_at=event.recorded_at, actor_org=org_code, actor_user=username, site_id=event.site_id,
            data=data, amends_seq=event.amends_seq, prev_hash=prev,
        )  # fmt: skip
        digest = fields.digest()
        db.session.execute(update(Event).where(Event.id == event.id).values(data=data, prev_hash=prev, hash=digest))
        prev = digest
    db.session.execute(text("UPDATE batches SET head_hash = :h WHERE id = :b"), {"h": prev, "b": batch.id})
    settle()
    db.session.expire_all()


def truncate_tail(batch: Batch) -> None:
    """Delete the last event and point the head at the one before it."""
    last = batch.head_seq
    db.session.execute(text("DELETE FROM events WHERE batch_id = :b AND seq = :s"), {"b": batch.id, "s": last})
    db.session.execute(
        text(
            "UPDATE batches SET head_seq = :s, head_hash = "
            "(SELECT hash FROM events WHERE batch_id = :b AND seq = :s) WHERE id = :b"
        ),
        {"b": batch.id, "s": last - 1},
    )
    settle()
    db.session.expire_all()


def remove_batch(batch: Batch) -> None:
    for table in ("events", "batch_standards"):
        db.session.execute(text(f"DELETE FROM {table} WHERE batch_id = :b"), {"b": batch.id})
    db.session.execute(text("DELETE FROM batches WHERE id = :b"), {"b": batch.id})
    settle()
    db.session.expire_all()


def test_an_untouched_database_verifies(cli, anchored):
    _, batches, saved = anchored
    result = verify(cli, saved)
    assert result.exit_code == 0, result.output
    assert "checked 3 leaves of 3 batches in the database" in result.output
    assert "OK: everything the checkpoint anchors" in result.output
    one = verify(cli, saved, "--batch", batches[1].lot_code)
    assert one.exit_code == 0 and "checked 1 leaves of 1 batches in batch" in one.output


def test_a_whole_chain_rewrite_is_found(client, cli, anchored, checkpoint):
    owner, batches, saved = anchored
    target = batches[1]
    rewrite_chain(target)
    # The rewrite is perfect as far as the chain itself goes: /verify recomputes it and agrees.
    assert client.get(f"/api/v1/batches/{target.id}/verify", headers=owner.headers).get_json()["valid"] is True

    result = verify(cli, saved)
    assert result.exit_code == 1
    assert f"{target.lot_code}: event 4 is not the one checkpoint 1 anchored" in result.output
    assert "the chain was rewritten" in result.output
    assert "1 problem(s)" in result.output  # the other two batches are fine
    assert verify(cli, saved, "--batch", target.lot_code).exit_code == 1
    assert verify(cli, saved, "--batch", batches[0].lot_code).exit_code == 0

    # The consumer page no longer calls it intact, and the next checkpoint refuses to anchor it.
    page = client.get(f"/t/{target.public_code}").get_data(as_text=True)
    assert "记录校验未通过" in page and "与存证一致" not in page
    again = checkpoint()
    assert again.exit_code == 1
    assert f"left out {target.lot_code}: its chain no longer holds event 4 as checkpoint 1 anchored it" in again.output


def test_a_truncated_tail_with_its_head_fixed_is_found(client, cli, anchored, checkpoint):
    owner, batches, saved = anchored
    target = batches[2]
    truncate_tail(target)
    assert client.get(f"/api/v1/batches/{target.id}/verify", headers=owner.headers).get_json()["valid"] is True

    result = verify(cli, saved)
    assert result.exit_code == 1
    assert f"{target.lot_code}: checkpoint 1 saw 5 events, the chain now has 4: its tail was removed" in result.output
    assert verify(cli, saved, "--batch", target.lot_code).exit_code == 1
    page = client.get(f"/t/{target.public_code}").get_data(as_text=True)
    assert "记录校验未通过" in page
    assert "left out" in checkpoint().output


def test_a_batch_removed_after_the_checkpoint_is_found(cli, anchored, checkpoint):
    _, batches, saved = anchored
    target = batches[0]
    lot_code = target.lot_code
    remove_batch(target)
    result = verify(cli, saved)
    assert result.exit_code == 1
    assert f"batch {lot_code} (anchored at seq 3, leaf 0) is gone" in result.output
    one = verify(cli, saved, "--batch", lot_code)
    assert one.exit_code == 1 and "is gone" in one.output
    again = checkpoint()
    assert "anchored it (seq 3), but the batch is gone" in again.output


def test_a_batch_removed_with_its_leaves_is_found_by_the_signed_root(cli, anchored, checkpoint):
    _, batches, saved = anchored
    target = batches[0]
    lot_code = target.lot_code
    remove_batch(target)
    db.session.execute(text("DELETE FROM checkpoint_leaves WHERE lot_code = :l"), {"l": lot_code})
    settle()
    result = verify(cli, saved)
    assert result.exit_code == 1
    assert "do not give checkpoint 1's signed root: leaves were changed or removed" in result.output
    # The log cannot be signed on top of leaves that no longer give its root.
    again = checkpoint()
    assert again.exit_code == 1 and "no longer give checkpoint 1's signed root" in again.output
    assert verify(cli, saved, "--batch", lot_code).exit_code == 1


def test_a_rewritten_log_history_is_found(client, cli, anchored, checkpoint, party, with_events):
    _, _, saved = anchored
    with_events(party("farmer"), 1)
    assert checkpoint().exit_code == 0
    assert "the latest checkpoint 2 (tree size 4) extends it" in verify(cli, saved).output
    db.session.execute(text("UPDATE checkpoints SET root_hash = :r WHERE id = 1"), {"r": "0" * 64})
    settle()
    result = verify(cli, saved)
    assert result.exit_code == 1 and "the log's checkpoint 1 differs from the saved one" in result.output


def test_a_file_is_verified_with_the_key_the_caller_trusts(client, cli, anchored, tmp_path):
    _, _, saved = anchored
    key = tmp_path / "key.pem"
    key.write_text(client.get("/api/v1/checkpoints/key").get_json()["pem"])
    trusted = verify(cli, saved, "--key", str(key))
    assert trusted.exit_code == 0 and "no trusted key given" not in trusted.output
    assert "no trusted key given" in verify(cli, saved).output

    stranger = tmp_path / "stranger.pem"
    stranger.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    result = verify(cli, saved, "--key", str(stranger))
    assert result.exit_code == 1 and "not the trusted" in result.output

    doc = json.loads(saved.read_text())
    doc["checkpoint"]["tree_size"] = 2
    doc["statement"] = json.dumps(doc["checkpoint"], sort_keys=True, separators=(",", ":"))
    forged = save(tmp_path, "forged.json", doc)
    result = verify(cli, forged, "--key", str(key))
    assert result.exit_code == 1 and "does not verify: the file was altered" in result.output
    assert "not a checkpoint file" in verify(cli, save(tmp_path, "junk.json", {"format": "x"})).output


def test_export_writes_the_checkpoint_file_the_api_serves(client, cli, anchored, tmp_path):
    _, _, saved = anchored
    out = tmp_path / "exported.json"
    result = cli.invoke(args=["checkpoints", "export", str(out)])
    assert result.exit_code == 0 and "checkpoint 1 written" in result.output
    assert json.loads(out.read_text()) == json.loads(saved.read_text())
    assert json.loads(cli.invoke(args=["checkpoints", "export", "-", "--id", "1"]).output)["checkpoint"]["id"] == 1


def test_a_leaf_slipped_into_the_log_stops_the_next_checkpoint(cli, anchored, checkpoint):
    saved = anchored[2]
    db.session.execute(
        text(
            "INSERT INTO checkpoint_leaves (leaf_index, checkpoint_id, lot_code, seq, head_hash, leaf_hash) "
            "VALUES (3, 1, 'FAKE-01', 1, :h, :h)"
        ),
        {"h": "a" * 64},
    )
    settle()
    again = checkpoint()
    assert again.exit_code == 1 and "leaves that no checkpoint signed" in again.output
    assert verify(cli, saved).exit_code == 0  # the saved checkpoint's own tree is untouched
