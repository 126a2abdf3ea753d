"""``vermas-sim``: entry point of the simulated agent (interactive by default, headless with ``-p``).

Claude-compatible flags: ``-p/--print``, ``--output-format text|json``, ``--settings FILE|JSON``,
``--dangerously-skip-permissions``, ``--resume ID``, ``--continue``, ``--session-id ID``,
``--append-system-prompt TEXT``, ``--model NAME`` and a positional prompt. Sim flags (each with
an environment variable, for sessions started by code): ``--fault NAME[=VALUE]``
(``$VERMAS_SIM_FAULTS``), ``--hook-cmd`` (``$VERMAS_SIM_HOOK_CMD``), ``--done-cmd``
(``$VERMAS_SIM_DONE_CMD``), ``--transcript`` (``$VERMAS_SIM_TRANSCRIPT``), ``--trust-dialog``
(``$VERMAS_SIM_TRUST_DIALOG=1``), ``--step-timeout`` (``$VERMAS_SIM_STEP_TIMEOUT``).
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid

DEFAULT_HOOK_CMD = "vermas hook --json"
DEFAULT_DONE_CMD = "vermas done"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vermas-sim",
        description="VerMAS simulated agent: a claude-compatible terminal agent for tests and demos (no LLM).",
        epilog="examples:\n"
               "  vermas-sim --settings .claude/settings.json          # interactive, hooks from settings\n"
               "  vermas-sim -p \"ROLE: judge ...\" --output-format json  # one Inspector answer\n"
               "  VERMAS_SIM_FAULTS=slow=1,swallow-enter=2 vermas-sim  # misbehave on purpose\n"
               "see docs/SIM_AGENT.md for the instruction format and every knob",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("prompt", nargs="?", help="first prompt (interactive) or the prompt (-p)")
    parser.add_argument("-p", "--print", dest="headless", action="store_true",
                        help="headless: answer one prompt (argument or stdin) and exit")
    parser.add_argument("--output-format", choices=("text", "json"), default="text", help="headless output format")
    parser.add_argument("--settings", help="Claude Code settings file (or JSON string) with hooks")
    parser.add_argument("--dangerously-skip-permissions", action="store_true",
                        help="bypass permissions (shows the bypass warning unless the settings skip it)")
    parser.add_argument("--resume", metavar="ID", help="resume a session (SessionStart source 'resume')")
    parser.add_argument("--continue", dest="cont", action="store_true", help="continue the last session")
    parser.add_argument("--session-id", help="use this session id")
    parser.add_argument("--append-system-prompt", help="accepted for compatibility (recorded only)")
    parser.add_argument("--model", help="accepted for compatibility (ignored)")
    parser.add_argument("--fault", action="append", default=[], metavar="NAME[=VALUE]",
                        help="fault mode (repeatable): slow, hang, crash, swallow-enter, ignore-hook, claim-done, "
                             "wrong-solution, garbage-verdict, garbage-output")
    parser.add_argument("--hook-cmd", help=f"command printing the hooked bead as JSON (default: {DEFAULT_HOOK_CMD}; "
                                           "'none' disables)")
    parser.add_argument("--done-cmd", help=f"command run when work is done (default: {DEFAULT_DONE_CMD}; 'none')")
    parser.add_argument("--transcript", help="append a JSONL transcript of everything to this file")
    parser.add_argument("--trust-dialog", action="store_true", help="show the workspace-trust dialog at startup")
    parser.add_argument("--step-timeout", type=float, help="seconds before a step is killed (default 600)")
    parser.add_argument("--version", action="version", version="vermas-sim 0.1.0 (claude-compatible)")
    return parser


def main(argv: list[str] | None = None) -> int:
    from vermas.sim import hooks as hooks_mod
    from vermas.sim.faults import Faults
    from vermas.sim.transcript import Transcript, default_path

    args = build_parser().parse_args(argv)
    env = dict(os.environ)
    try:
        faults = Faults.parse(env.get("VERMAS_SIM_FAULTS"), args.fault)
    except ValueError as exc:
        sys.stderr.write(f"vermas-sim: {exc}\n")
        return 2
    try:
        settings = hooks_mod.load_settings(args.settings)
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"vermas-sim: cannot read --settings {args.settings}: {exc}\n")
        return 2
    cwd = os.getcwd()
    session_id = args.session_id or args.resume or str(uuid.uuid4())
    transcript = Transcript(args.transcript or default_path(env))
    permission_mode = "bypassPermissions" if args.dangerously_skip_permissions else "default"
    runner = hooks_mod.HookRunner(settings, cwd=cwd, session_id=session_id, transcript_path=transcript.path or "",
                                  permission_mode=permission_mode, env=env) if settings.get("hooks") else None
    if args.headless:
        from vermas.sim import headless

        prompt = args.prompt
        if prompt is None or prompt == "-":
            prompt = sys.stdin.read()
        return headless.run(prompt, output_format=args.output_format, faults=faults, hooks=runner,
                            session_id=session_id, transcript=transcript)
    import faulthandler
    import signal

    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1 <pid>` prints every thread's stack
    from vermas.sim.agent import Agent
    from vermas.sim.screen import Screen
    from vermas.sim.terminal import Terminal

    terminal = Terminal(0)
    screen = Screen(1, tty=terminal.tty and os.isatty(1))
    step_timeout = args.step_timeout or float(env.get("VERMAS_SIM_STEP_TIMEOUT") or 600)
    agent = Agent(
        cwd=cwd, env=env, faults=faults, hooks=runner, transcript=transcript, screen=screen, terminal=terminal,
        hook_cmd=args.hook_cmd if args.hook_cmd is not None else env.get("VERMAS_SIM_HOOK_CMD", DEFAULT_HOOK_CMD),
        done_cmd=args.done_cmd if args.done_cmd is not None else env.get("VERMAS_SIM_DONE_CMD", DEFAULT_DONE_CMD),
        trust_dialog=args.trust_dialog or env.get("VERMAS_SIM_TRUST_DIALOG") in ("1", "true", "yes"),
        bypass_dialog=args.dangerously_skip_permissions and not settings.get("skipDangerousModePermissionPrompt"),
        initial_prompt=args.prompt, resumed=bool(args.resume or args.cont), session_id=session_id,
        step_timeout=step_timeout)
    return agent.run()


def entry() -> None:
    sys.exit(main())
