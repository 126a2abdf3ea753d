"""One snapshot of a rig's polecats: state files, panes, activity, hooked work, merge requests.

Costs per patrol, whatever the number of polecats: **one** ``tmux list-panes -a`` (every
pane's session, dead flag, pid and last output time), one query per ledger for hooked
beads, one ``get_many`` for the merge requests idle polecats wait on, and a small file read
per polecat (its state file and its activity file). No pane is captured here: the screen is
read only when an action needs it (a nudge checks idleness under the delivery lock).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from vermas.errors import VermasError
from vermas.ledger import queries, timefmt
from vermas.ledger.store import Ledger
from vermas.runtime import activity
from vermas.town import polecats
from vermas.town.identity import Agent
from vermas.town.layout import Town

PANE_FIELDS = ("session_name", "pane_dead", "pane_dead_status", "pane_pid", "window_activity")


@dataclass
class Pane:
    session: str
    dead: bool
    pid: int | None
    activity: float | None  # tmux's window_activity: last output, epoch seconds
    exit_status: int | None = None


@dataclass
class PolecatView:
    """Everything the rules need about one polecat."""

    name: str
    agent: Agent
    state: dict
    pane: Pane | None = None
    activity: dict | None = None          # the hooks' activity record
    hooked: dict | None = None            # the bead hooked to it (ledger truth), if any
    hooked_ledger: str | None = None
    last_mr: dict | None = None           # the merge request of its last job, when it waits on one

    @property
    def spawn_id(self) -> str | None:
        return self.state.get("spawn_id")

    @property
    def busy(self) -> bool:
        return self.state.get("state") in polecats.BUSY_STATES and bool(self.state.get("bead"))

    @property
    def alive(self) -> bool:
        return self.pane is not None and not self.pane.dead

    def last_activity(self) -> float | None:
        """Latest sign of life of this incarnation: a hook event, output in the pane, or its start."""
        times = []
        if self.activity and self.activity.get("ts"):
            try:
                times.append(float(self.activity["ts"]))
            except (TypeError, ValueError):
                pass
        if self.pane is not None and self.pane.activity:
            times.append(self.pane.activity)
        started = timefmt.parse_epoch(self.state.get("started_at"))
        if started is not None:
            times.append(started)
        return max(times) if times else None

    def inactive_for(self, now: float) -> float:
        last = self.last_activity()
        return max(0.0, now - last) if last is not None else 0.0


@dataclass
class Snapshot:
    rig: str
    now: float
    polecats: list[PolecatView] = field(default_factory=list)
    panes: dict[str, Pane] = field(default_factory=dict)
    tmux_error: str | None = None

    def get(self, name: str) -> PolecatView | None:
        for view in self.polecats:
            if view.name == name:
                return view
        return None


def list_panes(town: Town, environ: dict | None) -> dict[str, Pane]:
    """Every pane of the town's tmux server in one call: ``{session: Pane}``.

    No server (nothing ever started, or it died) is an empty answer; any other tmux failure
    raises, so a patrol never mistakes "tmux did not answer" for "every agent is dead".
    """
    from vermas.runtime.errors import TmuxError
    from vermas.runtime.tmux import formats
    from vermas.runtime.tmux.command import decode
    from vermas.town.sessions import server

    proc = server(town, environ).run("list-panes", "-a", "-F", formats.format_string(PANE_FIELDS))
    if proc.returncode != 0:
        stderr = decode(proc.stderr).strip()
        if any(text in stderr.lower() for text in ("no server running", "error connecting to",
                                                    "no such file or directory")):
            return {}
        raise TmuxError(f"tmux list-panes failed: {stderr or proc.returncode}", stderr=stderr)
    panes: dict[str, Pane] = {}
    for row in formats.parse_lines(PANE_FIELDS, decode(proc.stdout)):
        name = row.get("session_name") or ""
        pid = row.get("pane_pid")
        dead = bool(row.get("pane_dead")) or (pid is not None and not _process_alive(pid))
        pane = Pane(name, dead, pid, row.get("window_activity"), row.get("pane_dead_status"))
        if name not in panes or panes[name].dead:  # a session with several panes is alive if any pane is
            panes[name] = pane
    return panes


def _process_alive(pid: int) -> bool:
    """tmux may report a pane alive for a moment after its process died (not yet reaped)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except (OSError, IndexError):
        return not os.path.isdir("/proc/self")  # no /proc: trust tmux


def hooked_beads(town: Town, rig: str) -> dict[str, tuple[dict, str]]:
    """``{polecat address: (bead, beads_dir)}`` for every bead hooked to one of the rig's polecats.

    Gas Town's form (``status=hooked``, ``assignee=<address>``) is the truth; it is looked up in
    the rig ledger and the town ledger (town beads can be slung to rig polecats).
    """
    prefix = f"{rig}/polecats/"
    out: dict[str, tuple[dict, str]] = {}
    for beads_dir in (town.rig(rig).beads_dir, town.beads_dir):
        try:
            with Ledger.open(beads_dir) as ledger:
                issues = queries.list_issues(ledger.conn, status=("hooked",), include_ephemeral=True, order="id")
        except VermasError:
            continue
        for issue in issues:
            assignee = issue.get("assignee") or ""
            if assignee.startswith(prefix) and issue.get("issue_type") not in ("message", "molecule"):
                out.setdefault(assignee, (issue, beads_dir))
    return out


def observe(town: Town, rig: str, *, environ: dict | None = None, runtime_dir: str | None = None) -> Snapshot:
    """The rig as the witness sees it now."""
    from vermas.town.sessions import runtime_dir as town_runtime_dir

    snap = Snapshot(rig=rig, now=time.time())
    paths = town.rig(rig)
    try:
        snap.panes = list_panes(town, environ)
    except VermasError as exc:  # no tmux at all: every session counts as gone only if the server answers
        snap.tmux_error = exc.message
    runtime_dir = runtime_dir or town_runtime_dir(town, environ)
    hooked = hooked_beads(town, rig)
    waiting_on: dict[str, str] = {}
    for state in polecats.all_states(paths):
        name = state["name"]
        agent = Agent("polecat", rig, name)
        view = PolecatView(name=name, agent=agent, state=state, pane=snap.panes.get(agent.session),
                           activity=activity.read(runtime_dir, agent.session))
        found = hooked.get(agent.address)
        if found is not None:
            view.hooked, view.hooked_ledger = found
        last = state.get("last") or {}
        if not view.busy and view.hooked is None and last.get("mr") and not last.get("cleaned_at"):
            waiting_on[name] = last["mr"]
        snap.polecats.append(view)
    if waiting_on:
        try:
            with Ledger.open(paths.beads_dir) as ledger:
                found_mrs = ledger.get_many(sorted(set(waiting_on.values())))
        except VermasError:
            found_mrs = {}
        for view in snap.polecats:
            mr_id = waiting_on.get(view.name)
            if mr_id:
                view.last_mr = found_mrs.get(mr_id)
    return snap
