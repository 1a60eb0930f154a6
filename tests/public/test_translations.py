"""The English catalog: complete, compiled, and covering every string our pages show."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "app/translations/en/LC_MESSAGES/messages.po"
MO = ROOT / "app/translations/en/LC_MESSAGES/messages.mo"
# Every user-facing string in the application: consumer pages, the desk, compliance partials.
COVERED = ("app/",)
# The keywords `make translations` extracts with: Babel's own, and NP_ (a string with a context).
KEYWORDS = {**DEFAULT_KEYWORDS, "NP_": ((1, "c"), 2)}


def _catalog(path: Path):
    with path.open("rb") as f:
        return read_po(f) if path.suffix == ".po" else read_mo(f)


def _source_ids() -> set[str]:
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    ids = set()
    # babel.cfg's patterns are relative to the project root.
    found = extract_from_dir(str(ROOT), method_map, options_map, keywords=KEYWORDS)
    for filename, _lineno, message, _comments, context in found:
        if filename.startswith(COVERED):
            ids.add((context, message[0] if isinstance(message, tuple) else message))
    return ids


def test_every_entry_is_translated_and_none_is_fuzzy():
    catalog = _catalog(PO)
    entries = [m for m in catalog if m.id]
    assert len(entries) > 100
    for message in entries:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(s.strip() for s in strings), message.id
        assert not message.fuzzy, message.id


def _flat(value):
    return tuple(value) if isinstance(value, (list, tuple)) else value


def test_the_compiled_catalog_matches_the_source():
    po = {(m.context, _flat(m.id)): _flat(m.string) for m in _catalog(PO) if m.id}
    mo = {(m.context, _flat(m.id)): _flat(m.string) for m in _catalog(MO) if m.id}
    assert mo == po, "run `make translations` (pybabel compile) and commit the .mo"


def test_every_string_on_our_pages_has_an_english_translation():
    source = _source_ids()
    assert (None, "溯源历程") in source and (None, "没有找到") in source  # templates and code were both read
    assert ("record", "采收") in source  # and the record names, marked with a context
    translated = {(m.context, m.id[0] if isinstance(m.id, tuple) else m.id) for m in _catalog(PO) if m.id}
    assert source - translated == set()
