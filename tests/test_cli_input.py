"""Bad input gets a clear error and nothing is lost: unreadable and non-UTF-8 files,
out-of-range numbers, mistyped commands, no terminal, a swarm larger than the memory; and a
property test that drives every command with random arguments and files: no traceback."""

import os
import re
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from neurojit_tui import cli
from neurojit_tui.paths import PROJECT_ROOT

SAMPLES = PROJECT_ROOT / "samples"
NOT_UTF8 = b"// a comment in Latin-1: caf\xe9\nfunc.func @f() {\n}\n"


def neurojit(*args, stdin=subprocess.DEVNULL, timeout=300, home=None):
    env = {**os.environ, **({"NEUROJIT_HOME": str(home)} if home else {})}
    return subprocess.run(
        [sys.executable, "-m", "neurojit_tui.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=stdin,
        env=env,
    )


def one_line_error(result, exit_code=1) -> str:
    assert result.returncode == exit_code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# -- files ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["check"],
        ["check", "--json"],
        ["compile"],
        ["run", "--entry", "control"],
        ["swarm"],
        ["gym", "--env", "NeuroJIT/LunarLander-v0"],
    ],
)
def test_a_file_that_is_not_utf8_is_one_line_and_exit_1(tmp_path, command):
    path = tmp_path / "latin1.mlir"
    path.write_bytes(NOT_UTF8)
    line = one_line_error(neurojit(*command[:1], path, *command[1:]))
    assert line == (
        f"{path}: error: not UTF-8 text (byte 0xe9 on line 1, offset 28); "
        f"TensorLang files are UTF-8"
    )


def test_unreadable_files_are_one_line_and_exit_1(tmp_path):
    assert one_line_error(neurojit("check", tmp_path)) == (
        f"{tmp_path}: error: cannot read it: Is a directory"
    )
    missing = tmp_path / "missing.mlir"
    assert one_line_error(neurojit("compile", missing)) == (
        f"{missing}: error: cannot read it: No such file or directory"
    )
    assert one_line_error(neurojit("check", "/dev/zero")) == (
        "/dev/zero: error: larger than 16 MiB, so not a TensorLang program"
    )


def test_a_utf8_byte_order_mark_is_not_an_error(tmp_path):
    path = tmp_path / "bom.mlir"
    path.write_bytes(b"\xef\xbb\xbf" + (SAMPLES / "pd.mlir").read_bytes())
    result = neurojit("check", path, "--controller")
    assert result.returncode == 0, result.stderr


def test_the_workstation_refuses_a_bad_file_before_it_starts(tmp_path):
    path = tmp_path / "latin1.mlir"
    path.write_bytes(NOT_UTF8)
    line = one_line_error(neurojit(path, home=tmp_path))
    assert line.startswith(f"{path}: error: not UTF-8 text")
    assert path.read_bytes() == NOT_UTF8  # nothing lost
    assert (
        one_line_error(neurojit("ui", tmp_path, home=tmp_path)) == f"{tmp_path}: error: not a file"
    )


