"""The file the editor edits: read when the workstation opens, written on Ctrl+S, and
rescued to ``~/.neurojit/recovery/`` when the terminal goes away with it unsaved.

A file that cannot be read (or is not UTF-8) opens the scratch buffer instead, with no
path, so Ctrl+S cannot write over the file that could not be read.
"""

from __future__ import annotations

import time
from pathlib import Path

from ..paths import neurojit_home

SCRATCH = """// Scratch buffer: a TensorLang controller. Diagnostics update as you type.
func.func @control(%obs: tensor<8xf64>, %mem: tensor<4xf64>) -> (tensor<2xf64>, tensor<4xf64>) {
  %a = "tensorlang.constant"() {value = dense<[0.0, 0.0]> : tensor<2xf64>} : () -> tensor<2xf64>
  return %a, %mem : tensor<2xf64>, tensor<4xf64>
}
"""


class NothingToSaveTo(Exception):
    """The scratch buffer has no file."""


class EditedFile:
    def __init__(self, path: Path | None, saved_text: str, open_error: str | None = None):
        self.path = path
        self.saved_text = saved_text  # what is on disk: the buffer is modified when it differs
        self.open_error = open_error  # why the file the user named could not be opened

    @classmethod
    def open(cls, path: str | None) -> EditedFile:
        if not path:
            return cls(None, SCRATCH)
        chosen = Path(path)
        if not chosen.exists():
            return cls(chosen, SCRATCH)  # a new file, written on the first save
        try:
            return cls(chosen, chosen.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
            return cls(None, SCRATCH, f"{chosen}: error: cannot open it: {reason}")

    @property
    def name(self) -> str:
        return str(self.path) if self.path else "scratch.mlir"

    def is_modified(self, text: str) -> bool:
        return text != self.saved_text

    def save(self, text: str) -> str:
        """Write ``text`` to the file; what to tell the user."""
        if self.path is None:
            raise NothingToSaveTo("scratch buffer: start with `neurojit FILE` to save")
        self.path.write_text(text)
        self.saved_text = text
        return f"saved {self.path}"

    def write_recovery(self, text: str) -> Path:
        folder = neurojit_home() / "recovery"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{Path(self.name).stem}-{time.strftime('%Y%m%d-%H%M%S')}.mlir"
        path.write_text(text)
        return path


def editor_title(file: EditedFile, text: str, remote: bool) -> str:
    """The editor's border title: the file's name, ● when ``text`` (the buffer) differs
    from what is on disk, and over SSH that the lander draws fewer frames."""
    title = f"Editor · {Path(file.name).name}" + (" ●" if file.is_modified(text) else "")
    return title + ("  (over SSH: 10 fps)" if remote else "")
