"""Per-core CPU meters: a pure model (unit-tested with any core count) and its widget.

``CoreMeters`` keeps a short history per logical core and lays the cores out in a grid
that fits the pane: 2 cores or 256, each gets a bar and a sparkline of its history.
With a Ray cluster configured (``[cluster] address`` in ``~/.neurojit/config.toml``),
each node's CPU load follows, one line per node, read by ``cluster.monitor`` in a child
process (this process never imports Ray).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from textual import on
from textual.message import Message
from textual.widgets import Static

BLOCKS = " ▁▂▃▄▅▆▇█"
HISTORY = 16


@dataclass
class CoreMeters:
    history: int = HISTORY
    cores: list[deque] = field(default_factory=list)
    total: deque = field(default_factory=lambda: deque(maxlen=HISTORY))
    # per-process load: [(name, percent of one core, what it is doing)]
    processes: list[tuple[str, float, str]] = field(default_factory=list)
    # per cluster node: {"node", "address", "cpus", "percent"} (cluster.monitor's reading)
    nodes: list[dict] = field(default_factory=list)
    cluster_note: str = ""  # what the cluster's monitor says when it has no reading

    def update(self, per_core_percent: list[float]) -> None:
        if len(self.cores) != len(per_core_percent):
            self.cores = [deque(maxlen=self.history) for _ in per_core_percent]
        for history, value in zip(self.cores, per_core_percent):
            history.append(max(0.0, min(100.0, float(value))))
        self.total.append(sum(per_core_percent) / max(1, len(per_core_percent)))

    @staticmethod
    def bar(percent: float, width: int) -> str:
        filled = percent / 100.0 * width
        full = int(filled)
        part = BLOCKS[int((filled - full) * (len(BLOCKS) - 1))] if full < width else ""
        return ("█" * full + part).ljust(width)[:width]

    @staticmethod
    def sparkline(values) -> str:
        return "".join(BLOCKS[round(v / 100.0 * (len(BLOCKS) - 1))] for v in values)

    def columns_for(self, width: int, cell: int) -> int:
        return max(1, width // cell)

    def render(self, width: int) -> str:
        """The meters as text lines for a pane ``width`` characters wide."""
        if not self.cores:
            return "sampling..."
        label = len(str(len(self.cores) - 1))
        # cell: "NN " + bar + " " + percent(4) + gap(2); sparkline if there is room
        bar_width = 8 if width >= 60 else 5
        spark = self.history if width >= 120 else 0
        cell = label + 1 + bar_width + 5 + (spark + 1 if spark else 0) + 2
        columns = self.columns_for(width, cell)
        lines = [
            f"all {self.bar(self.total[-1], bar_width)} {self.total[-1]:3.0f}%  "
            f"{len(self.cores)} cores"
        ]
        if self.processes:
            lines.append(
                "  ".join(
                    f"{name} {percent:.0f}%" + (f" ({note})" if note else "")
                    for name, percent, note in self.processes
                )
            )
        row = []
        for index, history in enumerate(self.cores):
            text = f"{index:>{label}} {self.bar(history[-1], bar_width)} {history[-1]:3.0f}%"
            if spark:
                text += " " + self.sparkline(history).ljust(spark)
            row.append(text)
            if len(row) == columns:
                lines.append("  ".join(row))
                row = []
        if row:
            lines.append("  ".join(row))
        return "\n".join(lines + self._node_lines(bar_width))

    def _node_lines(self, bar_width: int) -> list[str]:
        if self.cluster_note and not self.nodes:
            return [f"cluster: {self.cluster_note}"]
        lines = [f"cluster: {len(self.nodes)} node(s)"] if self.nodes else []
        for node in self.nodes:
            lines.append(
                f"node {node['address']} {node['node'][:8]} "
                f"{self.bar(node['percent'], bar_width)} {node['percent']:3.0f}% "
                f"of {node['cpus']} cores"
            )
        return lines


class CoresPane(Static):
    """Samples psutil every ``interval`` seconds and draws the meters.

    ``processes()`` names the processes to show on their own line, as
    {name: (pid, what it is doing)}: the app passes the UI and the engine (whose note
    says which jobs run there: inference, swarm...). 100% is one core's worth. psutil
    reads /proc: a worker thread takes the reading and posts it (``Sampled``)."""

    @dataclass
    class Sampled(Message, bubble=False):
        per_core_percent: list[float]
        processes: list[tuple[str, float, str]]

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, CoresPane.Sampled)  # only the newest reading counts

    def __init__(self, interval: float = 1.0, processes=None, **kwargs):
        super().__init__("sampling...", **kwargs)
        self.meters = CoreMeters()
        self.interval = interval
        self.processes = processes
        self._watched: dict[int, object] = {}  # pid -> psutil.Process (keeps its last sample)
        self._node_loads = None  # cluster.monitor.NodeLoadFeed, with a cluster configured
        self._paused = False

    def on_mount(self) -> None:
        import psutil

        from ..cluster import ClusterError, configured_address

        psutil.cpu_percent(percpu=True)
        try:
            address = configured_address()
        except ClusterError as error:
            address, self.meters.cluster_note = None, str(error)
        if address is not None:
            from ..cluster.monitor import NodeLoadFeed

            self.meters.cluster_note = f"connecting to {address}..."
            self._node_loads = NodeLoadFeed(address, interval=max(1.0, self.interval))
        self._timer = self.set_interval(self.interval, self.sample)

    def on_unmount(self) -> None:
        if self._node_loads is not None:
            self._node_loads.close()

    def pause(self) -> None:
        """Stop sampling (snapshot tests feed fixed readings with ``show``)."""
        self._paused = True
        self._timer.stop()

    def sample(self) -> None:
        self.app.run_worker(
            self._read_load,
            name="cores",
            group="cores",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _read_load(self) -> None:  # on a worker thread
        import psutil

        processes = self._process_loads() if self.processes else []
        self.post_message(self.Sampled(psutil.cpu_percent(percpu=True), processes))

    @on(Sampled)
    def show_sampled(self, message: Sampled) -> None:
        if self._paused:
            return  # read before the pause
        self.meters.processes = message.processes
        if self._node_loads is not None:
            self.meters.nodes = self._node_loads.nodes
            self.meters.cluster_note = self._node_loads.error or self.meters.cluster_note
        self.show(message.per_core_percent)

    def _process_loads(self) -> list[tuple[str, float, str]]:
        import psutil

        loads, watched = [], {}
        for name, (pid, note) in self.processes().items():
            if pid is None:
                continue
            try:
                process = self._watched.get(pid) or psutil.Process(pid)
                # since the last sample (0.0 the first time); the threads llama.cpp and the
                # swarm start are part of their process's total
                percent = process.cpu_percent(None)
                watched[pid] = process
                loads.append((name, percent, note))
            except psutil.Error:
                continue  # the engine is being restarted
        self._watched = watched
        return loads

    def show(self, per_core_percent: list[float]) -> None:
        self.meters.update(per_core_percent)
        self.update(self.meters.render(max(20, self.size.width - 2)), layout=False)
