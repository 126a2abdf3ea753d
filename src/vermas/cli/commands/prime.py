"""``vermas prime [--hook]``: the role context an agent needs at session start (hook path)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment


def configure(parser: CommandParser, name: str) -> None:
    parser.description = ("Print the context an agent needs: its role, identity, the work on its hook with the "
                          "formula's steps as a checklist, handoff notes and unread mail. Claude Code runs "
                          "'vermas prime --hook' on SessionStart and PreCompact.")
    parser.epilog = """examples:
  vermas prime                         # as the current agent ($BD_ACTOR, else your directory)
  vermas prime --agent app/polecats/nux
  echo '{"session_id":"abc","source":"startup"}' | vermas prime --hook
"""
    parser.add_argument("--hook", action="store_true",
                        help="hook mode: read Claude Code's hook JSON on stdin (session_id, source)")
    parser.add_argument("--agent", metavar="ADDR", help="prime as this agent (default: you)")
    parser.add_common(json=True)
    parser.set_defaults(handler=run)


def _hook_input(env: Environment) -> dict:
    import json

    isatty = getattr(env.stdin, "isatty", None)
    if env.stdin is None or (isatty and isatty()):
        return {}  # run by hand in a terminal: no hook JSON is coming
    try:
        text = env.stdin.read()
    except (OSError, ValueError):
        return {}
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def run(env: Environment, args: Namespace) -> int:
    from vermas.cli.commands import town_common
    from vermas.town import prime

    root = town_common.town_root(env)
    agent = town_common.require_agent(env, root, args.agent, what="'vermas prime'")
    hook_input = _hook_input(env) if args.hook else {}
    source = hook_input.get("source") if isinstance(hook_input.get("source"), str) else None
    session_id = hook_input.get("session_id") if isinstance(hook_input.get("session_id"), str) else None
    if args.hook:
        _record_session_start(env, root, agent, session_id, source)
    text = prime.render(root, agent, source=source, session_id=session_id)
    if args.json:
        env.print_json({"agent": agent.address, "role": agent.role, "source": source, "session_id": session_id,
                        "context": text})
    else:
        env.stdout.write(text)
    return 0


def _record_session_start(env: Environment, root: str, agent, session_id: str | None,
                          source: str | None) -> None:
    """SessionStart: the agent is up and idle; keep its own session id (for --resume)."""
    import os

    try:
        from vermas.runtime import activity

        runtime_dir = env.get("VERMAS_RUNTIME_DIR") or os.path.join(root, ".runtime")
        session = env.get("VERMAS_SESSION") or agent.session
        activity.record(runtime_dir, session, state="idle", event=f"SessionStart:{source or 'startup'}",
                        agent_session_id=session_id)
    except (OSError, ImportError):
        pass  # context matters more than bookkeeping: never fail the hook for it
