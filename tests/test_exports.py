"""The public surface: ``gsocklab``, ``gsocklab.Gio`` and ``gsocklab.GLib``."""

from __future__ import annotations

import subprocess
import sys
import types

import gsocklab
from gsocklab import Gio, GLib

LAZY = {"Recorder", "TRAFFIC_SCHEMA"}  # need pandas: imported on first use


def test_public_names_match_all() -> None:
    public = {name for name, value in vars(gsocklab).items()
              if not name.startswith("_") and not isinstance(value, types.ModuleType)}
    assert public | LAZY | {"Gio", "GLib"} == set(gsocklab.__all__)
    assert gsocklab.__all__ == sorted(gsocklab.__all__)
    for name in LAZY:
        assert getattr(gsocklab, name) is not None


def test_namespaces_export_what_they_list() -> None:
    for namespace in (Gio, GLib):
        for name in namespace.__all__:
            assert hasattr(namespace, name), name


def test_same_objects_at_top_level_and_in_gio() -> None:
    assert gsocklab.Socket is Gio.Socket
    assert gsocklab.Error is GLib.Error
    assert gsocklab.IOCondition is GLib.IOCondition


def test_core_import_pulls_in_no_jupyter_or_pandas() -> None:
    code = (
        "import sys, gsocklab\n"
        "bad = [m for m in ('pandas', 'ipywidgets', 'IPython', 'jupyter_client', 'traitlets', 'numpy')"
        " if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == ""
