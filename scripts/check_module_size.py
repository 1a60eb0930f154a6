"""Report every module over 500 lines that does not say why it is long; exit 1 if there is one.

    python scripts/check_module_size.py [PACKAGE_DIR] [--max-lines N]

PACKAGE_DIR defaults to ``app``. A long module may stay long when its docstring has a line
beginning ``Size:`` followed by the reason, for example::

    \"\"\"The compliance rules, one pure function per comparator.

    Size: one table of rules read top to bottom; split, it would be read in six files.
    \"\"\"

A ``Size:`` line with nothing after it is no reason. Lines are physical lines, blank lines and
comments included, because that is what a reader scrolls through. Exit status: 0 every long
module has a reason, 1 some have none, 2 a module could not be parsed.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

MAX_LINES = 500


def size_reason(source: str) -> str | None:
    """The text after ``Size:`` in the module docstring, or None when there is none."""
    docstring = ast.get_docstring(ast.parse(source)) or ""
    for line in docstring.splitlines():
        line = line.strip()
        if line.startswith("Size:") and line.removeprefix("Size:").strip():
            return line.removeprefix("Size:").strip()
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", nargs="?", default="app", type=Path, help="the package folder (default: app)")
    parser.add_argument("--max-lines", type=int, default=MAX_LINES, help="longest module allowed without a reason")
    args = parser.parse_args(argv)

    root: Path = args.package
    if not root.is_dir():
        print(f"{root} is not a folder", file=sys.stderr)
        return 2
    unexplained: list[tuple[Path, int]] = []
    explained = 0
    modules = sorted(root.rglob("*.py"))
    for path in modules:
        source = path.read_text(encoding="utf-8")
        lines = len(source.splitlines())
        if lines <= args.max_lines:
            continue
        try:
            reason = size_reason(source)
        except SyntaxError as exc:
            print(f"cannot parse {path}:{exc.lineno}: {exc.msg}", file=sys.stderr)
            return 2
        if reason is None:
            unexplained.append((path, lines))
        else:
            explained += 1
    for path, lines in sorted(unexplained, key=lambda item: -item[1]):
        print(f"{path}: {lines} lines, and no 'Size:' line in its docstring says why")
    long_ones = len(unexplained) + explained
    summary = (
        f"{long_ones} of {len(modules)} modules in {root} are over {args.max_lines} lines; "
        f"{len(unexplained)} without a reason"
    )
    print(summary)
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
