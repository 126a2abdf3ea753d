"""``vermas demo``: the main job end to end — town, rig, specs, three agents, the refinery, verified merges.

:class:`Demo` composes the layers below (town: install, rig, sling; roles: the refinery daemon;
verify: test specs, verdicts) around the material of :mod:`vermas.town.demo`.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

from vermas.errors import VermasError
from vermas.town.demo import DEMO_RUNTIME, FEATURES, PREFIX, RIG, bead_description, make_sample_repo, spec_criteria

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace
    from collections.abc import Callable

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment
    from vermas.town.layout import Town


def configure(parser: CommandParser, name: str) -> None:
    parser.description = (
        "Run the main job end to end in a fresh directory: install a town, create a sample repository with a "
        "test suite and add it as a rig, write three beads that each implement a small feature and approve a "
        "test spec for each, start the rig's refinery (gates, then the Inspector), sling the beads to three "
        "polecats running the simulated agent (or --runtime claude), show one live line per bead until every bead "
        "is verified and merged — with the simulated agent, power() is first written wrong, rejected by the "
        "Inspector and fixed on rework — then show each bead's verdicts and say where to look. Agents run on a "
        "private tmux server (vermas-demo-<pid>) and are left running so you can attach.")
    parser.epilog = """examples:
  vermas demo                         # a temp dir, the simulated agent, a private tmux server
  vermas demo --dir /tmp/town-demo    # keep it somewhere you choose
  vermas demo --runtime claude        # the same beads with Claude Code (when installed)
  vermas demo --json                  # progress on stderr, the summary as JSON on stdout
