"""The files the app ships with: the workstation's themes and the TensorLang samples.

In the repository they live in the top-level ``themes/`` and ``samples/`` folders, their
one source of truth. A wheel carries copies of both as package data,
``neurojit_tui/data/themes`` and ``neurojit_tui/data/samples`` (``setup.py`` copies them
when it builds), found here through ``importlib.resources``. A checkout or an editable
install has no such copy and reads the top-level folders.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

PACKAGE = "neurojit_tui"
PACKAGED_DATA = "data"  # the folder inside the package that a wheel carries
SHIPPED_FOLDERS = ("themes", "samples")
CHECKOUT_ROOT = Path(__file__).resolve().parents[1]


def shipped_folder(name: str) -> Path:
    """The folder ``name`` (one of ``SHIPPED_FOLDERS``): the installed package's copy if
    there is one, else the checkout's. Always a real folder on disk: Textual and the
    compiler read these files by path (pip installs a wheel unpacked, so the package's
    resources are files)."""
    if name not in SHIPPED_FOLDERS:
        raise ValueError(f"{name!r} is not a shipped folder: {', '.join(SHIPPED_FOLDERS)}")
    packaged = files(PACKAGE) / PACKAGED_DATA / name
    if isinstance(packaged, os.PathLike) and packaged.is_dir():
        return Path(packaged)
    return CHECKOUT_ROOT / name
