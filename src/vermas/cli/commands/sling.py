"""``vermas sling <bead>... <rig-or-polecat>``: hand beads to polecats."""

from __future__ import annotations

from vermas.cli.args import key_value

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment


def configure(parser: CommandParser, name: str) -> None:
    parser.description = (
        "Hand beads to polecats: one polecat per bead, each with its own worktree on a new branch from the rig's "
        "default branch and its own session. The bead goes on the polecat's hook (the .beads/.hook-<agent> file "
        "and status=hooked, assignee=<polecat>), the work formula is poured on it, and the session starts with "
        "the beacon. Beads beyond the free slots (polecats.max) wait in the rig's queue and start as slots free. "
        "Several beads slung together are tracked by a convoy. A task, feature or bug needs an approved test spec "
        "first (the spec gate; rig setting verify.spec_gate): --force --reason bypasses it and records GATE_BYPASS "
        "on the bead. --rework re-slings a bead the refinery sent back, with its failure context: the polecat it "
        "was re-hooked to gets a fresh session on the same worktree (its prime shows the REWORK comment).")
    parser.epilog = """examples:
  vermas sling ap-x7k app                       # any free polecat of rig app
  vermas sling ap-x7k ap-q2c ap-r5t app         # three polecats, one convoy
  vermas sling ap-x7k app/polecats/nux          # a particular polecat
  vermas sling ap-x7k app --runtime sim --formula none
  vermas sling ap-x7k app --var test_cmd="pytest -q"
  vermas sling ap-x7k app --force --reason "previous polecat died"
  vermas sling ap-x7k app --force --reason "hotfix, spec follows"   # bypass the spec gate (recorded)
  vermas sling ap-x7k app --rework              # back to its polecat with the refinery's failure context

exit codes: 2 --rework on a bead without failure context; 3 unknown rig, bead, formula or runtime;
5 a bead is held by another agent, or the spec gate refuses it (no approved spec: 'vermas spec create',
'vermas spec approve').
"""
    parser.add_argument("items", nargs="+", metavar="BEAD... TARGET",
                        help="bead ids, then the rig (or rig/polecats/<name>)")
    parser.add_argument("--formula", help="work formula to pour on each bead (default: config polecats.formula; "
                                          "'none' for no formula)")
    parser.add_argument("--var", action="append", type=key_value, default=[], metavar="K=V",
                        help="formula variable (repeatable)")
    parser.add_argument("--runtime", help="agent runtime (default: config runtime.polecat, then runtime.default)")
    parser.add_argument("--force", action="store_true",
                        help="take beads other agents hold and bypass the spec gate (needs --reason)")
    parser.add_argument("--reason", help="why --force (recorded on the bead; GATE_BYPASS for the spec gate)")
    parser.add_argument("--rework", action="store_true",
                        help="re-sling beads the refinery sent back, carrying their failure context")
    parser.add_argument("--no-convoy", action="store_true", help="do not track several beads with a convoy")
    parser.add_argument("--no-wait", action="store_true", help="return once sessions are started, not ready")
    parser.add_common(json=True)
    parser.set_defaults(handler=run)


def run(env: Environment, args: Namespace) -> int:
    from vermas.cli.commands import town_common
    from vermas.errors import UsageError
    from vermas.town.sling import sling

    if len(args.items) < 2:
        raise UsageError("give at least one bead and a target", hint="vermas sling BEAD [BEAD...] RIG")
    refs, target = args.items[:-1], args.items[-1]
    town = town_common.town(env)
    if len(refs) > 1 or not args.json:
        env.info(f"slinging {len(refs)} bead(s) to {target} …")
    outcome = sling(town, refs, target, actor=env.actor(), formula=args.formula, variables=dict(args.var),
                    runtime=args.runtime, force=args.force, reason=args.reason, convoy=not args.no_convoy,
                    wait_ready=not args.no_wait, environ=env.environ, rework=args.rework)
    for warning in outcome["warnings"]:
        env.warn(warning)
    failures = [r for r in outcome["results"] if r["status"] == "failed"]
    if args.json:
        env.print_json(outcome)
    else:
        for r in outcome["results"]:
            if r["status"] == "restarted":
                env.write(f"✓ {r['bead']} → {r['polecat']} (rework: fresh session on its hook)  session {r['session']}")
            elif r["status"] == "started":
                origin = " (from the queue)" if r.get("from_queue") else ""
                env.write(f"✓ {r['bead']} → {r['polecat']}{origin}  branch {r['branch']}  session {r['session']}")
            elif r["status"] == "queued":
                env.write(f"… {r['bead']} queued: no free polecat slot in {outcome['rig']}; it starts when one frees")
            else:
                env.write(f"✗ {r['bead']}: {r['error']}")
        for bead_id in outcome.get("gate_bypassed") or ():
            env.write(f"  {bead_id}: spec gate bypassed (GATE_BYPASS recorded on the bead)")
        if outcome["convoy"]:
            env.write(f"  convoy {outcome['convoy']} tracks them ('vermas convoy status {outcome['convoy']}')")
        started = [r for r in outcome["results"] if r["status"] in ("started", "restarted")]
        if started:
            from vermas.town.sessions import attach_command

            env.write(f"  watch: {' '.join(attach_command(town, started[0]['session'], env.environ))}")
    if failures:
        first = failures[0]
        if not args.json:
            env.error(f"{len(failures)} bead(s) could not be slung", hint="see the lines above")
        return int(first.get("exit_code") or 1)
    return 0
