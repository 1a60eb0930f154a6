"""The layout checks (scripts/check_imports.py, scripts/check_module_size.py) on small packages.

Each test writes a throwaway package under tmp_path and runs the script as ``make check-layout``
does, judging what its user sees: the lines printed and the exit status.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def write_package(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (path inside the package: source) as package ``pkg``; every folder a package."""
    package = root / "pkg"
    for name, source in {"__init__.py": "", **files}.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        for folder in path.relative_to(package).parents:
            (package / folder / "__init__.py").touch()
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    return package


def run(script: str, package: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPTS / script), str(package), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def cycles_in(package: Path) -> tuple[int, list[str]]:
    result = run("check_imports.py", package)
    lines = result.stdout.splitlines()
    return result.returncode, [line for line in lines if " -> " in line]


# Import cycles


def test_a_cycle_through_a_function_level_import_is_found_and_named(tmp_path: Path) -> None:
    package = write_package(
        tmp_path,
        {
            "orders.py": "from pkg.stock import reserve\n",
            "stock.py": """
                def reserve():
                    from pkg import orders  # deferred, but still a cycle
                    return orders
            """,
        },
    )
    assert cycles_in(package) == (1, ["pkg.orders -> pkg.stock -> pkg.orders"])
    where = run("check_imports.py", package, "--where").stdout
    assert f"{package / 'stock.py'}:3: pkg.stock imports pkg.orders" in where


def test_a_clean_package_passes_with_a_one_line_summary(tmp_path: Path) -> None:
    package = write_package(
        tmp_path,
        {
            "models.py": "import datetime\n",
            "service.py": "from pkg.models import Batch\nfrom . import models\n",
            "views.py": "from pkg import service\nimport pkg.models\n",
        },
    )
    result = run("check_imports.py", package)
    assert result.returncode == 0
    assert result.stdout.splitlines() == [f"no import cycles among 4 modules in {package} (3 imports)"]


@pytest.mark.parametrize(
    ("guard", "counts"),
    [
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import A\n", False),
        ("import typing\nif typing.TYPE_CHECKING:\n    import pkg.a\n", False),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    pass\nelse:\n    import pkg.a\n", True),
    ],
    ids=["TYPE_CHECKING", "typing.TYPE_CHECKING", "the else branch runs"],
)
def test_imports_for_the_type_checker_only_are_ignored(tmp_path: Path, guard: str, counts: bool) -> None:
    package = write_package(tmp_path, {"a.py": "from pkg.b import B\n", "b.py": guard})
    assert cycles_in(package) == ((1, ["pkg.a -> pkg.b -> pkg.a"]) if counts else (0, []))


def test_from_package_import_names_the_submodule_or_the_package(tmp_path: Path) -> None:
    package = write_package(
        tmp_path,
        {
            # ``rules`` is a submodule: an import of pkg.compliance.rules, not of pkg.compliance.
            "batches/__init__.py": "from pkg.compliance import rules\n",
            # ``Batch`` is a name: an import of the package pkg.batches (its __init__).
            "compliance/__init__.py": "from pkg.batches import Batch\n",
            "compliance/rules.py": "",
        },
    )
    assert cycles_in(package) == (0, [])
    (package / "compliance" / "rules.py").write_text("def judge():\n    from ..batches import Batch\n")
    assert cycles_in(package) == (1, ["pkg.batches -> pkg.compliance.rules -> pkg.batches"])


def test_every_cycle_is_printed_once_from_its_first_module(tmp_path: Path) -> None:
    package = write_package(
        tmp_path,
        {
            "c.py": "import pkg.a\n",
            "a.py": "import pkg.b\n",
            "b.py": "import pkg.a\nimport pkg.c\n",
            "d.py": "import pkg.a\n",  # reaches the cycles but is in none
        },
    )
    result = run("check_imports.py", package)
    assert result.returncode == 1
    assert [line for line in result.stdout.splitlines() if " -> " in line] == [
        "pkg.a -> pkg.b -> pkg.a",
        "pkg.a -> pkg.b -> pkg.c -> pkg.a",
    ]
    assert result.stdout.splitlines()[-1] == f"2 import cycle(s) through 3 of 5 modules in {package} (5 imports)"


def test_an_unparsable_module_is_an_error_not_a_pass(tmp_path: Path) -> None:
    package = write_package(tmp_path, {"broken.py": "def (:\n"})
    result = run("check_imports.py", package)
    assert result.returncode == 2
    assert "broken.py:1" in result.stderr


# Module size


def long_module(docstring: str, lines: int = 501) -> str:
    body = "\n".join(f"VALUE_{n} = {n}" for n in range(lines))
    return f'"""{docstring}"""\n{body}\n'


def test_a_long_module_without_a_reason_is_reported(tmp_path: Path) -> None:
    package = write_package(tmp_path, {"lineage.py": long_module("Split and merge batches.")})
    result = run("check_module_size.py", package)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{package / 'lineage.py'}: 502 lines, and no 'Size:' line in its docstring says why",
        f"1 of 2 modules in {package} are over 500 lines; 1 without a reason",
    ]


def test_a_long_module_with_a_reason_passes(tmp_path: Path) -> None:
    reason = "Split and merge batches.\n\n    Size: one walk of the lineage graph, read top to bottom.\n"
    package = write_package(tmp_path, {"lineage.py": long_module(reason), "short.py": long_module("Short.", 400)})
    result = run("check_module_size.py", package)
    assert result.returncode == 0
    assert result.stdout.splitlines() == [f"1 of 3 modules in {package} are over 500 lines; 0 without a reason"]


@pytest.mark.parametrize(
    "docstring",
    ["Split and merge batches.\n\nSize:\n", "Split and merge batches; Size: big"],
    ids=["an empty reason", "Size: not at the start of a line"],
)
def test_a_size_line_must_begin_a_line_and_give_a_reason(tmp_path: Path, docstring: str) -> None:
    package = write_package(tmp_path, {"lineage.py": long_module(docstring)})
    assert run("check_module_size.py", package).returncode == 1


def test_a_module_of_exactly_the_limit_passes(tmp_path: Path) -> None:
    package = write_package(tmp_path, {"exact.py": long_module("Exactly 500 lines.", 499)})
    result = run("check_module_size.py", package, "--max-lines", "500")
    assert result.returncode == 0, result.stdout
