import pytest

from neurojit_tui.compiler import Compiler
from neurojit_tui.paths import PROJECT_ROOT

SAMPLES = PROJECT_ROOT / "samples"


@pytest.fixture
def private_home(tmp_path, monkeypatch):
    """A temporary ~/.neurojit (layout, registry, recovery, engine log): the UI tests
    take it for every test with ``pytestmark = pytest.mark.usefixtures("private_home")``."""
    home = tmp_path / "home"
    monkeypatch.setenv("NEUROJIT_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def compiler():
    """One compiler (one MLIR context, recycled by the compiler itself) for the session."""
    return Compiler()


def tensor_type(shape, kind="f64"):
    return "tensor<" + "x".join(str(s) for s in shape) + f"x{kind}>"
