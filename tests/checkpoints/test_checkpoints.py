"""Signed checkpoints through the CLI and the API: the log, the key, proofs, witnesses, the page."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import stat

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select

from app.checkpoints import merkle
from app.checkpoints.models import Checkpoint, CheckpointLeaf
from app.checkpoints.statement import leaf_bytes
from app.db import db
from tests.checkpoints.conftest import post_event
from tests.conftest import settle


def latest(client):
    response = client.get("/api/v1/checkpoints/latest")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def count_checkpoints() -> int:
    return db.session.scalar(select(func.count()).select_from(Checkpoint)) or 0


def test_create_signs_the_heads_of_every_batch_and_publishes_the_checkpoint(client, party, with_events, checkpoint):
    owner = party("farmer")
    first, second = with_events(owner, 2), with_events(owner, 3)
    assert client.get("/api/v1/checkpoints/latest").status_code == 404

    result = checkpoint()
    assert result.exit_code == 0, result.output
    assert result.output.startswith("checkpoint 1: tree size 2, 2 new leaves, root ")

    doc = latest(client)
    fields = doc["checkpoint"]
    assert fields["id"] == 1 and fields["tree_size"] == 2 and fields["prev_id"] is None and fields["prev_hash"] is None
    assert fields["log"] == "youpin-trace" and fields["version"] == 1
    # The statement is the canonical JSON of the fields; the signature is Ed25519 over it.
    assert doc["statement"] == json.dumps(fields, sort_keys=True, separators=(",", ":"))
    key = client.get("/api/v1/checkpoints/key").get_json()
    assert key["algorithm"] == "Ed25519" and key["key_id"] == fields["key_id"] == doc["public_key"]["key_id"]
    raw = Ed25519PublicKey.from_public_bytes(base64.b64decode(key["raw"]))
    pem = serialization.load_pem_public_key(key["pem"].encode())
    for public in (raw, pem):
        public.verify(base64.b64decode(doc["signature"]), doc["statement"].encode())  # raises if wrong
    # The root is the RFC 6962 tree over the two heads, in the batches' order.
    leaves = [merkle.leaf_hash(leaf_bytes(b.lot_code, b.head_seq, b.head_hash)) for b in (first, second)]
    assert fields["root_hash"] == merkle.root(leaves).hex()

    listing = client.get("/api/v1/checkpoints").get_json()
    assert listing["meta"] == {"page": 1, "per_page": 50, "total": 1}
    assert listing["items"] == [doc]
    assert client.get("/api/v1/checkpoints/1").get_json() == doc
    assert client.get("/api/v1/checkpoints/2").status_code == 404


def test_create_is_idempotent_and_each_checkpoint_extends_and_names_its_predecessor(
    client, party, with_events, checkpoint
):
    owner = party("farmer")
    batch = with_events(owner, 2)
    with_events(owner, 1)
    assert checkpoint().exit_code == 0
    again = checkpoint()
    assert again.exit_code == 0 and "no batch head moved since checkpoint 1" in again.output
    assert count_checkpoints() == 1

    assert post_event(client, owner, batch.id, "transport", day="2026-05-09").status_code == 201
    settle()
    result = checkpoint()
    assert result.output.startswith("checkpoint 2: tree size 3, 1 new leaves"), result.output
    one, two = client.get("/api/v1/checkpoints/1").get_json(), latest(client)
    assert two["checkpoint"]["prev_id"] == 1 and two["checkpoint"]["prev_hash"] == one["hash"]
    # The older leaf stays: the batch now has two, and the tree only grew.
    assert db.session.scalars(
        select(CheckpointLeaf.seq).where(CheckpointLeaf.lot_code == batch.lot_code).order_by(CheckpointLeaf.seq)
    ).all() == [3, 4]
    listing = client.get("/api/v1/checkpoints?per_page=1").get_json()
    assert listing["meta"]["total"] == 2 and [i["checkpoint"]["id"] for i in listing["items"]] == [2]


def test_the_proof_holds_the_leaf_its_inclusion_and_with_from_the_consistency(client, party, with_events, checkpoint):
    owner = party("farmer")
    batches = [with_events(owner, n) for n in (1, 2, 3)]
    checkpoint()
    target = batches[1]
    assert post_event(client, owner, target.id, "transport", day="2026-05-09").status_code == 201
    extra = with_events(owner, 1)
    settle()
    checkpoint()

    body = client.get(f"/api/v1/public/{target.public_code}/proof?from=1").get_json()
    leaf = body["leaf"]
    assert (leaf["lot_code"], leaf["seq"], leaf["head_hash"]) == (target.lot_code, 4, target.head_hash)
    assert body["covers_head"] is True
    assert leaf["hash"] == merkle.leaf_hash(leaf_bytes(target.lot_code, 4, target.head_hash)).hex()
    cp = body["checkpoint"]["checkpoint"]
    assert body["inclusion"]["tree_size"] == cp["tree_size"] == 5
    assert merkle.verify_inclusion(
        leaf["index"], cp["tree_size"], bytes.fromhex(leaf["hash"]),
        [bytes.fromhex(p) for p in body["inclusion"]["path"]], bytes.fromhex(cp["root_hash"]),
    )  # fmt: skip
    old = body["consistency"]["from"]["checkpoint"]
    assert (old["id"], body["consistency"]["old_size"], body["consistency"]["new_size"]) == (1, 3, 5)
    assert merkle.verify_consistency(
        3, 5, bytes.fromhex(old["root_hash"]), bytes.fromhex(cp["root_hash"]),
        [bytes.fromhex(p) for p in body["consistency"]["path"]],
    )  # fmt: skip
    assert client.get(f"/api/v1/public/{target.public_code}/proof").get_json()["consistency"] is None

    # An event since the checkpoint: still proven, up to the anchored event, and it says so.
    assert post_event(client, owner, extra.id, "transport", day="2026-05-10").status_code == 201
    settle()
    assert client.get(f"/api/v1/public/{extra.public_code}/proof").get_json()["covers_head"] is False


def test_a_proof_is_404_before_any_checkpoint_for_a_batch_not_covered_and_for_an_unknown_from(
    client, party, with_events, checkpoint
):
    owner = party("farmer")
    covered = with_events(owner, 1)
    assert client.get(f"/api/v1/public/{covered.public_code}/proof").status_code == 404
    checkpoint()
    later = with_events(owner, 1)
    response = client.get(f"/api/v1/public/{later.public_code}/proof")
    assert response.status_code == 404 and "not covered by a checkpoint yet" in response.get_json()["message"]
    assert client.get(f"/api/v1/public/{covered.public_code}/proof?from=9").status_code == 404
    assert client.get(f"/api/v1/public/{covered.public_code}/proof?from=x").status_code == 422
    assert client.get("/api/v1/public/no-such-code-here/proof").status_code == 404


def test_production_refuses_to_create_a_checkpoint_without_a_key(app, cli, party, with_events, monkeypatch):
    with_events(party("farmer"), 1)
    monkeypatch.setitem(app.config, "APP_ENV", "production")
    monkeypatch.setitem(app.config, "CHECKPOINT_SIGNING_KEY", None)
    monkeypatch.setitem(app.config, "CHECKPOINT_SIGNING_KEY_FILE", None)
    result = cli.invoke(args=["checkpoints", "create"])
    assert result.exit_code == 1
    assert "no checkpoint signing key" in result.output and "CHECKPOINT_SIGNING_KEY" in result.output
    assert count_checkpoints() == 0


def test_development_generates_a_key_file_once_and_the_key_endpoint_only_reads_it(
    app, cli, client, party, with_events, monkeypatch, tmp_path
):
    with_events(party("farmer"), 1)
    key_file = tmp_path / "instance" / "checkpoint-signing-key.pem"
    monkeypatch.setitem(app.config, "CHECKPOINT_SIGNING_KEY", None)
    monkeypatch.setitem(app.config, "CHECKPOINT_SIGNING_KEY_FILE", None)
    monkeypatch.setitem(app.config, "CHECKPOINT_DEV_KEY_FILE", str(key_file))
    monkeypatch.setitem(app.config, "CHECKPOINT_WITNESSES", [])
    assert client.get("/api/v1/checkpoints/key").status_code == 404  # nothing made by a GET
    assert not key_file.exists()
    assert cli.invoke(args=["checkpoints", "create"]).exit_code == 0
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    pem = key_file.read_bytes()
    key = client.get("/api/v1/checkpoints/key").get_json()
    assert key["key_id"] == latest(client)["checkpoint"]["key_id"]
    assert cli.invoke(args=["checkpoints", "key"]).output == key["pem"]
    assert key_file.read_bytes() == pem  # the same key next time


def test_a_key_file_from_configuration_signs(app, cli, client, party, with_events, monkeypatch, tmp_path, signing_key):
    with_events(party("farmer"), 1)
    path = tmp_path / "signing.pem"
    path.write_bytes(
        signing_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    monkeypatch.setitem(app.config, "CHECKPOINT_SIGNING_KEY", None)
    monkeypatch.setitem(app.config, "CHECKPOINT_SIGNING_KEY_FILE", str(path))
    assert cli.invoke(args=["checkpoints", "create"]).exit_code == 0
    public = signing_key.public_key()
    doc = latest(client)
    public.verify(base64.b64decode(doc["signature"]), doc["statement"].encode())
    path.write_text("not a key")
    result = cli.invoke(args=["checkpoints", "create"])
    assert result.exit_code == 1 and "not an unencrypted PEM private key" in result.output


def test_each_checkpoint_is_copied_to_a_directory_witness_which_never_overwrites(
    app, client, party, with_events, checkpoint, monkeypatch, tmp_path
):
    owner = party("farmer")
    batch = with_events(owner, 1)
    witness = tmp_path / "regulator"
    monkeypatch.setitem(app.config, "CHECKPOINT_WITNESSES", [str(witness)])
    result = checkpoint()
    assert result.exit_code == 0 and f"witness {witness}: stored" in result.output
    held = json.loads((witness / "checkpoint-00000001.json").read_text(encoding="utf-8"))
    assert held == latest(client)
    again = checkpoint()
    assert again.exit_code == 0 and "already held" in again.output

    assert post_event(client, owner, batch.id, "transport", day="2026-05-09").status_code == 201
    settle()
    (witness / "checkpoint-00000002.json").write_text(json.dumps({**held, "hash": "0" * 64}))
    forked = checkpoint()
    assert forked.exit_code == 1
    assert "holds a different checkpoint 2" in forked.output and "forked or rewritten" in forked.output
    assert count_checkpoints() == 2  # the checkpoint itself was made; the witness's alarm is reported


def test_the_consumer_page_says_anchored_only_for_what_a_checkpoint_covers(client, party, with_events, checkpoint):
    owner = party("farmer")
    batch = with_events(owner, 2)
    page = client.get(f"/t/{batch.public_code}").get_data(as_text=True)
    # What the chain proves (not changed), never that the records are complete, and no anchor yet.
    assert "记录未被改动" in page and "写入后未被改动" in page and "记录完整" not in page and "存证" not in page
    assert client.get(f"/api/v1/public/{batch.public_code}").get_json()["anchor"] is None

    checkpoint()
    cp = latest(client)["checkpoint"]
    body = client.get(f"/api/v1/public/{batch.public_code}").get_json()
    anchor = body["anchor"]
    assert anchor["checkpoint"] == cp["id"] and anchor["seq"] == 3 and anchor["covers_all"] is True
    page = client.get(f"/t/{batch.public_code}").get_data(as_text=True)
    assert f"与 {anchor['time']}（北京时间）的存证一致" in page
    english = client.get(f"/t/{batch.public_code}?lang=en").get_data(as_text=True)
    assert "match the signed checkpoint of" in english and "(China time)" in english

    assert post_event(client, owner, batch.id, "transport", day="2026-05-09").status_code == 201
    settle()
    page = client.get(f"/t/{batch.public_code}").get_data(as_text=True)
    assert "全部 4 条记录环环相扣；前 3 条与" in page


def test_the_time_named_on_the_page_is_china_time(client, party, with_events, checkpoint):
    batch = with_events(party("farmer"), 1)
    checkpoint()
    created = db.session.scalar(select(Checkpoint.created_at))
    assert created is not None
    anchor = client.get(f"/api/v1/public/{batch.public_code}").get_json()["anchor"]
    china = created.astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert anchor["time"].endswith(f"{china:%H:%M}")
