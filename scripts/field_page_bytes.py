"""Measure what the field app transfers: a first visit, and each page after it.

    python scripts/field_page_bytes.py        (or: make field-bytes)

Builds a throwaway SQLite database (migrations, the standards catalog, the demo), signs in as the
demo's loquat cooperative through the app's own test client, and walks what a farmer does: open
/login, sign in, land on My batches, open a batch, open the harvest form, open the create form.
Every page is counted with its response headers and every same-site asset it references (styles
are inline and there is no framework; My batches loads one small script), as sent and as gzip
would send it. The QR decoder, fetched only when a label is photographed, is printed apart.
The issue's targets: at most 100 KB for the first visit and 30 KB per page after. Figures are
printed, never asserted.
"""

from __future__ import annotations

import gzip
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402

from app import create_app  # noqa: E402
from app.catalog.service import default_catalog_path, load_catalog_file  # noqa: E402
from app.db import db  # noqa: E402
from app.demo import DEMO_PASSWORDS, load_demo  # noqa: E402

FIRST_VISIT_TARGET = 100 * 1024
LATER_PAGE_TARGET = 30 * 1024
_ASSET = re.compile(r'(?:src|href)="(/[^"/][^"]*\.(?:js|css|png|svg|ico|woff2?)(?:\?[^"]*)?)"')
# The QR decoder is fetched only when a photo of a label is chosen (static/scan.js), never on a visit.
DECODER = "/field/static/vendor/qr-scanner-1.4.2/"


def _size(response) -> tuple[int, int]:
    """(bytes as sent, bytes gzipped) of a response: status line and headers plus the body."""
    head = f"HTTP/1.1 {response.status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in response.headers) + "\r\n"
    body = response.get_data()
    response.close()
    if response.headers.get("Content-Encoding") == "gzip":  # already compressed, as sent
        return len(head.encode()) + len(body), len(head.encode()) + len(body)
    return len(head.encode()) + len(body), len(head.encode()) + len(gzip.compress(body))


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="youpin-field-bytes-") as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bytes.db", "SECRET_KEY": "bytes"})
        with app.app_context():
            upgrade()
            load_catalog_file(default_catalog_path())
            load_demo()
            db.session.commit()
        client = app.test_client()
        seen_assets: set[str] = set()
        rows: list[tuple[str, int, int, bool]] = []

        def visit(label: str, response, first: bool) -> str:
            plain, zipped = _size(response)
            html = response.get_data(as_text=True)
            for asset in _ASSET.findall(html):
                if asset not in seen_assets:  # a later page finds it in the browser's cache
                    seen_assets.add(asset)
                    more = _size(client.get(asset, headers={"Accept-Encoding": "gzip"}))
                    plain, zipped = plain + more[0], zipped + more[1]
            rows.append((label, plain, zipped, first))
            return html

        page = visit("GET /login", client.get("/login"), True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
        password = DEMO_PASSWORDS["loquat-coop"]
        login = client.post("/login", data={"username": "loquat-coop", "password": password, "csrf_token": token})
        visit("POST /login (redirect)", login, True)
        home = visit(f"GET {login.headers['Location']}", client.get(login.headers["Location"]), True)
        # Where the browser has service workers, the outbox registers one (not a src/href: counted here).
        worker = re.search(r'data-sw="([^"]+)"', home)[1].replace("&amp;", "&")
        visit("GET /field/sw.js (service worker)", client.get(worker, headers={"Accept-Encoding": "gzip"}), True)
        batch_path = re.search(r'href="(/field/batches/\d+)"', home)[1]
        visit(f"GET {batch_path}", client.get(batch_path), False)
        visit(f"GET {batch_path}/stages/harvest", client.get(f"{batch_path}/stages/harvest"), False)
        visit(f"GET {batch_path}/stages/planting", client.get(f"{batch_path}/stages/planting"), False)
        visit("GET /field/batches/new", client.get("/field/batches/new"), False)
        visit("GET /field/?lang=en", client.get("/field/?lang=en"), False)
        scan = [_size(client.get(DECODER + name, headers={"Accept-Encoding": "gzip"})) for name in
                ("qr-scanner.umd.min.js", "qr-scanner-worker.min.js")]  # fmt: skip

    width = max(len(r[0]) for r in rows)
    print(f"{'request':<{width}}  {'bytes':>8}  {'gzipped':>8}")
    for label, plain, zipped, _first in rows:
        print(f"{label:<{width}}  {plain:>8}  {zipped:>8}")
    first_plain = sum(r[1] for r in rows if r[3])
    first_zipped = sum(r[2] for r in rows if r[3])
    later = [r for r in rows if not r[3]]
    print(f"\nfirst visit (login, sign in, My batches, service worker): {first_plain} bytes ({first_zipped} gzipped); "
          f"target ≤ {FIRST_VISIT_TARGET}")  # fmt: skip
    print(f"largest later page: {max(r[1] for r in later)} bytes ({max(r[2] for r in later)} gzipped); "
          f"target ≤ {LATER_PAGE_TARGET}")  # fmt: skip
    print(f"same-site assets fetched: {len(seen_assets)} {sorted(seen_assets)}")
    print(f"scanning a label the first time adds the decoder: {sum(s[0] for s in scan)} bytes as sent (gzip)")


if __name__ == "__main__":
    main()
