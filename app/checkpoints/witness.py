"""Copy checkpoint files to outside witnesses: directories and HTTP endpoints from configuration.

A witness keeps every checkpoint it is given. A directory witness stores checkpoint N as
``checkpoint-0000000N.json`` and never overwrites it: offered the same checkpoint again it says
so, offered a *different* checkpoint N it refuses and reports it, because two checkpoints with one
number mean the log was forked or rewritten. An HTTP witness receives a POST of the file as JSON
and should be just as idempotent (same number and hash: accept; same number, other hash: alarm).
"""

from __future__ import annotations

import json
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HTTP_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class WitnessResult:
    witness: str
    ok: bool
    message: str


def file_name(checkpoint_id: int) -> str:
    return f"checkpoint-{checkpoint_id:08d}.json"


def encode(doc: dict[str, Any]) -> bytes:
    return (json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


def copy_to_witnesses(doc: dict[str, Any], witnesses: Iterable[str]) -> list[WitnessResult]:
    results = []
    for witness in witnesses:
        try:
            is_url = witness.startswith(("http://", "https://"))
            message = _post(witness, doc) if is_url else _write(Path(witness), doc)
            results.append(WitnessResult(witness, True, message))
        except (OSError, ValueError) as exc:
            results.append(WitnessResult(witness, False, str(exc)))
    return results


def _write(directory: Path, doc: dict[str, Any]) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    number = int(doc["checkpoint"]["id"])
    target = directory / file_name(number)
    if not target.exists():
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".checkpoint-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(encode(doc))
            os.link(tmp, target)  # never replaces a file that is there
            return f"stored {target}"
        except FileExistsError:
            pass  # another process stored it first: compare below
        finally:
            os.unlink(tmp)
    held = json.loads(target.read_text(encoding="utf-8"))
    if held.get("hash") != doc["hash"]:
        raise ValueError(
            f"{target} holds a different checkpoint {number} (hash {held.get('hash')}, offered {doc['hash']}): "
            "the log was forked or rewritten"
        )
    return f"{target} already held"


def _post(url: str, doc: dict[str, Any]) -> str:
    request = urllib.request.Request(  # noqa: S310 - the URL comes from the operator's configuration
        url, data=encode(doc), method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:  # noqa: S310
            return f"accepted by {url} ({response.status})"
    except urllib.error.HTTPError as exc:
        raise ValueError(f"{url} answered {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise ValueError(f"{url} could not be reached: {exc.reason}") from None
