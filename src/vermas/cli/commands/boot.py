"""``vermas boot check|start|stop|status|run``: the deacon's watchdog."""

from __future__ import annotations

from vermas.cli.commands.daemon_cli import report_start, report_stop

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment

EPILOG = """\
Boot restarts the deacon when it is wanted but not running, or when its heartbeat
(deacon/heartbeat.json) is older than deacon.heartbeat_stale (a hung deacon is stopped first).
The deacon restarts boot in turn. 'check' does it once, for cron or a systemd timer; 'start'
runs it as a small daemon in tmux session vm-boot (what 'vermas up' does).

examples:
  vermas boot check                              # once; prints what it saw and did
  */5 * * * * vermas --town ~/town boot check    # a crontab line
  vermas boot start / vermas boot status / vermas boot stop
"""


def configure(parser: CommandParser, name: str) -> None:
    parser.description = "The deacon's watchdog: restart the deacon when it died or went silent."
    parser.epilog = EPILOG
    subs = parser.add_subparsers(dest="action", title="actions")

    p = subs.add_parser("check", help="look at the deacon once; restart it if needed (cron-friendly)",
                        description="Check the deacon once: restart it if it is wanted and dead, or stop and "
                                    "restart it if its heartbeat is stale. Exit 0 unless the check itself failed.")
    p.add_common(json=True)
    p.set_defaults(handler=_check)

    p = subs.add_parser("start", help="run the watchdog in tmux session vm-boot (idempotent)",
                        description="Start boot's watchdog loop in its tmux session; marks it wanted, so the "
                                    "deacon restarts it if it dies.")
    p.add_argument("--wait", type=float, default=20.0, metavar="SECONDS", help="how long to wait for it (20)")
    p.add_common(json=True)
    p.set_defaults(handler=_start)

    p = subs.add_parser("stop", help="stop the watchdog", description="Stop boot's watchdog loop.")
    p.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS", help="grace period (30)")
    p.add_common(json=True)
    p.set_defaults(handler=_stop)

    p = subs.add_parser("status", help="process, last check, deacon restarts",
                        description="Show whether boot runs, its last check of the deacon and its restarts.")
    p.add_common(json=True)
    p.set_defaults(handler=_status)

    p = subs.add_parser("run", help="the watchdog loop in the foreground (what 'start' runs)",
                        description="Run boot's loop in this process; with --once, one check under boot's lock.")
    p.add_argument("--once", action="store_true", help="one check, then exit")
    p.add_argument("--quiet", action="store_true", help="do not echo the log to stderr")
    p.add_common(json=True)
    p.set_defaults(handler=_run)


def _town(env: Environment):
    from vermas.cli.commands.town_common import town

    return town(env)


def _describe(result: dict) -> str:
    seen = result["deacon"]
    state = (f"running (pid {seen['pid']}), heartbeat "
             + (f"{seen['heartbeat_age_s']:g}s ago" if seen["heartbeat_age_s"] is not None else "not written yet")
             ) if seen["running"] else "not running"
    detail = result.get("detail") or {}
    action = result["action"]
    if action == "restarted":
        what = f"restarted it (pid {detail.get('pid')})"
    elif action == "backoff":
        what = f"waiting {detail.get('wait_s')}s before the next restart (backoff)"
    elif action == "crash_loop":
        what = f"crash loop: stopped restarting it, escalated {detail.get('escalation')}"
    elif action == "restart_failed":
        what = f"restart FAILED: {detail.get('error')}"
    elif action == "none":
        what = detail.get("reason") or "nothing to do"
    else:
        what = "ok"
    return f"deacon {state}" + (" — STALE" if seen.get("stale") else "") + f": {what}"


def _check(env: Environment, args: argparse.Namespace) -> int:
    from vermas.roles import boot

    result = boot.check(_town(env), environ=env.environ, log=env.info)
    if args.json:
        env.print_json(result)
    else:
        env.write("boot: " + _describe(result))
    return 0


def _start(env: Environment, args: argparse.Namespace) -> int:
    from vermas.roles import boot

    result = boot.start(_town(env), environ=env.environ, wait=args.wait, by=env.actor(args.actor))
    return report_start(env, "boot", result, json=args.json)


def _stop(env: Environment, args: argparse.Namespace) -> int:
    from vermas.roles import boot

    result = boot.stop(_town(env), environ=env.environ, timeout=args.timeout)
    return report_stop(env, "boot", result, json=args.json)


def _status(env: Environment, args: argparse.Namespace) -> int:
    from vermas.roles import boot

    doc = boot.status(_town(env), environ=env.environ)
    if args.json:
        env.print_json(doc)
        return 0
    env.write(f"boot: {'running, pid ' + str(doc['pid']) if doc['running'] else 'not running'}"
              + (f", session {doc['session']}" if doc["running"] else "")
              + (" (wanted: the deacon will restart it)" if doc["wanted"] and not doc["running"] else ""))
    if doc.get("last_check"):
        env.write("  last check: " + _describe(doc["last_check"]) + f" ({doc['last_check']['at']})")
    totals = doc.get("totals") or {}
    if totals:
        env.write("  totals: " + ", ".join(f"{k} {v}" for k, v in totals.items()))
    env.write(f"  log: {doc['log']}")
    return 0


def _run(env: Environment, args: argparse.Namespace) -> int:
    from vermas.roles import boot

    echo = None if args.quiet else (lambda line: env.info(line))
    summary = boot.run(_town(env), once=args.once, environ=env.environ, echo=echo)
    if args.json:
        env.print_json(summary["last"] if args.once else summary)
    elif args.once and summary["last"]:
        env.write("boot: " + _describe(summary["last"]))
    return 1 if summary["errors"] and args.once else 0