"""
    parser.add_argument("--dir", metavar="PATH", help="work in PATH (default: a new temp directory, kept)")
    parser.add_argument("--runtime", default="sim", help="agent runtime of the polecats (default: sim)")
    parser.add_argument("--socket", metavar="NAME", help="tmux server name (default: vermas-demo-<pid>)")
    parser.add_argument("--timeout", type=float, default=110.0, help="give up after this many seconds (default 110)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON (progress on stderr)")
    parser.set_defaults(handler=run_demo)


def run_demo(env: Environment, args: Namespace) -> int:
    import os

    stream = env.stderr if args.json else env.stdout
    tty = (env.stderr_isatty if args.json else env.stdout_isatty) and env.get("TERM") != "dumb"

    def write(text: str = "", end: str = "\n") -> None:
        stream.write(text + end)
        stream.flush()

    if args.runtime != "sim":
        from vermas.runtime.presets import get_runtime, resolve_command

        spec = get_runtime(args.runtime)
        if resolve_command(spec.command, env.environ) is None:
            from vermas.errors import NotFoundError

            raise NotFoundError(f"runtime {args.runtime!r} needs {spec.command!r}, which is not installed",
                                hint="install it, or run the demo with the simulated agent (vermas demo)")
    directory = env.path(os.path.expanduser(args.dir)) if args.dir else None
    demo = Demo(directory, runtime=args.runtime, socket=args.socket, environ=env.environ, write=write, tty=tty,
                timeout=args.timeout)
    write(f"VerMAS demo in {demo.dir}")
    data = demo.run()
    if args.json:
        env.print_json(data)
    return 0


class Demo:
    """One demo run; ``say`` prints progress, ``draw`` redraws the per-bead lines."""

    def __init__(self, directory: str | None, *, runtime: str = "sim", socket: str | None = None,
                 environ: dict | None = None, write: Callable[..., None] = print, tty: bool = False,
                 timeout: float = 110.0) -> None:
        self.dir = os.path.abspath(directory) if directory else tempfile.mkdtemp(prefix="vermas-demo-")
        self.runtime = runtime
        self.socket = socket or f"vermas-demo-{os.getpid()}"
        base = dict(os.environ if environ is None else environ)
        for var in ("BD_ACTOR", "GT_ROLE", "GT_RIG", "BEAD_ID", "BEADS_DIR", "VERMAS_SESSION", "VERMAS_TOWN",
                    "VERMAS_RUNTIME_DIR", "TMUX", "TMUX_PANE", "VERMAS_SIM_FAULTS", "VERMAS_VERIFY_RESLING"):
            base.pop(var, None)
        base["VERMAS_TMUX_SOCKET"] = self.socket
        bindir = os.path.dirname(sys.executable)
        if bindir not in base.get("PATH", "").split(os.pathsep):
            base["PATH"] = bindir + os.pathsep + base.get("PATH", "")
        self.environ = base
        self.write = write
        self.tty = tty
        self.timeout = timeout
        self.town: Town | None = None
        self.beads: list[str] = []
        self.specs: list[str] = []
        self._drawn = 0
        self._last_key: str | None = None

    # --------------------------------------------------------------------- setup
    def setup(self) -> None:
        from vermas.ledger.store import Ledger
        from vermas.town.config import write_setting
        from vermas.town.install import install
        from vermas.town.rigs import add_rig
        from vermas.verify import spec as spec_mod

        if os.path.exists(os.path.join(self.dir, "town")):
            raise VermasError(f"{self.dir} already holds a demo town", hint="pass an empty --dir, or none")
        os.makedirs(self.dir, exist_ok=True)
        town, _made = install(os.path.join(self.dir, "town"), name="demo", owner="overseer")
        self.town = town
        sim = self.runtime == "sim"
        polecat_runtime = DEMO_RUNTIME if sim else self.runtime
        if sim:
            write_setting(town.settings_path, "town-settings", f"runtimes.{DEMO_RUNTIME}",
                          {"description": "the simulated agent, wrong on its first attempt where a bead has a "
                                          "```sim-wrong block", "extends": "sim",
                           "env": {"VERMAS_SIM_FAULTS": "wrong-solution=first"}})
        for key, value in (("tmux.socket", self.socket), ("runtime.default", self.runtime),
                           ("runtime.polecat", polecat_runtime), ("polecats.max", 3), ("polecats.formula", "none")):
            write_setting(town.settings_path, "town-settings", key, value)
        self.say(f"1. town installed at {town.root} (tmux server: {self.socket})")
        repo = make_sample_repo(os.path.join(self.dir, "sample-calc"))
        add_rig(town, RIG, repo, prefix=PREFIX)
        rig = town.rig(RIG)
        for key, value in (("gates.test", "python -m unittest -q"), ("merge.poll_interval", 0.5)):
            write_setting(rig.settings_path, "rig-settings", key, value)
        self.say(f"2. sample repository {repo} added as rig '{RIG}' (gate: python -m unittest -q)")
        with Ledger.open(rig.beads_dir) as ledger:
            with ledger.transaction("overseer") as tx:
                for title, func, expr, check, wrong, _hint in FEATURES:
                    self.beads.append(tx.create(title, description=bead_description(
                        func, expr, check, wrong if sim else None), issue_type="feature", priority=2)["id"])
            for bead, (_title, func, _expr, check, _wrong, hint) in zip(self.beads, FEATURES, strict=True):
                spec = spec_mod.create(ledger, "overseer", bead)
                for description, command, fix in spec_criteria(func, check, hint):
                    spec_mod.add_criterion(ledger, "overseer", spec.id, description=description, command=command,
                                           hint=fix)
                spec_mod.approve(ledger, "overseer", spec.id)
                self.specs.append(spec.id)
        self.say(f"3. three feature beads, each with an approved test spec (3 criteria): "
                 f"{', '.join(f'{b} ({s})' for b, s in zip(self.beads, self.specs, strict=True))}")

    def say(self, text: str) -> None:
        self._drawn = 0
        self.write(text)

    # ---------------------------------------------------------------------- work
    def start_refinery(self) -> None:
        from vermas.roles.refinery import daemon

        assert self.town is not None
        daemon.start(self.town, RIG, environ=self.environ, wait=60.0, by="overseer")
        self.say(f"4. the refinery runs in tmux session vm-{RIG}-refinery: gates, then the Inspector "
                 "(verifier + advocate/critic/judge panel), merge only on PASS")

    def sling(self) -> dict:
        from vermas.town.sling import sling

        assert self.town is not None
        outcome = sling(self.town, self.beads, RIG, actor="overseer", environ=self.environ, ready_timeout=60.0)
        failed = [r for r in outcome["results"] if r["status"] == "failed"]
        if failed:
            raise VermasError(f"the demo could not sling {failed[0]['bead']}: {failed[0]['error']}")
        started = [r for r in outcome["results"] if r["status"] == "started"]
        self.say(f"5. slung to {len(started)} polecats ({self.runtime}), convoy {outcome['convoy']}:")
        return outcome

    def progress(self) -> list[dict]:
        """One row per bead: polecat, where it is (working, in the queue, rework, merged), its verdicts."""
        from vermas.ledger.store import Ledger
        from vermas.town import polecats
        from vermas.verify import records

        assert self.town is not None
        rig = self.town.rig(RIG)
        names = {}
        for state in polecats.all_states(rig):
            for bead in (state.get("bead"), (state.get("last") or {}).get("bead")):
                if bead:
                    names.setdefault(bead, state.get("name"))
        rows = []
        with Ledger.open(rig.beads_dir) as ledger:
            issues = ledger.get_many(self.beads)
            for bead in self.beads:
                issue = issues.get(bead) or {}
                verdicts = records.results_for(ledger, bead)
                last = verdicts[-1] if verdicts else None
                status = issue.get("status", "?")
                if status == "closed":
                    text = f"merged ✓ ({last['verdict']} {last['confidence']:.2f})" if last else "merged"
                elif last and last["verdict"] == "FAIL" and status == "hooked":
                    text = f"rework: {', '.join(last['failed_criteria'])} failed — polecat fixing it"
                elif last and last["verdict"] == "NEEDS_HUMAN":
                    text = "waiting for a human (vermas inspect status)"
                elif status == "in_progress":
                    text = "submitted: in the merge queue (gates, Inspector)"
                else:
                    text = "working"
                rows.append({"bead": bead, "title": issue.get("title", ""), "polecat": names.get(bead) or "-",
                             "status": text, "closed": status == "closed",
                             "stuck": bool(last and last["verdict"] == "NEEDS_HUMAN"),
                             "verdicts": [f"{v['verdict']} {v['confidence']:.2f}"
                                          + (f" ({', '.join(v['failed_criteria'])})" if v["failed_criteria"] else "")
                                          for v in verdicts], "history": verdicts,
                             "close_reason": issue.get("close_reason", "")})
        return rows

    def draw(self, rows: list[dict], elapsed: float) -> None:
        lines = [f"   {r['polecat']:<10} {r['bead']:<8} {r['title'][:20]:<20} {r['status']}" for r in rows]
        lines.append(f"   … {sum(r['closed'] for r in rows)}/{len(rows)} verified and merged, {elapsed:4.0f}s")
        if self.tty:
            if self._drawn:
                self.write(f"\x1b[{self._drawn}F\x1b[J", end="")
            for line in lines:
                self.write(line)
            self._drawn = len(lines)
        else:
            key = "\n".join(lines[:-1])
            if key != self._last_key:
                self._last_key = key
                for line in lines:
                    self.write(line)

    def watch(self, started_at: float) -> list[dict]:
        deadline = started_at + self.timeout
        while True:
            rows = self.progress()
            self.draw(rows, time.monotonic() - started_at)
            if all(r["closed"] or r["stuck"] for r in rows):
                return rows
            if time.monotonic() > deadline:
                raise VermasError(f"the demo did not finish within {self.timeout:.0f}s",
                                  hint=f"look at the agents: tmux -L {self.socket} ls; the refinery: "
                                       f"vermas --town {self.town.root if self.town else '?'} refinery status")
            time.sleep(0.5 if self.tty else 0.25)

    def summary(self, rows: list[dict], elapsed: float) -> dict:
        import shutil

        from vermas import gitops
        from vermas.town.sessions import attach_command

        assert self.town is not None
        rig = self.town.rig(RIG)
        beside = os.path.join(os.path.dirname(sys.executable), "vermas")
        on_path = shutil.which("vermas", path=os.environ.get("PATH"))
        vermas = "vermas" if (on_path and os.path.realpath(on_path) == os.path.realpath(beside)) or not \
            os.path.exists(beside) else beside
        main_log = [line.split(" ", 1) for line in
                    gitops.out(["log", "--format=%h %s", "-n", "8", "main"], cwd=rig.repo).splitlines()]
        data = {"town": self.town.root, "rig": RIG, "beads": self.beads, "specs": self.specs,
                "merged": sum(r["closed"] for r in rows),
                "verdicts": {r["bead"]: [{"verdict": v["verdict"], "confidence": v["confidence"],
                                          "failed_criteria": v["failed_criteria"],
                                          "required_fixes": v["required_fixes"], "result_bead": v["id"],
                                          "evidence": v["evidence"]} for v in r["history"]] for r in rows},
                "main": [{"commit": c, "subject": s} for c, s in main_log], "seconds": round(elapsed, 1),
                "socket": self.socket, "status_command": f"{vermas} --town {self.town.root} status",
                "attach_command": " ".join(attach_command(self.town, f"vm-{RIG}-refinery", self.environ))}
        self.say("")
        self.say(f"Done: {data['merged']}/{len(self.beads)} beads verified and merged in {elapsed:.1f}s")
        for r in rows:
            self.say(f"  {r['bead']}  {r['title']:<20} verdicts: {' → '.join(r['verdicts']) or '-'}"
                     + ("" if r["closed"] else "  (not merged)"))
            for v in r["history"]:
                for fix in v["required_fixes"] if v["verdict"] == "FAIL" else ():
                    self.say(f"      rejected, sent back with: {fix}")
        self.say(f"  main now: {' · '.join(s for _c, s in main_log[:4])}")
        self.say("")
        self.say("Where to look:")
        town = f"{vermas} --town {self.town.root}"
        looks = [(f"{town} status", "the town: rigs, agents, queues, mail"),
                 (f"{town} inspect status", "every verdict"),
                 (f"{town} inspect show {self.beads[-1]}", "criteria, panel briefs, reasoning, evidence"),
                 (f"{town} spec show {self.beads[0]}", "an approved test spec"),
                 (f"{town} mq list --rig {RIG} --all", "the merge queue"),
                 (f"ls {rig.beads_dir}/evidence/{self.beads[-1]}", "spec.json results.json briefs/ verdict.json"),
                 (data["attach_command"], "the refinery's log (detach: Ctrl-b d)"),
                 (f"tmux -L {self.socket} kill-server", "stop the demo's agents and refinery")]
        width = max(len(command) for command, _why in looks)
        for command, why in looks:
            self.say(f"  {command:<{width}}  # {why}")
        return data

    def run(self) -> dict:
        started = time.monotonic()
        self.setup()
        self.start_refinery()
        self.sling()
        rows = self.watch(time.monotonic())
        return self.summary(rows, time.monotonic() - started)
