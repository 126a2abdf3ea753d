"""The interactive simulated agent: dialogs, banner, prompt, turns, hooks, hooked work, faults.

One main thread renders and runs turns; a reader thread turns keystrokes into events (so
Escape can interrupt a running step, and text typed while busy is kept for later, as in
Claude Code). A turn is: UserPromptSubmit hooks → the prompt's action (a slash command,
or "check my hook and do the work") → Stop hooks (a Stop hook that blocks keeps the agent
working on its reason, up to 5 times).
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time

from vermas.sim import work
from vermas.sim.screen import BUSY

MAX_STOP_CONTINUATIONS = 5


class ExitAgent(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class Agent:
    def __init__(self, *, cwd: str, env: dict, faults, hooks, transcript, screen, terminal, hook_cmd: str,
                 done_cmd: str, trust_dialog: bool, bypass_dialog: bool, initial_prompt: str | None,
                 resumed: bool, session_id: str, step_timeout: float = 600.0) -> None:
        self.cwd = cwd
        self.env = env
        self.faults = faults
        self.hooks = hooks
        self.transcript = transcript
        self.screen = screen
        self.terminal = terminal
        self.hook_cmd = hook_cmd
        self.done_cmd = done_cmd
        self.trust_dialog = trust_dialog
        self.bypass_dialog = bypass_dialog
        self.initial_prompt = initial_prompt
        self.resumed = resumed
        self.session_id = session_id
        self.step_timeout = step_timeout
        self.events: queue.Queue = queue.Queue()
        self.busy = threading.Event()
        self.interrupt = threading.Event()
        self.buffer = ""
        self.enter_presses = 0
        self.done_beads: set[str] = set()
        self.contexts: list[tuple[str, str]] = []
        self.proc: subprocess.Popen | None = None
        self._tool_counter = 0
        self._last_ctrl_c = 0.0

    # ------------------------------------------------------------------ lifecycle
    def run(self) -> int:
        self._install_signals()
        self.terminal.enter_raw()
        self.screen.bracketed_paste(True)
        threading.Thread(target=self._reader, name="sim-keys", daemon=True).start()
        try:
            if not self._startup_dialogs():
                self.transcript.event("exit", code=1, reason="dialog declined")
                return 1
            self.screen.clear_screen()
            self._banner()
            self._session_start()
            self._run_turn(None, origin="startup")
            if self.initial_prompt:
                self.screen.prompt(self.initial_prompt)
                self.screen.write(self.screen.nl)
                self._submit(self.initial_prompt)
            self.screen.prompt(self.buffer)
            while True:
                self._handle(self.events.get())
        except ExitAgent as stop:
            self.transcript.event("exit", code=stop.code)
            if self.hooks is not None:
                self.hooks.fire("SessionEnd", {"reason": "exit"})
            return stop.code
        finally:
            self.screen.clear_status()
            self.screen.bracketed_paste(False)
            self.terminal.restore()

    def _install_signals(self) -> None:
        def die(signum, _frame):
            self._kill_step()
            self.terminal.restore()
            self.transcript.event("exit", code=128 + signum, reason=f"signal {signum}")
            os._exit(128 + signum)

        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, die)

    def _reader(self) -> None:
        for batch in self.terminal.read_events():
            for event in batch:
                if event == ("escape",) and self.busy.is_set():
                    self.interrupt.set()
                    self._kill_step()
                    continue
                self.events.put(event)

    # ------------------------------------------------------------------ startup
    def _startup_dialogs(self) -> bool:
        if self.trust_dialog:
            choice = self._menu(["Do you trust the files in this folder?", "", self.cwd, "",
                                 "Claude Code may read, write, or execute files contained in this directory.",
                                 "(VerMAS sim: same dialog, same keys)"],
                                ["Yes, proceed", "No, exit"], default=0)
            self.transcript.event("dialog", kind="workspace-trust", choice=choice)
            if choice != 0:
                return False
        if self.bypass_dialog:
            choice = self._menu(["WARNING: Claude Code running in Bypass Permissions mode", "",
                                 "In Bypass Permissions mode, Claude Code will not ask for your approval",
                                 "before running potentially dangerous commands.",
                                 "By proceeding, you accept all responsibility for actions taken."],
                                ["No, exit", "Yes, I accept"], default=0)
            self.transcript.event("dialog", kind="bypass-permissions", choice=choice)
            if choice != 1:
                return False
        return True

    def _menu(self, lines: list[str], options: list[str], *, default: int) -> int:
        selected = default
        while True:
            self.screen.clear_screen()
            width = max(len(x) for x in lines + options) + 6
            body = ["╭" + "─" * width + "╮"] + [f"│ {x.ljust(width - 2)} │" for x in lines] + ["│" + " " * width + "│"]
            for i, option in enumerate(options):
                mark = "❯" if i == selected else " "
                body.append(f"│ {mark} {i + 1}. {option}".ljust(width + 1) + "│")
            body += ["╰" + "─" * width + "╯", "   Enter to confirm · Esc to exit"]
            self.screen.write(self.screen.nl.join(body) + self.screen.nl)
            event = self.events.get()
            kind = event[0]
            if kind == "enter":
                return selected
            if kind in ("escape", "eof", "ctrl-c"):
                return -1
            if kind == "down":
                selected = min(selected + 1, len(options) - 1)
            elif kind == "up":
                selected = max(selected - 1, 0)
            elif kind == "text" and event[1].strip().isdigit():
                number = int(event[1].strip()) - 1
                if 0 <= number < len(options):
                    if self.terminal.tty:
                        return number
                    selected = number

    def _banner(self) -> None:
        actor = self.env.get("BD_ACTOR") or "(no identity)"
        lines = ["╭────────────────────────────────────────────╮",
                 "│ ✻ VerMAS sim agent · claude-compatible      │",
                 "╰────────────────────────────────────────────╯",
                 f"  actor: {actor}", f"  cwd:   {self.cwd}"]
        if self.faults.active():
            lines.append("  faults: " + ", ".join(self.faults.active()))
        self.screen.line("\n".join(lines) + "\n")
        self.transcript.event("start", pid=os.getpid(), cwd=self.cwd, session_id=self.session_id,
                              faults=self.faults.active(), resumed=self.resumed,
                              env={k: self.env.get(k, "") for k in ("BD_ACTOR", "GT_ROLE", "GT_RIG", "BEAD_ID",
                                                                   "VERMAS_TOWN", "VERMAS_SESSION", "VERMAS_ROLE")})

    def _session_start(self) -> None:
        if self.hooks is None:
            return
        source = "resume" if self.resumed else "startup"
        outcome = self.hooks.fire("SessionStart", {"source": source}, match_value=source)
        self._show_errors(outcome)
        for text in outcome.contexts:
            self._add_context("SessionStart", text)

    # ------------------------------------------------------------------ input handling (idle)
    def _handle(self, event: tuple) -> None:
        kind = event[0]
        if kind in ("text", "paste"):
            self.buffer += event[1]
            self.screen.echo(event[1])
        elif kind == "newline":
            self.buffer += "\n"
            self.screen.echo("\n")
        elif kind == "backspace":
            if self.buffer:
                last, self.buffer = self.buffer[-1], self.buffer[:-1]
                if last != "\n":
                    self.screen.echo("\b \b")
        elif kind == "ctrl-u":
            self._clear_input()
        elif kind == "ctrl-c":
            if self.buffer:
                self._clear_input()
            elif time.monotonic() - self._last_ctrl_c < 2.0:
                raise ExitAgent(0)
            else:
                self._last_ctrl_c = time.monotonic()
                self.screen.write(self.screen.nl)
                self.screen.line("  Press Ctrl-C again to exit")
                self.screen.prompt("")
        elif kind == "ctrl-d":
            if not self.buffer:
                raise ExitAgent(0)
        elif kind == "eof":
            raise ExitAgent(0)
        elif kind == "enter":
            if not self.buffer.strip():
                return
            if self.faults.swallow_enter(self.enter_presses):
                self.enter_presses += 1
                self.transcript.event("fault", kind="swallow-enter", presses=self.enter_presses)
                return
            text, self.buffer, self.enter_presses = self.buffer, "", 0
            if self.screen.tty:
                self.screen.write(self.screen.nl)
            self._submit(text)
            self.screen.prompt(self.buffer)

    def _clear_input(self) -> None:
        multiline = "\n" in self.buffer
        self.buffer, self.enter_presses = "", 0
        if multiline:
            self.screen.write(self.screen.nl)
        self.screen.prompt("")

    # ------------------------------------------------------------------ turns
    def _submit(self, text: str) -> None:
        self.transcript.event("prompt", text=text)
        self._run_turn(text, origin="prompt")

    def _run_turn(self, text: str | None, *, origin: str) -> None:
        self.busy.set()
        self.interrupt.clear()
        self.screen.set_status(BUSY)
        try:
            if text is not None and self.hooks is not None:
                outcome = self.hooks.fire("UserPromptSubmit", {"prompt": text})
                self._show_errors(outcome)
                if outcome.blocked:
                    reason = "; ".join(outcome.reasons)
                    self.screen.line(f"  ⎿ Prompt blocked by UserPromptSubmit hook: {reason}")
                    self.transcript.event("blocked_prompt", text=text, reason=reason)
                    return
                for context in outcome.contexts:
                    self._add_context("UserPromptSubmit", context)
            acted = self._turn(text, origin=origin)
            if self.interrupt.is_set() or self.hooks is None or not acted:
                return
            active = False
            for _ in range(MAX_STOP_CONTINUATIONS):
                outcome = self.hooks.fire("Stop", {"stop_hook_active": active})
                self._show_errors(outcome)
                self.transcript.event("stop", blocked=outcome.blocked, stop_hook_active=active)
                if not outcome.blocked:
                    break
                reason = "\n".join(outcome.reasons)
                self._add_context("Stop", reason)
                active = True
                self._turn(reason, origin="stop-hook")
                if self.interrupt.is_set():
                    break
        finally:
            if self.interrupt.is_set():
                self.screen.line("  ⎿ Interrupted by user")
                self.transcript.event("interrupt")
            self.busy.clear()
            self.screen.clear_status()

    def _turn(self, text: str | None, *, origin: str) -> bool:
        """Act on a prompt (or, at startup, on the hook alone); False when there was nothing to do."""
        if text is not None and origin == "prompt" and text.startswith("/"):
            self._slash(text)
            return True
        if self.faults.slow and not self._sleep(self.faults.slow):
            return True
        worked = self._check_hook(origin)
        return worked or text is not None

    def _slash(self, text: str) -> None:
        name, _, arg = text.strip().partition(" ")
        if name in ("/exit", "/quit"):
            raise ExitAgent(0)
        if name == "/busy":
            try:
                seconds = float(arg or 1)
            except ValueError:
                seconds = 1.0
            self.screen.line(f"⏺ Working for {seconds:g}s")
            self._sleep(seconds)
        elif name == "/bash" and arg.strip():
            self._bash(arg.strip())
        elif name == "/status":
            self.screen.line(f"⏺ session {self.session_id} · cwd {self.cwd} · faults "
                             f"{', '.join(self.faults.active()) or 'none'} · done {sorted(self.done_beads) or '-'}")
        elif name == "/context":
            for source, context in self.contexts:
                self.screen.line(f"⏺ [{source}] {context}")
        elif name == "/clear":
            self.screen.clear_screen()
        else:
            self.screen.line(f"⏺ Unknown command {name} (try /status, /busy N, /bash CMD, /context, /exit)")

    def _check_hook(self, origin: str) -> bool:
        """GUPP: if my hook has work, run it. True when there was hooked work to act on."""
        if self.faults.ignore_hook:
            if origin != "startup":
                self.screen.line("⏺ OK.")
            return False
        if self.hook_cmd.strip().lower() in work.DISABLED:
            if origin != "startup":
                self.screen.line("⏺ Received (no hook command configured).")
            return False
        bead, error = work.find_bead(self.hook_cmd, cwd=self.cwd, env=self.env)
        if error:
            self.screen.line(f"⏺ Could not check my hook: {error}")
            self.transcript.event("hook_error", hook="gupp", error=error)
            return False
        if bead is None:
            self.screen.line("⏺ Nothing on my hook. Waiting for instructions.")
            return False
        if bead["id"] in self.done_beads:
            self.screen.line(f"⏺ {bead['id']} is already done; waiting.")
            return False
        self._work(bead)
        return True

    # ------------------------------------------------------------------ hooked work
    def _work(self, bead: dict) -> None:
        bead_id = bead["id"]
        self.screen.line(f"⏺ Working on {bead_id}: {bead.get('title', '')}")
        self.transcript.event("work", bead=bead_id, phase="start")
        if self.faults.hang:
            self.transcript.event("fault", kind="hang", bead=bead_id)
            self.busy.clear()  # a stuck agent ignores Escape too
            while True:
                time.sleep(3600)
        if self.faults.claim_done:
            self.transcript.event("fault", kind="claim-done", bead=bead_id)
            self.screen.line("⏺ All done! (nothing was actually done)")
            self._done(bead)
            return
        tag = "sim"
        steps = work.blocks(bead, "sim")
        wrong = self.faults.wrong_for(bead)
        if wrong:
            wrong_steps = work.blocks(bead, "sim-wrong")
            tag, steps = ("sim-wrong", wrong_steps) if wrong_steps else ("sim minus its last step", steps[:-1])
            self.transcript.event("fault", kind="wrong-solution", bead=bead_id, using=tag)
        if not steps and not wrong:
            self.screen.line(f"⏺ {bead_id} has no ```sim instructions; I don't know what to do.")
            self.transcript.event("work", bead=bead_id, phase="no-instructions")
            return
        for number, step in enumerate(steps, 1):
            if self.interrupt.is_set():
                return
            if self.faults.slow and not self._sleep(self.faults.slow):
                return
            result = self._bash(step)
            if result["blocked"]:
                self.screen.line(f"⏺ Stopping: step {number} was blocked by a hook.")
                self.transcript.event("work", bead=bead_id, phase="blocked", step=number)
                return
            if result["exit"] != 0:
                self.screen.line(f"⏺ Step {number} failed (exit {result['exit']}); stopping.")
                self.transcript.event("work", bead=bead_id, phase="failed", step=number, exit=result["exit"])
                return
            if self.faults.crash_after is not None and number >= self.faults.crash_after:
                self.transcript.event("fault", kind="crash", bead=bead_id, after_step=number)
                self.screen.line("✗ vermas-sim: simulated crash (fault 'crash')")
                self.terminal.restore()
                os._exit(3)
        changes = work.has_changes(self.cwd)
        if changes:
            if self._bash(work.commit_command(bead))["exit"] != 0:
                self.screen.line("⏺ Commit failed; stopping.")
                self.transcript.event("work", bead=bead_id, phase="commit-failed")
                return
        elif changes is None:
            self.screen.line("  ⎿ not a git worktree: nothing to commit")
        self._done(bead)

    def _done(self, bead: dict) -> None:
        bead_id = bead["id"]
        if self.done_cmd.strip().lower() in work.DISABLED:
            self.done_beads.add(bead_id)
            self.screen.line(f"⏺ Finished {bead_id} (no done command configured).")
            self.transcript.event("done", bead=bead_id, command=None, exit=0)
            return
        result = self._bash(self.done_cmd)
        self.transcript.event("done", bead=bead_id, command=self.done_cmd, exit=result["exit"],
                              blocked=result["blocked"])
        if result["exit"] == 0 and not result["blocked"]:
            self.done_beads.add(bead_id)
            self.screen.line(f"⏺ Finished {bead_id}.")
        else:
            self.screen.line(f"⏺ The done command failed for {bead_id}; I will retry when nudged.")

    def _bash(self, command: str) -> dict:
        self._tool_counter += 1
        tool_id = f"toolu_sim_{self._tool_counter:04d}"
        shown = command.split("\n", 1)[0]
        self.screen.line(f"⏺ Bash({shown[:100]}{'…' if len(shown) > 100 or chr(10) in command else ''})")
        tool_input = {"command": command, "description": "sim step"}
        if self.hooks is not None:
            pre = self.hooks.fire("PreToolUse", {"tool_name": "Bash", "tool_input": tool_input,
                                                 "tool_use_id": tool_id}, match_value="Bash")
            self._show_errors(pre)
            if pre.blocked:
                reason = "; ".join(pre.reasons)
                self.screen.line(f"  ⎿ Blocked by PreToolUse hook: {reason}")
                self.transcript.event("tool", command=command, blocked=True, reason=reason, exit=None)
                return {"blocked": True, "exit": None, "output": "", "reason": reason}
        code, output = self._execute(command)
        if self.hooks is not None:
            post = self.hooks.fire("PostToolUse", {"tool_name": "Bash", "tool_input": tool_input,
                                                   "tool_response": {"stdout": output, "exit_code": code},
                                                   "tool_use_id": tool_id}, match_value="Bash")
            self._show_errors(post)
        lines = [x for x in output.rstrip().split("\n") if x.strip()][-5:]
        shown_out = "\n     ".join(lines) if lines else "(no output)"
        self.screen.line(f"  ⎿ {shown_out}" + (f"  [exit {code}]" if code else ""))
        self.transcript.event("tool", command=command, blocked=False, exit=code, output=output[-4000:])
        return {"blocked": False, "exit": code, "output": output, "reason": ""}

    def _execute(self, command: str) -> tuple[int, str]:
        try:
            proc = subprocess.Popen(["bash", "-c", command], cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as exc:
            return 127, f"cannot run bash: {exc}"
        self.proc = proc
        deadline = time.monotonic() + self.step_timeout
        chunks: list[bytes] = []
        try:
            while True:
                try:
                    out, _ = proc.communicate(timeout=0.05)
                    chunks.append(out or b"")
                    break
                except subprocess.TimeoutExpired:
                    if self.interrupt.is_set() or time.monotonic() > deadline:
                        self._kill_step()
        finally:
            self.proc = None
        code = proc.returncode
        text = b"".join(chunks).decode("utf-8", "replace")
        if self.interrupt.is_set():
            text += "\n(interrupted)"
        return (code if code is not None else -1), text

    def _kill_step(self) -> None:
        proc = self.proc
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass

    # ------------------------------------------------------------------ helpers
    def _sleep(self, seconds: float) -> bool:
        """Sleep, unless interrupted (returns False when interrupted)."""
        return not self.interrupt.wait(seconds)

    def _add_context(self, source: str, text: str) -> None:
        self.contexts.append((source, text))
        self.transcript.event("context", source=source, text=text)
        indented = text.replace("\n", "\n     ")
        self.screen.line(f"  ⎿ {source} hook: {indented}")

    def _show_errors(self, outcome) -> None:
        for error in outcome.errors:
            if error:
                self.screen.line(f"  ⎿ {outcome.event} hook error: {error}")
                self.transcript.event("hook_error", hook=outcome.event, error=error)
