"""``vermas witness start|stop|status|run``: the rig's polecat supervisor."""

from __future__ import annotations

from vermas.cli.commands.daemon_cli import report_start, report_stop, running_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment

EPILOG = """\
The witness patrols the rig's polecats every witness.patrol_interval seconds: a polecat idle
with hooked work is nudged, a stuck one (no activity for witness.stuck_after) is restarted in
the same worktree, a dead one with hooked work is respawned and resumes from its hook, a bead
handed back for rework respawns its polecat, a finished polecat whose merge request merged is
cleaned up (session, worktree, branch) and SLOT_OPEN goes to the mayor. POLECAT_DONE mail
becomes MERGE_READY for the refinery; mail from an earlier incarnation of a polecat is ignored.
After witness.max_respawns (re)starts of one bead it stops and sends SPAWN_BLOCKED to the
mayor. See docs/SUPERVISION.md.

examples:
  vermas witness start --rig app          # daemon in tmux session vm-app-witness
  vermas witness status --rig app         # process, last patrol, every polecat as the witness sees it
  vermas witness run --rig app --once     # one patrol in the foreground (prints what it did)
  vermas witness stop --rig app

settings (vermas config set --rig app <key> <value>):
  witness.patrol_interval SECONDS (30)   witness.idle_after SECONDS (300)
  witness.stuck_after SECONDS (900)      witness.max_respawns N (3)
"""


def configure(parser: CommandParser, name: str) -> None:
    parser.description = "Keep every polecat of a rig alive and its work owned: a deterministic patrol daemon."
    parser.epilog = EPILOG
    subs = parser.add_subparsers(dest="action", title="actions")

    p = subs.add_parser("start", help="start the daemon in tmux session vm-<rig>-witness (idempotent)",
                        description="Start the witness of a rig in its tmux session and wait until it holds its "
                                    "lock; does nothing if it already runs. Marks it wanted, so the deacon "
                                    "restarts it if it dies.")
    p.add_argument("--wait", type=float, default=20.0, metavar="SECONDS", help="how long to wait for it (20)")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=_start)

    p = subs.add_parser("stop", help="stop the daemon (SIGTERM, then SIGKILL after --timeout)",
                        description="Stop the witness: a patrol under way finishes first. The deacon will not "
                                    "restart a witness stopped this way.")
    p.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS", help="grace period (30)")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=_stop)

    p = subs.add_parser("status", help="process, last patrol, totals, every polecat as the witness sees it",
                        description="Show whether the witness runs, its settings, its last patrol and totals, "
                                    "and each polecat: state, session, hooked bead, inactivity, nudges, respawns.")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=_status)

    p = subs.add_parser("run", help="patrol in the foreground (what 'start' runs in tmux)",
                        description="Run the witness in this process. With --once, patrol once, print what was "
                                    "done and exit.")
    p.add_argument("--once", action="store_true", help="one patrol, then exit")
    p.add_argument("--quiet", action="store_true", help="do not echo the log to stderr")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=_run)


def _start(env: Environment, args: argparse.Namespace) -> int:
    from vermas.cli.commands.refinery import resolve_rig
    from vermas.roles.witness import daemon

    town, rig = resolve_rig(env, args)
    env.info(f"starting the witness of {rig}…")
    result = daemon.start(town, rig, environ=env.environ, wait=args.wait, by=env.actor(args.actor))
    return report_start(env, f"witness {rig}", result, json=args.json)


def _stop(env: Environment, args: argparse.Namespace) -> int:
    from vermas.cli.commands.refinery import resolve_rig
    from vermas.roles.witness import daemon

    town, rig = resolve_rig(env, args)
    result = daemon.stop(town, rig, environ=env.environ, timeout=args.timeout)
    return report_stop(env, f"witness {rig}", result, json=args.json)


def _status(env: Environment, args: argparse.Namespace) -> int:
    from vermas.cli.commands.refinery import _ago, resolve_rig
    from vermas.roles.witness import daemon

    town, rig = resolve_rig(env, args)
    doc = daemon.status(town, rig, environ=env.environ)
    if args.json:
        env.print_json(doc)
        return 0
    env.write(running_line(f"witness {rig}", doc,
                           when_stopped="wanted: the deacon will restart it" if doc["wanted"] else ""))
    settings = doc["settings"]
    if "error" in settings:
        env.write(f"  settings: ERROR {settings['error']}")
    else:
        env.write(f"  patrol every {settings['patrol_interval']:g}s; nudge after {settings['idle_after']:g}s idle, "
                  f"restart after {settings['stuck_after']:g}s stuck, at most {settings['max_respawns']} respawns")
    last = doc.get("last_patrol")
    if last:
        done = [a for a in last.get("actions") or () if a.get("status") == "done"]
        env.write(f"  last patrol {_ago(last.get('at'))}: {last.get('polecats', 0)} polecats, "
                  f"{len(done)} action(s), {last.get('duration_ms', 0):g} ms"
                  + (f"; errors: {'; '.join(last['errors'])}" if last.get("errors") else ""))
    error = doc.get("last_error")
    if error:
        env.write(f"  last error ({_ago(error.get('at'))}): {error.get('message')}")
    if doc.get("blocked"):
        env.write(f"  SPAWN_BLOCKED (waiting for the mayor): {', '.join(doc['blocked'])}")
    rows = doc.get("polecats")
    if isinstance(rows, dict):
        env.write(f"  polecats: ERROR {rows['error']}")
    elif rows:
        env.write("  polecats:")
        for row in rows:
            parts = [f"{row['state']}", f"session {row['session_state']}"]
            if row["hooked"]:
                parts.append(f"hooked {row['hooked']}" + (" (rework)" if row["rework"] else ""))
            if row["inactive_s"] is not None:
                parts.append(f"quiet {row['inactive_s']:g}s")
            if row["nudges"]:
                parts.append(f"nudged {row['nudges']}x")
            if row["respawns"]:
                parts.append(f"respawns {row['respawns']}/{row['max_respawns']}")
            if row["cleanup_skipped"]:
                parts.append(f"worktree kept: {row['cleanup_skipped']}")
            env.write(f"    {row['polecat']:<12} " + ", ".join(parts))
    totals = {k: v for k, v in (doc.get("totals") or {}).items() if v}
    if totals:
        env.write("  totals: " + ", ".join(f"{k} {v}" for k, v in totals.items()))
    env.write(f"  log: {doc['log']}")
    return 0


def _run(env: Environment, args: argparse.Namespace) -> int:
    from vermas.cli.commands.refinery import resolve_rig
    from vermas.roles.witness import daemon

    town, rig = resolve_rig(env, args)
    echo = None if args.quiet else (lambda line: env.info(line))
    summary = daemon.run(town, rig, once=args.once, environ=env.environ, echo=echo)
    if args.json:
        env.print_json(summary["last"] if args.once else summary)
    elif args.once:
        last = summary["last"] or {}
        done = [a for a in last.get("actions") or () if a.get("status") == "done"]
        env.write(f"witness {rig}: patrolled {last.get('polecats', 0)} polecat(s) in {last.get('duration_ms', 0):g} "
                  f"ms; {len(done)} action(s)")
        for action in done:
            env.write(f"  {action['kind']:<13} {action['polecat']:<12} {action['reason']}")
    return 1 if summary["errors"] and args.once else 0
