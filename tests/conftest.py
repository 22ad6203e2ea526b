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


def body_lines(program: str) -> list[str]:
    """The lines inside a program's function, each with its newline: what a scripted
    synthesis backend replies, one line per call."""
    body = program.split("{\n", 1)[1].rsplit("}", 1)[0]
    return [line + "\n" for line in body.split("\n") if line.strip()]


def scripted_agents(reasoning_replies: list[str], synthesis_lines: list[str], **synthesis_options):
    """The reasoning and synthesis agents that the pipeline takes, on scripted backends
    (no model)."""
    from types import SimpleNamespace

    from neurojit_tui.agents import ReasoningAgent, ScriptedBackend, SynthesisAgent

    return SimpleNamespace(
        reasoning=ReasoningAgent(ScriptedBackend(list(reasoning_replies))),
        synthesis=SynthesisAgent(ScriptedBackend(list(synthesis_lines)), **synthesis_options),
    )


@pytest.fixture
def anyio_backend():
    """Async tests (``@pytest.mark.anyio``) run on asyncio, Textual's event loop."""
    return "asyncio"
