"""``vermas up`` / ``vermas down``: start or stop every supervision daemon of the town, in order."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment

UP_EPILOG = """\
Starts, in order: boot (the deacon's watchdog), the deacon, then for every rig its witness and
its refinery; the mayor too with --mayor. Idempotent: what already runs is reported and left
alone. Everything started is marked wanted: from then on the deacon restarts a witness,
refinery or boot that dies, and boot restarts the deacon.

examples:
  vermas up                    # the whole town's supervision
  vermas up --rig app          # the town daemons and rig app's witness and refinery
  vermas up --mayor --json
"""

DOWN_EPILOG = """\
Stops, in order: boot, the deacon, then every rig's witness and refinery (a refinery in the
middle of a merge discards the round: the target never moves half-way); the mayor with
--mayor, and every polecat session with --polecats (their hooks, worktrees and branches stay:
after 'vermas up' the witness respawns them where they were). Idempotent.

examples:
  vermas down
  vermas down --rig app        # only rig app's witness and refinery
  vermas down --mayor --polecats
"""


def configure(parser: CommandParser, name: str) -> None:
    if name == "down":
        parser.description = "Stop every supervision daemon of the town (boot, deacon, witnesses, refineries)."
        parser.epilog = DOWN_EPILOG
        parser.add_argument("--mayor", action="store_true", help="also stop the mayor's session")
        parser.add_argument("--polecats", action="store_true",
                            help="also stop every polecat session (hooks and worktrees stay)")
        parser.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                            help="grace period per daemon before SIGKILL (30)")
        parser.add_argument("--rig", action="append", metavar="RIG",
                            help="only this rig's witness and refinery (repeatable); the town daemons stay")
        parser.add_common(json=True)
        parser.set_defaults(handler=_down)
        return
    parser.description = "Start every supervision daemon of the town in order: boot, deacon, witnesses, refineries."
    parser.epilog = UP_EPILOG
    parser.add_argument("--mayor", action="store_true", help="also start the mayor's session")
    parser.add_argument("--rig", action="append", metavar="RIG", help="only these rigs' daemons (repeatable)")
    parser.add_argument("--wait", type=float, default=20.0, metavar="SECONDS",
                        help="how long to wait for each daemon to come up (20)")
    parser.add_common(json=True)
    parser.set_defaults(handler=_up)


def _line(row: dict) -> str:
    text = f"{row['component']:<20} {row['status']}"
    if row.get("pid"):
        text += f" (pid {row['pid']}" + (f", session {row['session']})" if row.get("session") else ")")
    elif row.get("session") and row["status"] != "not running":
        text += f" (session {row['session']})"
    if row.get("error"):
        text += f": {row['error']}"
    return text


def _report(env: Environment, args: argparse.Namespace, rows: list[dict]) -> int:
    failed = [r for r in rows if r["status"] == "failed"]
    if args.json:
        env.print_json({"components": rows, "ok": not failed})
    if failed:
        from vermas.errors import VermasError

        first = failed[0]
        raise VermasError(f"{len(failed)} component(s) failed: " + ", ".join(r["component"] for r in failed),
                          hint=first.get("hint") or "see the errors above and the daemons' logs")
    return 0


def _up(env: Environment, args: argparse.Namespace) -> int:
    from vermas.cli.commands.town_common import town
    from vermas.roles.deacon import updown

    rows = updown.up(town(env), environ=env.environ, mayor=args.mayor, rigs=args.rig, wait=args.wait,
                     before=lambda component: env.info(f"starting {component}…"),
                     progress=None if args.json else (lambda row: env.write(_line(row))))
    return _report(env, args, rows)


def _down(env: Environment, args: argparse.Namespace) -> int:
    from vermas.cli.commands.town_common import town
    from vermas.roles.deacon import updown

    rows = updown.down(town(env), environ=env.environ, mayor=args.mayor, polecats=args.polecats, rigs=args.rig,
                       timeout=args.timeout, before=lambda component: env.info(f"stopping {component}…"),
                       progress=None if args.json else (lambda row: env.write(_line(row))))
    return _report(env, args, rows)