# -- numbers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arguments, message",
    [
        (
            ["swarm", "F", "--agents", "0"],
            "argument --agents: 0 is out of range: give an integer from 1 to 1,000,000,000",
        ),
        (["swarm", "F", "--agents", "-5"], "argument --agents: -5 is out of range"),
        (
            ["swarm", "F", "--max-steps", "-1"],
            "argument --max-steps: -1 is out of range: give an integer from 1 to 10,000,000",
        ),
        (
            ["swarm", "F", "--gravity", "nan"],
            "argument --gravity: nan is not a finite number: give one from 0 to 100",
        ),
        (["swarm", "F", "--turbulence", "-0.5"], "argument --turbulence: -0.5 is out of range"),
        (["swarm", "F", "--threads", "0"], "argument --threads: 0 is out of range"),
        (
            ["swarm", "F", "--timeout", "0"],
            "argument --timeout: 0 is out of range: give a number above 0 and at most 1e+07",
        ),
        (["swarm", "F", "--seed", "-1"], "argument --seed: -1 is out of range"),
        (["swarm", "F", "--agents", "ten"], "argument --agents: 'ten' is not an integer"),
        (["gym", "F", "--env", "E", "--episodes", "0"], "argument --episodes: 0 is out of range"),
        (["synthesize", "--gravity", "inf"], "argument --gravity: inf is not a finite number"),
        (["repair", "F", "--max-attempts", "0"], "argument --max-attempts: 0 is out of range"),
        (["bench", "jit", "--repeats", "0"], "argument --repeats: 0 is out of range"),
        (["ui", "--fps", "0"], "argument --fps: 0 is out of range"),
        (
            ["ui", "--gravity", "101"],
            "argument --gravity: 101 is out of range: give a number from 0 to 100",
        ),
        (["new.mlir", "--turbulence", "x"], "argument --turbulence: 'x' is not a number"),
    ],
)
def test_out_of_range_numbers_are_refused_with_the_range(arguments, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(arguments)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


# -- commands and the terminal ----------------------------------------------------------------


def test_a_mistyped_command_gets_the_nearest_one(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["swram", "samples/pd.mlir"])
    assert exit_.value.code == 2
    assert "unknown command 'swram'; did you mean 'swarm'?" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["frobnicate"])
    error = capsys.readouterr().err
    assert "unknown command 'frobnicate'; commands: bench, check," in error


def test_the_workstation_without_a_terminal_exits_at_once(tmp_path):
    for arguments in ([], ["new-file.mlir"], [SAMPLES / "pd.mlir"], ["ui"]):
        start = time.monotonic()
        line = one_line_error(neurojit(*arguments, home=tmp_path, timeout=60))
        assert line.startswith("neurojit: error: the workstation needs a terminal")
        assert time.monotonic() - start < 30
    assert not (tmp_path / "new-file.mlir").exists()


# -- a swarm larger than the memory -----------------------------------------------------------


def test_a_swarm_larger_than_the_memory_is_refused_before_it_allocates():
    start = time.monotonic()
    result = neurojit("swarm", SAMPLES / "pd.mlir", "--agents", 10**9, "--max-steps", 10)
    line = one_line_error(result)
    assert re.fullmatch(
        r"neurojit: error: a swarm of 1,000,000,000 landers needs about "
        r"[\d.]+ GiB of memory and [\d.]+ GiB is available; at most [\d,]+ "
        r"landers fit",
        line,
    ), line
    assert time.monotonic() - start < 60


