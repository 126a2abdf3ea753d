"""``vermas demo``: a guided walkthrough of the ledger in a fresh directory.

Each step prints the command it runs and that command's real output (the commands run
in-process against a real ledger in a temp directory, which is kept for you to explore).
The full end-to-end demo (town, agents, merge queue, verification) replaces this later.
"""

from __future__ import annotations

import os

from vermas.errors import VermasError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment


def configure(parser: CommandParser, name: str) -> None:
    parser.description = ("A guided walkthrough of the bd-compatible ledger: init, create an epic with children and "
                          "dependencies, see what is ready, work, close, get refused a cycle, inspect events, check "
                          "the ledger. Runs in a fresh temp directory (kept) or --dir.")
    parser.epilog = "examples:\n  vermas demo\n  vermas demo --dir /tmp/ledger-demo\n"
    parser.add_argument("--dir", metavar="PATH", help="run in PATH (created; must not already hold a .beads)")
    parser.add_argument("--quiet", action="store_true", help="print only the step titles and the summary")
    parser.set_defaults(handler=run_demo)


class _Walkthrough:
    def __init__(self, env: Environment, workdir: str, quiet: bool) -> None:
        self.env = env
        self.dir = workdir
        self.quiet = quiet
        self.environ = dict(env.environ)
        self.environ.setdefault("BD_ACTOR", "demo")
        self.environ.pop("BEADS_DIR", None)
        self.environ.pop("VERMAS_TOWN", None)
        self.steps = 0

    def say(self, title: str) -> None:
        self.steps += 1
        self.env.write("")
        self.env.write(f"── {self.steps}. {title}")

    def run(self, *argv: str, expect: int = 0, show: int | None = None) -> str:
        """Run ``vermas argv`` in the demo directory; print it and its output; return stdout."""
        import io
        import shlex

        from vermas.cli.env import Environment
        from vermas.cli.main import main

        out, err = io.StringIO(), io.StringIO()
        child = Environment(stdin=io.StringIO(""), stdout=out, stderr=err, environ=self.environ, cwd=self.dir)
        code = main(list(argv), child)
        if not self.quiet:
            self.env.write(f"$ vermas {shlex.join(argv)}")
            lines = out.getvalue().splitlines()
            shown = lines if show is None else lines[:show]
            for line in shown:
                self.env.write(f"  {line}")
            if show is not None and len(lines) > show:
                self.env.write(f"  … ({len(lines) - show} more lines)")
            for line in err.getvalue().splitlines():
                self.env.write(f"  {line}")
            if code:
                self.env.write(f"  (exit code {code})")
        if code != expect:
            raise VermasError(f"demo step 'vermas {shlex.join(argv)}' exited {code}, expected {expect}:\n"
                              f"{err.getvalue().strip()}")
        return out.getvalue()

    def note(self, text: str) -> None:
        if not self.quiet:
            self.env.write(f"  ↳ {text}")


def run_demo(env: Environment, args: Namespace) -> int:
    import tempfile

    if args.dir:
        workdir = env.path(args.dir)
        if os.path.exists(os.path.join(workdir, ".beads")):
            from vermas.errors import ConflictError

            raise ConflictError(f"{workdir} already has a .beads directory", hint="pick an empty --dir")
        os.makedirs(workdir, exist_ok=True)
    else:
        workdir = tempfile.mkdtemp(prefix="vermas-demo-")
    w = _Walkthrough(env, workdir, args.quiet)
    env.write(f"VerMAS ledger walkthrough in {workdir}")
    env.write("Every command below is a real 'vermas' invocation against a real bd-compatible ledger.")

    w.say("Create a ledger (.beads/, bd v0.43 format, prefix 'demo')")
    w.run("init", "--prefix", "demo")

    w.say("Write the work down: an epic with three children; the API waits for the design, the tests for the API")
    epic = w.run("create", "Ship the login feature", "--type", "epic", "-p", "1", "--silent").strip()
    design = w.run("create", "Design the login form", "--parent", epic, "-p", "1", "--silent",
                   "--acceptance", "mockup approved").strip()
    api = w.run("create", "Implement the login API", "--parent", epic, "--deps", f"blocks:{design}",
                "--labels", "backend,auth", "--silent").strip()
    tests = w.run("create", "Write end-to-end tests", "--parent", epic, "--deps", api, "--silent").strip()
    w.note(f"epic {epic}; children {design}, {api}, {tests} (child ids are <parent>.N, as in bd)")
    w.run("list")

    w.say("Titles are stored exactly: quotes, newlines, unicode and <>& survive (escaped the way bd's Go writer does)")
    tricky = w.run("create", 'Fix "smart" quotes & <b>tags</b> in naïve ✓ titles', "--silent").strip()
    with open(os.path.join(workdir, ".beads", "issues.jsonl"), encoding="utf-8") as fh:
        raw = next(line for line in fh if f'"id":"{tricky}"' in line)
    w.note("the raw line in issues.jsonl: " + raw.strip()[:150] + "…")

    w.say("What can be worked on now? (blocks, parent-child, conditional-blocks and waits-for are honoured)")
    w.run("ready")
    w.run("blocked")
    w.run("dep", "tree", tests)

    w.say("Work on the design, then close it: its dependents become ready")
    w.run("update", design, "--status", "in_progress", "--assignee", "alice")
    w.run("close", design, "--reason", "mockup approved")
    w.run("ready")

    w.say("A dependency that would close a cycle is refused (exit code 5) and the cycle is named")
    w.run("dep", "add", design, tests, expect=5)

    w.say("Show an issue the way 'bd show --json' does (IssueDetails: dependencies and dependents as full issues)")
    w.run("show", api, "--json", show=24)

    w.say("Every change is an event in .beads/events.jsonl; a bead's history can be replayed from them")
    w.run("events", "list", "--limit", "6")
    w.run("events", "replay", design)

    w.say("Counts, and a health check of the ledger")
    w.run("stats")
    w.run("doctor")

    env.write("")
    env.write("Where to look:")
    env.write(f"  {workdir}/.beads/issues.jsonl   the ledger itself: one issue per line, sorted by id, bd v0.43 format")
    env.write(f"  {workdir}/.beads/events.jsonl   the append-only event log")
    env.write(f"  {workdir}/.beads/vermas-index.db the SQLite index (a cache, rebuilt whenever issues.jsonl changes)")
    env.write(f"Try: cd {workdir} && vermas ready && vermas show {api}")
    return 0
