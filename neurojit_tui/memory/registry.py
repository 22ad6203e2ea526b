"""L1 / L2 memory of synthesized controllers, with machine-code reuse.

L1 is a dict in this process: key -> a live, callable controller. L2 is a folder
(``~/.neurojit/registry``, or ``$NEUROJIT_REGISTRY``, or ``Registry(root)``)::

    entries/<key>/<created_ns>-<pid>-<n>.json   one version of the entry (never rewritten)
    entries/<key>/obj-<sha256[:16]>.o            its object code (content-addressed)
    quarantine/                                  anything that failed a check, kept for a look
    tmp/                                         files being written

Integrity: every file is written to tmp/, fsynced and renamed into place, objects before
the entry that names them, so a reader (or a kill -9) only ever sees whole files. Every
version carries the SHA-256 of its own content and of its object; a version that fails
either, or that was built by another toolchain or CPU, is moved to quarantine/ with a
warning and rebuilt from its TensorLang source (when a ``rebuild`` function is given).
Versions are append-only with unique names, so processes sharing a registry never lose
each other's updates; a lookup takes the best-scoring valid version.

Writes go through a background thread (``put`` returns at once); ``flush`` waits for it
and runs at exit. A warm start reads one JSON file and links the object with llvmlite's
LLJIT: no MLIR, no LLVM optimization, no code generation.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import os
import queue
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..compiler import dialect as tl
from ..compiler.jit import AssertSite, AssertStatus, AssertViolation, CompiledProgram
from ..compiler.machine_code import LinkedCode, machine_code
from .key import toolchain

if TYPE_CHECKING:
    from ..sim.model import Environment

log = logging.getLogger("neurojit.registry")

ENTRY_FORMAT = 1

# ``Registry.rebuild``: (source, file) -> (object bytes, the program's asserts).
Rebuild = Callable[[str, str], tuple[bytes, list[AssertSite]]]


def default_root() -> Path:
    if os.environ.get("NEUROJIT_REGISTRY"):
        return Path(os.environ["NEUROJIT_REGISTRY"]).expanduser()
    from ..paths import neurojit_home

    return neurojit_home() / "registry"


@dataclass
class Entry:
    """One stored controller. ``key_data`` is what the key hashes (see key.py)."""

    key: str
    key_data: dict[str, Any]
    source: str
    file: str = ""  # where the source came from, for messages
    strategy: dict[str, Any] | None = None
    scores: dict[str, Any] = field(default_factory=dict)  # success_rate, cvar10_score, ...
    provenance: dict[str, Any] = field(default_factory=dict)  # models, seeds, repair tiers, parents
    asserts: list[AssertSite] = field(default_factory=list)  # to name a violated one
    created: float = field(default_factory=time.time)
    object_sha256: str = ""
    format: int = ENTRY_FORMAT

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Entry:
        """The entry ``to_json`` wrote (a TypeError when ``data`` is not one)."""
        return cls(**{**data, "asserts": [AssertSite(**a) for a in data.get("asserts", [])]})

    @property
    def object_name(self) -> str:
        """The file name of its object code, next to its versions (content-addressed)."""
        return f"obj-{self.object_sha256[:16]}.o"

    def rank_key(self) -> tuple[float, float, float]:
        return (
            self.scores.get("success_rate") or 0.0,
            self.scores.get("cvar10_score") or -1e300,
            self.created,
        )


def _content_hash(data: dict[str, Any]) -> str:
    body = {k: v for k, v in data.items() if k != "entry_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


class LoadedController:
    """A controller linked from stored object code. Duck-types ``CompiledProgram`` for
    ``ControllerSlot``: ``address(name)`` and ``take_assert_violation()``."""

    def __init__(self, entry: Entry, linked: LinkedCode):
        self.entry = entry
        self.path = entry.file
        self._linked = linked  # holding it keeps the code mapped
        self._address = linked.addresses[tl.CONTROL_ENTRY]
        self._assert_status = AssertStatus(
            linked.addresses[tl.ASSERT_STATUS_GLOBAL],
            {a.number: a.violation() for a in entry.asserts},
        )

    def address(self, name: str) -> int:
        if name != tl.CONTROL_ENTRY:
            raise KeyError(f"a stored controller exports only @{tl.CONTROL_ENTRY}")
        return self._address

    def take_assert_violation(self) -> AssertViolation | None:
        return self._assert_status.take()


class Registry:
    def __init__(
        self, root: str | Path | None = None, rebuild: Rebuild | None = None, prewarm: bool = True
    ):
        """``rebuild(source, file) -> (object bytes, asserts)`` recompiles a stored
        source whose object can no longer be used (the engine passes the compiler)."""
        self.root = Path(root) if root else default_root()
        self.rebuild = rebuild
        # a live program: stored (LoadedController) or just compiled and remembered
        self.l1: dict[str, LoadedController | CompiledProgram] = {}
        self.warnings: list[str] = []
        self._queue: queue.Queue[tuple[Entry, bytes]] = queue.Queue()
        self._writer = threading.Thread(
            target=self._drain, name="neurojit-registry-writer", daemon=True
        )
        self._writer.start()
        atexit.register(self.flush)
        if (
            prewarm
        ):  # once per process: the JIT, and the toolchain facts entries are checked against
            machine_code()
            toolchain()

    # -- paths ---------------------------------------------------------------------------

    def _entries(self) -> Path:
        return self.root / "entries"

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        log.warning(message)

    # -- lookup --------------------------------------------------------------------------

    def lookup(self, key: str) -> tuple[LoadedController | CompiledProgram | None, str]:
        """(controller, "l1" | "l2" | "miss")."""
        hit = self.l1.get(key)
        if hit is not None:
            return hit, "l1"
        for _ in range(2):  # a second pass sees versions rebuilt during the first
            warnings = len(self.warnings)
            for entry, path in self._valid_versions(key):
                loaded = self._load(entry, path)
                if loaded is not None:
                    self.l1[key] = loaded
                    return loaded, "l2"
            if len(self.warnings) == warnings or self.rebuild is None:
                break
        return None, "miss"

    def _valid_versions(self, key: str) -> list[tuple[Entry, Path]]:
        folder = self._entries() / key
        try:
            files = sorted(folder.glob("*.json"))
        except OSError as error:
            self._warn(f"{folder}: cannot read the registry: {error.strerror}")
            return []
        versions = []
        for path in files:
            entry = self._read_entry(path)
            if entry is not None:
                versions.append((entry, path))
        return sorted(versions, key=lambda v: v[0].rank_key(), reverse=True)

    def _read_entry(self, path: Path) -> Entry | None:
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return None  # gc'ed meanwhile
        except (OSError, ValueError) as error:
            self._quarantine(path, f"unreadable or not JSON ({error})")
            return None
        if not isinstance(data, dict) or data.get("entry_sha256") != _content_hash(data):
            self._quarantine(path, "content hash mismatch (corrupt or edited)")
            return None
        data.pop("entry_sha256")
        try:
            entry = Entry.from_json(data)
        except TypeError:
            self._quarantine(path, "not a registry entry of this format")
            return None
        if entry.key_data.get("toolchain") != toolchain():
            self._quarantine(
                path,
                "built by another compiler/LLVM version or for another CPU",
                rebuild_from=entry,
            )
            return None
        return entry

    def _load(self, entry: Entry, version: Path) -> LoadedController | None:
        obj = version.parent / entry.object_name
        try:
            data = obj.read_bytes()
        except OSError as error:
            self._quarantine(
                version, f"its object {obj.name}: {error.strerror}", rebuild_from=entry
            )
            return None
        if hashlib.sha256(data).hexdigest() != entry.object_sha256:
            self._quarantine(obj, "object code hash mismatch (truncated or corrupt)")
            self._quarantine(version, "its object code is corrupt", rebuild_from=entry)
            return None
        linked = machine_code().link(obj, [tl.CONTROL_ENTRY, tl.ASSERT_STATUS_GLOBAL], entry.key)
        return LoadedController(entry, linked)

    def _quarantine(self, path: Path, reason: str, rebuild_from: Entry | None = None) -> None:
        self._warn(
            f"registry: {path}: {reason}; moved to quarantine"
            + ("; rebuilding from its TensorLang source" if rebuild_from and self.rebuild else "")
        )
        target = (
            self.root / "quarantine" / f"{int(time.time() * 1e6)}-{path.parent.name}-{path.name}"
        )
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if path.exists():
                shutil.move(str(path), str(target))
        except OSError as error:
            self._warn(f"registry: cannot quarantine {path}: {error}")
        if rebuild_from is not None and self.rebuild is not None:
            try:
                object_bytes, asserts = self.rebuild(rebuild_from.source, rebuild_from.file)
            except Exception as error:  # a stored source that no longer compiles
                self._warn(f"registry: cannot rebuild {rebuild_from.key}: {error}")
                return
            fresh = replace(
                rebuild_from,
                asserts=asserts,
                created=time.time(),
                key_data={**rebuild_from.key_data, "toolchain": toolchain()},
            )
            self._write(fresh, object_bytes)

    # -- storing -------------------------------------------------------------------------

    def put(
        self,
        entry: Entry,
        object_bytes: bytes,
        loaded: LoadedController | CompiledProgram | None = None,
    ) -> None:
        """Store ``entry`` (L1 now if ``loaded`` is given; L2 in the background)."""
        entry.object_sha256 = hashlib.sha256(object_bytes).hexdigest()
        if loaded is not None:
            self.l1[entry.key] = loaded
        self._queue.put((entry, object_bytes))

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until every queued write is on disk; False on time-out."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def _drain(self) -> None:
        while True:
            entry, object_bytes = self._queue.get()
            try:
                self._write(entry, object_bytes)
            except OSError as error:
                self._warn(f"registry: cannot write {entry.key} under {self.root}: {error}")
            finally:
                self._queue.task_done()

    def _write(self, entry: Entry, object_bytes: bytes) -> Path:
        folder = self._entries() / entry.key
        folder.mkdir(parents=True, exist_ok=True)
        entry.object_sha256 = hashlib.sha256(object_bytes).hexdigest()
        obj = folder / entry.object_name
        if not obj.exists():
            self._atomic_write(obj, object_bytes)
        data = entry.to_json()
        data["entry_sha256"] = _content_hash(data)
        name = f"{time.time_ns()}-{os.getpid()}-{threading.get_ident() % 100000}.json"
        path = folder / name
        self._atomic_write(path, json.dumps(data, indent=1, sort_keys=True).encode())
        return path

    def _atomic_write(self, path: Path, data: bytes) -> None:
        tmp_dir = self.root / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        tmp = tmp_dir / f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp"
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)  # the rename itself reaches the disk
        finally:
            os.close(fd)

    # -- browsing and upkeep -------------------------------------------------------------

    def keys(self) -> list[str]:
        try:
            return sorted(p.name for p in self._entries().iterdir() if p.is_dir())
        except OSError:
            return []

    def versions(self, key: str) -> list[Entry]:
        """Every valid version stored for ``key``, best first."""
        return [entry for entry, _ in self._valid_versions(key)]

    def best(self, key: str) -> Entry | None:
        versions = self._valid_versions(key)
        return versions[0][0] if versions else None

    def entries(self) -> list[Entry]:
        return [e for e in (self.best(k) for k in self.keys()) if e is not None]

    def nearby(
        self,
        env: Environment,
        count: int = 3,
        with_strategy: bool = True,
        gym: str | None = None,
    ) -> list[Entry]:
        """The stored entries (best version per key) whose conditions are closest to
        ``env``'s, whatever toolchain or models made them: parents for cross-generation
        synthesis (which needs their strategies) and seeds for evolution (which does not).
        Entries judged where ``gym`` says (a Gymnasium ``EnvSpec.key()``; None: on the
        native landers) come before the others."""
        from .key import canonical_condition

        here = canonical_condition(env)

        def order(entry: Entry) -> tuple[bool, float]:
            there: dict[str, float] = entry.key_data.get("condition", {})
            judged_elsewhere = entry.key_data.get("gym") != gym
            distance = abs(there.get("gravity", 0.0) - here["gravity"]) / max(
                here["gravity"], 0.1
            ) + abs(there.get("turbulence", 0.0) - here["turbulence"])
            return judged_elsewhere, distance

        return sorted((e for e in self.entries() if e.strategy or not with_strategy), key=order)[
            :count
        ]

    def verify(self) -> dict[str, Any]:
        """Check every version and object; bad ones go to quarantine. Returns counts."""
        before = len(self.warnings)
        checked = 0
        for key in self.keys():
            for entry, path in self._valid_versions(key):
                checked += 1
                obj = path.parent / entry.object_name
                try:
                    ok = hashlib.sha256(obj.read_bytes()).hexdigest() == entry.object_sha256
                except OSError:
                    ok = False
                if not ok:
                    if obj.exists():
                        self._quarantine(obj, "object code corrupt")
                    self._quarantine(path, "object code missing or corrupt", rebuild_from=entry)
        problems = self.warnings[before:]
        return {"checked": checked, "problems": problems}

    def gc(self, keep_versions: int = 3, tmp_age_s: float = 60.0) -> dict[str, int]:
        """Keep the best ``keep_versions`` versions per key, drop unreferenced objects and
        stale temporary files. Quarantine is left for the user to inspect."""
        removed = 0
        for key in self.keys():
            versions = self._valid_versions(key)
            for _, path in versions[keep_versions:]:
                path.unlink(missing_ok=True)
                removed += 1
            referenced = {e.object_name for e, _ in versions[:keep_versions]}
            for obj in (self._entries() / key).glob("obj-*.o"):
                if obj.name not in referenced:
                    obj.unlink(missing_ok=True)
                    removed += 1
        for tmp in (self.root / "tmp").glob("*.tmp") if (self.root / "tmp").exists() else []:
            if time.time() - tmp.stat().st_mtime >= tmp_age_s:
                tmp.unlink(missing_ok=True)
                removed += 1
        return {"removed": removed}