MEASURE = """
import resource, sys
from neurojit_tui.sim import Environment, evaluate
agents = int(sys.argv[1])
report = evaluate(open(sys.argv[2]).read(), "pd.mlir", Environment(), agents=agents, max_steps=2)
assert report.ok and report.agents == agents
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


@pytest.mark.slow
def test_the_swarm_memory_estimate_bounds_a_real_run():
    agents = 1_000_000
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(agents), SAMPLES / "pd.mlir"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    peak = int(result.stdout.split()[-1])
    estimate = cli.SWARM_BASE_BYTES + agents * cli.SWARM_BYTES_PER_AGENT
    assert peak <= estimate, f"peak {peak / 2**20:.0f} MiB > estimate {estimate / 2**20:.0f} MiB"
    assert peak >= estimate / 2  # and it is an estimate, not a blanket refusal


# -- the property: no command, with any arguments and files, ends in a traceback -----------------

NUMBERS = st.one_of(
    st.integers(-3, 3),
    st.integers(-(10**12), 10**12),
    st.sampled_from(["nan", "inf", "-inf", "1e400", "", "x", "0.5", "-0"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
SMALL_COUNT = st.one_of(st.integers(1, 30).map(str), NUMBERS.map(str))
JSON_ARGUMENTS = st.sampled_from(
    [
        "[0.1, 1.2, 0, -0.3, 0, 0, 0, 0]",
        "[0, 0, 0, 0]",
        "[1, 2]",
        "1.5",
        '"x"',
        '{"a": 1}',
        "[[1]]",
        "nan",
        "1e999",
        "[1, 2",
        "99999999999999999999999",
        "null",
        "[true, false]",
    ]
)
FILE_KINDS = [
    "valid",
    "broken",
    "random-text",
    "random-bytes",
    "not-utf8",
    "empty",
    "folder",
    "missing",
    "dev-null",
]


def flags(options: dict):
    """Any subset of ``options`` (flag -> strategy of values, None for a bare flag)."""
    names = sorted(options)
    return (
        st.lists(st.sampled_from(names), unique=True, max_size=len(names))
        .flatmap(
            lambda chosen: st.tuples(
                *[
                    st.just([name])
                    if options[name] is None
                    else options[name].map(lambda v, n=name: [n, str(v)])
                    for name in chosen
                ]
            )
        )
        .map(lambda groups: [word for group in groups for word in group])
    )


def arguments_for(command: str, file: str, out: str, registry: str):
    """Arguments for one command: a mix of meaningful and meaningless values, bounded so
    that nothing runs long (few landers and steps) and no language model is loaded."""
    no_models = [
        "--reasoning-model",
        out + "/missing.gguf",
        "--synthesis-model",
        out + "/missing.gguf",
    ]
    agent_set = st.lists(
        st.sampled_from(
            [
                "synthesis.temperature=abc",
                "reasoning.n_ctx=-5",
                "synthesis.bogus=1",
                "nope",
                "reasoning.=1",
                "synthesis.seed=[1,2]",
            ]
        ),
        max_size=2,
    ).map(lambda sets: [x for s in sets for x in ("--agent-set", s)])
    if command == "check":
        return flags({"--json": None, "--controller": None}).map(lambda f: [file, *f])
    if command == "compile":
        return flags(
            {
                "--emit": st.sampled_from(["mlir-lowered", "llvm-dialect", "obj", "bogus"]),
                "-o": st.sampled_from([out + "/x.o", out, "/proc/nope/x.o"]),
                "--tier": st.sampled_from(["quick", "full", "best"]),
            }
        ).map(lambda f: [file, *f])
    if command == "run":
        return st.tuples(
            st.sampled_from(["control", "f", "nope", ""]), st.lists(JSON_ARGUMENTS, max_size=3)
        ).map(lambda t: [file, "--entry", t[0], *[x for a in t[1] for x in ("--arg", a)]])
    if command == "swarm":
        return flags(
            {
                "--agents": st.one_of(SMALL_COUNT, st.just(10**9)),
                "--max-steps": st.one_of(st.integers(1, 200), NUMBERS),
                "--seed": NUMBERS,
                "--gravity": NUMBERS,
                "--turbulence": NUMBERS,
                "--threads": SMALL_COUNT,
                "--timeout": NUMBERS,
                "--json": None,
            }
        ).map(lambda f: [file, "--max-steps", "50", *f])
    if command == "gym":
        return st.tuples(
            st.sampled_from(["NeuroJIT/LunarLander-v0", "CartPole-v1", "Nope-v0", "bad:name", ""]),
            flags(
                {
                    "--episodes": st.one_of(st.integers(1, 2), NUMBERS),
                    "--seed": NUMBERS,
                    "--max-steps": st.one_of(st.integers(1, 100), NUMBERS),
                    "--json": None,
                }
            ),
        ).map(lambda t: [file, "--env", t[0], "--max-steps", "100", *t[1]])
    if command == "repair":
        return st.tuples(
            flags(
                {
                    "--max-attempts": st.one_of(st.integers(1, 2), NUMBERS),
                    "--time-budget": NUMBERS,
                    "--mode": st.sampled_from(["dual", "monolithic", "x"]),
                    "-o": st.just(out + "/r.mlir"),
                    "--log": st.sampled_from([out + "/log.json", out]),
                    "--json": None,
                }
            ),
            agent_set,
        ).map(lambda t: [file, "--max-attempts", "1", *t[0], *t[1], *no_models])
    if command == "synthesize":
        return st.tuples(
            flags(
                {
                    "--gravity": NUMBERS,
                    "--turbulence": NUMBERS,
                    "--candidates": st.one_of(st.just(1), NUMBERS),
                    "--agents": st.one_of(st.just(10**9), NUMBERS),
                    "--from-nearby": NUMBERS,
                    "--json": None,
                }
            ),
            agent_set,
        ).map(lambda t: ["--no-cache", "--out-dir", out + "/candidates", *t[0], *t[1], *no_models])
    if command == "registry":
        return st.tuples(
            st.sampled_from(["ls", "show", "verify", "gc", "bogus"]),
            st.sampled_from([[], ["0" * 64], ["../x"]]),
            flags({"--json": None}),
            st.sampled_from([registry, file]),
        ).map(lambda t: [t[0], *t[1], *t[2], "--registry", t[3]])
    if command == "bench":  # never a real benchmark: only what argparse refuses
        return st.tuples(
            st.sampled_from(["jit", "swarm", "bogus"]), st.sampled_from(["0", "-1", "x", "nan"])
        ).map(lambda t: [t[0], "--repeats", t[1]])
    if command == "samples":
        return flags({"--copy": st.sampled_from([out + "/samples", file]), "--json": None})
    if command == "demo":  # folders with fewer than two controllers: no full demo run
        return st.sampled_from([[], [file]]).map(
            lambda f: ["--samples", *(f or [out + "/no-such-folder"])]
        )
    if command == "ui":  # no terminal here: it must say so
        return flags(
            {
                "--fps": NUMBERS,
                "--theme": st.sampled_from(["dark", "nope"]),
                "--layout": st.sampled_from(["auto", "bogus"]),
                "--gravity": NUMBERS,
                "--turbulence": NUMBERS,
            }
        ).map(lambda f: [*f, file])
    # a command this test does not know (lsp reads stdin; any other is new): a bad flag
    return st.just(["--no-such-flag"])


COMMANDS = sorted(cli.build_parser()._subparsers._group_actions[0].choices) + ["<file>"]


def write_file(folder, kind: str, data) -> str:
    if kind == "missing":
        return str(folder / "missing.mlir")
    if kind == "folder":
        return str(folder)
    if kind == "dev-null":
        return "/dev/null"
    if kind == "random-text":
        data = data.encode("utf-8", "surrogatepass")
    elif kind != "random-bytes":
        data = {
            "valid": (SAMPLES / "pd.mlir").read_bytes(),
            "broken": (SAMPLES / "broken" / "undefined_value.mlir").read_bytes(),
            "not-utf8": NOT_UTF8,
            "empty": b"",
        }[kind]
    path = folder / f"{kind}.mlir"
    path.write_bytes(data)
    return str(path)


@pytest.mark.slow
@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(st.data())
def test_no_command_ends_in_a_traceback(tmp_path_factory, monkeypatch, capsys, data):
    work = tmp_path_factory.mktemp("cli")
    monkeypatch.setenv("NEUROJIT_HOME", str(work / "home"))
    monkeypatch.chdir(work)
    command = data.draw(st.sampled_from(COMMANDS), label="command")
    # a valid program half of the time, so that commands get past reading their file
    kind = data.draw(st.one_of(st.just("valid"), st.sampled_from(FILE_KINDS)), label="file")
    content = data.draw(
        st.text(max_size=300) if kind == "random-text" else st.binary(max_size=300), label="content"
    )
    file = write_file(work, kind, content)
    if command == "<file>":  # `neurojit WORD`: the workstation, or an unknown command
        argv = [data.draw(st.sampled_from([file, "swram", "frobnicate", "x.mlir"]), label="word")]
    else:
        argv = [
            command,
            *data.draw(
                arguments_for(command, file, str(work), str(work / "reg")), label="arguments"
            ),
        ]
    try:
        code = cli.main(argv)
    except SystemExit as exit_:
        code = exit_.code
    output = capsys.readouterr()
    assert "Traceback" not in output.err
    if isinstance(code, str):  # a message for stderr (SystemExit prints it): one line
        assert "\n" not in code, code
        code = 1
    assert code in (0, 1, 2, None), (argv, code, output.err[-2000:])
    event(f"{command} exit {code or 0}")  # --hypothesis-show-statistics: what was covered
