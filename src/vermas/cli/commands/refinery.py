"""``vermas refinery start|stop|status|queue|run``: the rig's merge-queue daemon."""

from __future__ import annotations

import os

from vermas.cli.commands.daemon_cli import report_start, report_stop, running_line
from vermas.errors import NotFoundError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment
    from vermas.town.layout import Town

EPILOG = """\
The refinery takes merge requests (created by 'vermas done') oldest first within priority,
rebases each onto its target in its own worktree (<rig>/refinery/rig), checks it with
'git merge-tree', runs the rig's gates (gates.setup, gates.lint, gates.build, gates.test),
and moves the target with one compare-and-swap to the tested commit. Conflicts and gate
failures go back to the polecat as REWORK_REQUEST. See docs/REFINERY.md.

examples:
  vermas refinery start --rig app          # daemon in tmux session vm-app-refinery
  vermas refinery status --rig app --json
  vermas refinery queue --rig app
  vermas refinery run --rig app --once     # process the queue once, in the foreground
  vermas refinery stop --rig app

settings (vermas config set --rig app <key> <value>):
  merge.strategy ff|merge|squash   merge.batch_size N   merge.mode direct|pr
  merge.pr_command '…'             merge.push_upstream true|false
  merge.poll_interval SECONDS      gates.setup|lint|build|test '<command>'   gates.timeout SECONDS
"""


def configure(parser: CommandParser, name: str) -> None:
    parser.description = "Run the rig's merge queue: a deterministic daemon in its own tmux session."
    parser.epilog = EPILOG
    subs = parser.add_subparsers(dest="action", title="actions")

    p = subs.add_parser("start", help="start the daemon in tmux session vm-<rig>-refinery (idempotent)",
                        description="Start the refinery daemon of a rig in its tmux session; does nothing if it "
                                    "already runs. Waits until the daemon holds its lock.")
    p.add_argument("--wait", type=float, default=20.0, metavar="SECONDS", help="how long to wait for it (20)")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=_start)

    p = subs.add_parser("stop", help="stop the daemon (SIGTERM, then SIGKILL after --timeout)",
                        description="Stop the refinery: a running gate is killed and its round discarded (the "
                                    "target never moves half-way); after --timeout the process is killed.")
    p.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS", help="grace period (30)")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=_stop)

    p = subs.add_parser("status", help="pid, session, queue depth, current request, last result",
                        description="Show whether the refinery runs, its session, the queue depth, what it is "
                                    "merging now and the result of its last round.")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=_status)

    p = subs.add_parser("queue", help="the merge queue in processing order",
                        description="List the open merge requests in the order the refinery will take them "
                                    "(priority, then oldest first), with parked, blocked and stale ones after.")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=_queue)

    p = subs.add_parser("run", help="run the refinery in the foreground (what 'start' runs in tmux)",
                        description="Run the refinery in this process. With --once, recover any interrupted "
                                    "round, process the queue until nothing is ready, and exit.")
    p.add_argument("--once", action="store_true", help="process the queue once and exit")
    p.add_argument("--max-rounds", type=int, default=None, metavar="N", help="with --once: at most N rounds")
    p.add_argument("--quiet", action="store_true", help="do not echo the log to stderr")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=_run)


# ------------------------------------------------------------------ helpers
def resolve_rig(env: Environment, args: argparse.Namespace) -> tuple[Town, str]:
    """``(town, rig)``: ``--rig`` (name or prefix) > ``$GT_RIG`` > the rig the cwd is in > the only rig."""
    from vermas.town import rigs
    from vermas.town.layout import Town, resolve_town

    town_flag = getattr(args, "town", None) or env.town_flag
    town = Town(resolve_town(os.path.expanduser(town_flag) if town_flag else None, env.environ, env.cwd))
    names = rigs.rig_names(town)
    wanted = getattr(args, "rig", None) or env.get("GT_RIG")
    if wanted:
        if wanted in names:
            return town, wanted
        by_prefix = rigs.rig_prefixes(town)
        if wanted.rstrip("-") in by_prefix:
            return town, by_prefix[wanted.rstrip("-")]
        rigs.rig_info(town, wanted)  # raises NotFoundError naming the rigs
    rel = os.path.relpath(env.cwd, town.root)
    first = rel.split(os.sep, 1)[0]
    if not rel.startswith("..") and first in names:
        return town, first
    if len(names) == 1:
        return town, names[0]
    if not names:
        raise NotFoundError(f"town {town.root} has no rigs", hint="add one with 'vermas rig add <name> <repo>'")
    raise UsageError("which rig? pass --rig NAME", hint=f"rigs: {', '.join(names)}")


