"""scripts/verify_checkpoint.py: a verifier that needs only the files, never the app.

Run as a user runs it (a subprocess, judged by its output and exit status) on files the API
served, and its RFC 9162 verifiers checked against the app's proofs for every small tree.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.checkpoints import merkle
from tests.checkpoints.conftest import post_event, save
from tests.conftest import settle

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "verify_checkpoint.py"


def offline(*args: Path | str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=60, cwd="/"
    )


def load_script():
    spec = importlib.util.spec_from_file_location("verify_checkpoint", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_script_imports_nothing_of_the_app():
    source = SCRIPT.read_text(encoding="utf-8")
    assert "from app" not in source and "import app" not in source


def test_the_scripts_verifiers_accept_every_proof_the_app_makes_and_refuse_changed_ones():
    script = load_script()
    for size in range(1, 20):
        leaves = [merkle.leaf_hash(bytes([i])) for i in range(size)]
        top = merkle.root(leaves)
        for index in range(size):
            path = merkle.inclusion_proof(index, leaves)
            assert script.verify_inclusion(index, size, leaves[index], path, top)
            assert not script.verify_inclusion(index, size, leaves[(index + 1) % size] + b"x", path, top)
        for old in range(1, size + 1):
            proof = merkle.consistency_proof(old, leaves)
            old_root = merkle.root(leaves[:old])
            assert script.verify_consistency(old, size, old_root, top, proof), (old, size)
            assert not script.verify_consistency(old, size, top if old < size else b"x", old_root, proof)


def test_a_batch_verifies_offline_against_a_saved_checkpoint_then_after_the_log_grew(
    client, party, with_events, checkpoint, tmp_path
):
    owner = party("farmer")
    batch = with_events(owner, 3)
    with_events(owner, 2)
    checkpoint()
    saved = save(tmp_path, "mine.json", client.get("/api/v1/checkpoints/latest").get_json())
    key = tmp_path / "key.pem"
    key.write_text(client.get("/api/v1/checkpoints/key").get_json()["pem"])
    proof = save(tmp_path, "proof.json", client.get(f"/api/v1/public/{batch.public_code}/proof").get_json())
    export = client.get(f"/api/v1/batches/{batch.id}/events?raw=true", headers=owner.headers).get_json()
    events = save(tmp_path, "events.json", export)

    result = offline("--checkpoint", saved, "--key", key, "--proof", proof, "--events", events)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"OK: {batch.lot_code} up to event 4" in result.stdout and "is in your checkpoint" in result.stdout
    assert "the exported chain of 4 events recomputes" in result.stdout

    # The log grows; the new proof carries a consistency proof from the saved checkpoint.
    assert post_event(client, owner, batch.id, "transport", day="2026-05-09").status_code == 201
    settle()
    checkpoint()
    grown = client.get(f"/api/v1/public/{batch.public_code}/proof?from=1").get_json()
    newer = save(tmp_path, "newer.json", grown)
    export = client.get(f"/api/v1/batches/{batch.id}/events?raw=true", headers=owner.headers).get_json()
    result = offline(
        "--checkpoint", saved, "--key", key, "--proof", newer, "--events", save(tmp_path, "e2.json", export)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "up to event 5" in result.stdout and "is in checkpoint 2" in result.stdout

    # Without ?from= the newer checkpoint cannot be tied to the saved one.
    bare = save(tmp_path, "bare.json", {**grown, "consistency": None})
    result = offline("--checkpoint", saved, "--key", key, "--proof", bare)
    assert result.returncode == 1 and "no consistency proof from your checkpoint 1" in result.stdout


def test_a_changed_proof_a_changed_export_or_another_key_fails_offline(
    client, party, with_events, checkpoint, tmp_path
):
    owner = party("farmer")
    batch = with_events(owner, 3)
    with_events(owner, 2)
    checkpoint()
    saved = save(tmp_path, "mine.json", client.get("/api/v1/checkpoints/latest").get_json())
    key = tmp_path / "key.pem"
    key.write_text(client.get("/api/v1/checkpoints/key").get_json()["pem"])
    body = client.get(f"/api/v1/public/{batch.public_code}/proof").get_json()

    moved = json.loads(json.dumps(body))
    moved["leaf"]["head_hash"] = "f" * 64
    result = offline("--checkpoint", saved, "--key", key, "--proof", save(tmp_path, "p1.json", moved))
    assert result.returncode == 1 and "the leaf's hash is not the hash" in result.stdout

    bent = json.loads(json.dumps(body))
    bent["inclusion"]["path"][0] = "0" * 64
    result = offline("--checkpoint", saved, "--key", key, "--proof", save(tmp_path, "p2.json", bent))
    assert result.returncode == 1 and f"the leaf of {batch.lot_code} is not proven" in result.stdout

    export = client.get(f"/api/v1/batches/{batch.id}/events?raw=true", headers=owner.headers).get_json()
    export["events"][1]["data"]["temperature_c"] = "35"
    proof = save(tmp_path, "p.json", body)
    result = offline(
        "--checkpoint", saved, "--key", key, "--proof", proof, "--events", save(tmp_path, "e.json", export)
    )
    assert result.returncode == 1 and "exported event 2 does not recompute" in result.stdout

    other = tmp_path / "other.pem"
    other.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    result = offline("--checkpoint", saved, "--key", other, "--proof", proof)
    assert result.returncode == 1 and "not the trusted key" in result.stdout
    assert offline("--checkpoint", tmp_path / "missing.json", "--key", key, "--proof", proof).returncode == 1
