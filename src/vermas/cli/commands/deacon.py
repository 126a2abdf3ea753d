"""``vermas deacon start|stop|status|run|clear-backoff``: the town's supervisor daemon."""

from __future__ import annotations

from vermas.cli.commands.daemon_cli import report_start, report_stop, running_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment

EPILOG = """\
The deacon patrols the town every deacon.patrol_interval seconds: it restarts every wanted
witness, refinery and boot that died (the first restart at once, then with exponential
backoff; 5 restarts in 15 minutes is a crash loop: it stops restarting that daemon and
escalates to the mayor), writes its heartbeat (deacon/heartbeat.json; boot restarts a deacon
whose heartbeat goes stale), lands complete convoys, and forwards ESCALATION/HELP mail
addressed to it to the mayor. See docs/SUPERVISION.md.

examples:
  vermas up                          # boot, deacon, every rig's witness and refinery
  vermas deacon status               # process, heartbeat, supervised daemons, restart records
  vermas deacon run --once           # one patrol in the foreground
  vermas deacon clear-backoff app/witness   # forget a crash loop: restart it again
  vermas deacon stop

settings (vermas config set <key> <value>):
  deacon.patrol_interval SECONDS (60)   deacon.heartbeat_stale SECONDS (300)
"""


def configure(parser: CommandParser, name: str) -> None:
    parser.description = "Keep the town's supervisors running: a deterministic patrol daemon (one per town)."
    parser.epilog = EPILOG
    subs = parser.add_subparsers(dest="action", title="actions")

    p = subs.add_parser("start", help="start the daemon in tmux session vm-deacon (idempotent)",
                        description="Start the deacon in its tmux session and wait until it holds its lock; does "
                                    "nothing if it already runs. Marks it wanted, so boot restarts it if it dies.")
    p.add_argument("--wait", type=float, default=20.0, metavar="SECONDS", help="how long to wait for it (20)")
    p.add_common(json=True)
    p.set_defaults(handler=_start)

    p = subs.add_parser("stop", help="stop the daemon (SIGTERM, then SIGKILL after --timeout)",
                        description="Stop the deacon; boot will not restart a deacon stopped this way.")
    p.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS", help="grace period (30)")
    p.add_common(json=True)
    p.set_defaults(handler=_stop)

    p = subs.add_parser("status", help="process, heartbeat, supervised daemons, last patrol",
                        description="Show whether the deacon runs, its heartbeat, every daemon it supervises "
                                    "(running, wanted, recent restarts, crash loop) and its last patrol.")
    p.add_common(json=True)
    p.set_defaults(handler=_status)

    p = subs.add_parser("run", help="patrol in the foreground (what 'start' runs in tmux)",
                        description="Run the deacon in this process; with --once, patrol once and exit.")
    p.add_argument("--once", action="store_true", help="one patrol, then exit")
    p.add_argument("--quiet", action="store_true", help="do not echo the log to stderr")
    p.add_common(json=True)
    p.set_defaults(handler=_run)

    p = subs.add_parser("clear-backoff", help="forget restart records (all, or one daemon's)",
                        description="Forget the deacon's restart records, so a daemon it stopped restarting after "
                                    "a crash loop is restarted again at its next patrol.")
    p.add_argument("target", nargs="?", help="e.g. app/witness, app/refinery, boot (default: all)")
    p.add_common(json=True)
    p.set_defaults(handler=_clear)


def _town(env: Environment):
    from vermas.cli.commands.town_common import town

    return town(env)


def _start(env: Environment, args: argparse.Namespace) -> int:
    from vermas.roles.deacon import daemon

    env.info("starting the deacon…")
    result = daemon.start(_town(env), environ=env.environ, wait=args.wait, by=env.actor(args.actor))
    return report_start(env, "deacon", result, json=args.json)


def _stop(env: Environment, args: argparse.Namespace) -> int:
    from vermas.roles.deacon import daemon

    result = daemon.stop(_town(env), environ=env.environ, timeout=args.timeout)
    return report_stop(env, "deacon", result, json=args.json)


def _status(env: Environment, args: argparse.Namespace) -> int:
    from vermas.cli.commands.refinery import _ago
    from vermas.roles.deacon import daemon

    doc = daemon.status(_town(env), environ=env.environ)
    if args.json:
        env.print_json(doc)
        return 0
    env.write(running_line("deacon", doc, when_stopped="wanted: boot will restart it" if doc["wanted"] else ""))
    beat = doc["heartbeat"]
    if beat["age_s"] is not None:
        env.write(f"  heartbeat {beat['age_s']:g}s ago" + (" — STALE" if beat.get("stale") else ""))
    settings = doc["settings"]
    if "error" in settings:
        env.write(f"  settings: ERROR {settings['error']}")
    else:
        env.write(f"  patrol every {settings['patrol_interval']:g}s; heartbeat stale after "
                  f"{settings['heartbeat_stale']:g}s; restart backoff from {settings['backoff_base']:g}s")
    env.write("  supervised:")
    for row in doc["supervised"]:
        state = f"running (pid {row['pid']})" if row["running"] else ("DOWN" if row["wanted"] else "stopped")
        extra = []
        if row["restarts_recent"]:
            extra.append(f"{row['restarts_recent']} restart(s) in the last {row['window_s'] / 60:.0f} min")
        if row["crash_loop"]:
            extra.append(f"CRASH LOOP, escalated {row['escalation'] or '(failed)'}")
        if row["last_error"] and not row["running"]:
            extra.append(f"last error: {row['last_error'][:120]}")
        env.write(f"    {row['target']:<18} {state}" + (f" — {'; '.join(extra)}" if extra else ""))
    last = doc.get("last_patrol")
    if last:
        env.write(f"  last patrol {_ago(last.get('at'))}: {len(last.get('actions') or [])} action(s), "
                  f"{len(last.get('convoys_landed') or [])} convoy(s) landed, {last.get('duration_ms', 0):g} ms")
    totals = {k: v for k, v in (doc.get("totals") or {}).items() if v}
    if totals:
        env.write("  totals: " + ", ".join(f"{k} {v}" for k, v in totals.items()))
    env.write(f"  log: {doc['log']}")
    return 0


def _run(env: Environment, args: argparse.Namespace) -> int:
    from vermas.roles.deacon import daemon

    echo = None if args.quiet else (lambda line: env.info(line))
    summary = daemon.run(_town(env), once=args.once, environ=env.environ, echo=echo)
    if args.json:
        env.print_json(summary["last"] if args.once else summary)
    elif args.once:
        last = summary["last"] or {}
        env.write(f"deacon: patrolled in {last.get('duration_ms', 0):g} ms; {len(last.get('actions') or [])} "
                  f"action(s), {len(last.get('convoys_landed') or [])} convoy(s) landed")
        for action in last.get("actions") or ():
            env.write(f"  {action['action']:<15} {action['target']}")
    return 1 if summary["errors"] and args.once else 0


def _clear(env: Environment, args: argparse.Namespace) -> int:
    from vermas.roles.deacon import daemon

    cleared = daemon.clear_backoff(_town(env), args.target)
    if args.json:
        env.print_json({"cleared": cleared})
    else:
        env.write(f"deacon: cleared restart records of {', '.join(cleared) or 'nothing'}")
    return 0