def _ago(timestamp: str | None) -> str:
    from vermas.ledger import timefmt

    epoch = timefmt.parse_epoch(timestamp)
    if epoch is None:
        return ""
    import time

    seconds = max(0, int(time.time() - epoch))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


# ------------------------------------------------------------------ actions
def _start(env: Environment, args: argparse.Namespace) -> int:
    from vermas.roles.refinery import daemon

    town, rig = resolve_rig(env, args)
    env.info(f"starting the refinery of {rig}…")
    result = daemon.start(town, rig, environ=env.environ, wait=args.wait)
    return report_start(env, f"refinery {rig}", result, json=args.json)


def _stop(env: Environment, args: argparse.Namespace) -> int:
    from vermas.roles.refinery import daemon

    town, rig = resolve_rig(env, args)
    result = daemon.stop(town, rig, environ=env.environ, timeout=args.timeout)
    return report_stop(env, f"refinery {rig}", result, json=args.json)


def _status(env: Environment, args: argparse.Namespace) -> int:
    from vermas.roles.refinery import daemon

    town, rig = resolve_rig(env, args)
    doc = daemon.status(town, rig, environ=env.environ)
    if args.json:
        env.print_json(doc)
        return 0
    env.write(running_line(f"refinery {rig}", doc, when_stopped="its last round was interrupted; it resumes on start"
                           if doc["interrupted"] else ""))
    settings = doc["settings"]
    if "error" in settings:
        env.write(f"  settings: ERROR {settings['error']}")
    else:
        env.write(f"  strategy {settings['strategy']}, batch {settings['batch_size']}, mode {settings['mode']}, "
                  f"gates: {', '.join(settings['gates']) or 'none'}")
    q = doc["queue"]
    if "error" in q:
        env.write(f"  queue: ERROR {q['error']}")
    else:
        env.write(f"  queue: {q['depth']} to merge ({q['ready']} ready, {q['in_progress']} in progress), "
                  f"{len(q['parked'])} parked, {len(q['pr_open'])} awaiting PR, {q['blocked']} blocked")
        if q["parked"]:
            env.write(f"  parked (needs a human): {', '.join(q['parked'])}")
    current = doc["current"]
    if current:
        env.write(f"  current: {', '.join(current['mrs'] or [])} → {current['target']} "
                  f"({current['phase']}{', stage ' + current['stage'] if current.get('stage') else ''}, "
                  f"started {_ago(current.get('started_at'))})")
    last = doc["last_result"]
    if last:
        parts = [f"{k} {', '.join(last[k])}" for k in ("merged", "rework", "parked", "released") if last.get(k)]
        if last.get("error"):
            parts.append(f"error: {last['error']}")
        if last.get("recovered"):
            parts.append(str(last["recovered"]))
        env.write(f"  last: {'; '.join(parts) or 'nothing to do'} ({_ago(last.get('at'))})")
    error = doc.get("last_error")
    if error:
        env.write(f"  last error ({_ago(error.get('at'))}): {error.get('message')}"
                  + (f" — {error['hint']}" if error.get("hint") else ""))
    totals = doc["totals"]
    if totals:
        env.write("  totals: " + ", ".join(f"{k} {v}" for k, v in totals.items()))
    env.write(f"  log: {doc['log']}")
    return 0


def _queue(env: Environment, args: argparse.Namespace) -> int:
    from vermas.cli.commands.mq import queue_rows, show_rows

    town, rig = resolve_rig(env, args)
    rows = queue_rows(town, rig)
    if args.json:
        env.print_json(rows)
    else:
        show_rows(env, rig, rows)
    return 0


def _run(env: Environment, args: argparse.Namespace) -> int:
    from vermas.roles.refinery import daemon

    town, rig = resolve_rig(env, args)
    if args.max_rounds is not None and not args.once:
        raise UsageError("--max-rounds needs --once")
    echo = None if args.quiet else (lambda line: env.info(line))
    summary = daemon.run(town, rig, once=args.once, environ=env.environ, echo=echo, max_rounds=args.max_rounds)
    if args.json:
        env.print_json(summary)
    elif args.once:
        env.write(f"refinery {rig}: {summary['rounds']} round(s); merged {len(summary['merged'])}, "
                  f"rework {len(summary['rework'])}, parked {len(summary['parked'])}, "
                  f"stale closed {len(summary['stale'])}")
    return 1 if summary["errors"] and args.once else 0
