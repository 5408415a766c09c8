"""The package root exports exactly the curated public API, sorted, and importing it stays light."""

from __future__ import annotations

import subprocess
import sys
import types

import blendsearch


def test_all_is_sorted_and_complete() -> None:
    # Submodules become attributes once anything imports them; only non-module names count as exports.
    exported = {
        name
        for name in dir(blendsearch)
        if not name.startswith("_") and not isinstance(getattr(blendsearch, name), types.ModuleType)
    }
    assert blendsearch.__all__ == sorted(blendsearch.__all__)
    for name in blendsearch.__all__:
        assert hasattr(blendsearch, name), name
    leaked = exported - set(blendsearch.__all__)
    assert not leaked, f"names exported by accident: {sorted(leaked)}"


def test_import_loads_no_torch_and_no_clients() -> None:
    code = (
        "import sys, blendsearch, blendsearch.cli; "
        "names = ('torch', 'transformers', 'faiss', 'opensearchpy', 'elasticsearch'); "
        "heavy = [m for m in names if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
