"""Build step: the wheel carries the top-level ``themes/`` and ``samples/`` folders.

They stay where they are in the repository (their one source of truth) and are copied
into the built package as ``neurojit_tui/data/themes`` and ``neurojit_tui/data/samples``,
where ``neurojit_tui/resources.py`` finds them through ``importlib.resources``. Metadata
and dependencies are in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED_FOLDERS = ("themes", "samples")  # resources.SHIPPED_FOLDERS (not importable here)


class BuildPyWithData(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout's folders
        target = Path(self.build_lib) / "neurojit_tui" / "data"
        for name in SHIPPED_FOLDERS:
            shutil.rmtree(target / name, ignore_errors=True)  # no files left from older builds
            shutil.copytree(ROOT / name, target / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildPyWithData})
