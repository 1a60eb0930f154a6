"""The checkpoints' configuration, read once from the environment by ``create_app``.

- ``CHECKPOINT_SIGNING_KEY``: the Ed25519 private key as PEM (PKCS#8), or
- ``CHECKPOINT_SIGNING_KEY_FILE``: the path of such a PEM file.
  With neither, a development setup (``make run``) generates one into
  ``instance/checkpoint-signing-key.pem`` on first use; ``APP_ENV=production`` refuses to sign.
  The key is never stored in the database.
- ``CHECKPOINT_WITNESSES``: where each checkpoint is copied when it is made, separated by commas
  or spaces: directories (a regulator's mounted share) and ``http(s)://`` endpoints that take a
  POST of the checkpoint file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

DEV_KEY_NAME = "checkpoint-signing-key.pem"


def checkpoint_config(environ: Mapping[str, str], instance_path: str) -> dict[str, Any]:
    witnesses = [w for w in re.split(r"[,\s]+", environ.get("CHECKPOINT_WITNESSES", "")) if w]
    return {
        "CHECKPOINT_SIGNING_KEY": environ.get("CHECKPOINT_SIGNING_KEY") or None,
        "CHECKPOINT_SIGNING_KEY_FILE": environ.get("CHECKPOINT_SIGNING_KEY_FILE") or None,
        "CHECKPOINT_DEV_KEY_FILE": str(Path(instance_path) / DEV_KEY_NAME),
        "CHECKPOINT_WITNESSES": witnesses,
    }
