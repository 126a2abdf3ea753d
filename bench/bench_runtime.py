"""Runtime benchmarks: nudge latency, delivery throughput, session start, memory per session.

Every figure is measured side by side with its baseline in the same run, on a private tmux
socket, against the simulated agent (``vermas-sim``, the claude-compatible runtime):

* **nudge latency** (enqueue → accepted): ``provider.nudge(..., mode="wait-idle")`` into an
  idle sim whose Claude hooks run (so idleness comes from its activity file), against the
  raw floor of ``send-keys -l`` + ``send-keys Enter`` + ``capture-pane`` on the same socket,
  alternating; p50 and p95; target p50 ≤ 3× the floor. The same figure for a hook-less
  agent (idle = pane prompt on two polls 100 ms apart) is reported for information.
* **throughput**: messages per minute delivered (default ``wait-idle`` mode, each confirmed)
  across 20 idle sim sessions by 4 sender processes, against the raw triple at the same
  concurrency; target ≥ 1,000/min.
* **start → ready**: ``provider.start(sim)`` (settings written, env, remain-on-exit, dialogs
  checked, ready prompt seen) against a bare ``tmux new-session -d`` of the same command
  polled until its prompt shows; the ratio.
* **memory**: RSS of our processes per managed session: the sim agent process, the tmux
  server's growth per session, and the peak RSS of a hook command (``vermas mail check
  --inject``, run in a fresh interpreter) against a bare interpreter's; target well under
  50 MB each.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from bench.common import PYTHON, alternate, ratio, summary, vermas_env

LATENCY_TARGET = 3.0
THROUGHPUT_TARGET = 1000.0
RSS_TARGET_MB = 50.0

SENDER = """
import json, sys, time
from vermas.runtime.providers.tmux import TmuxProvider
jobs = json.loads(sys.argv[1])
p = TmuxProvider(runtime_dir=jobs["runtime_dir"])
ok = 0
for session, text in jobs["messages"]:
    ok += p.nudge(session, text)["status"] == "delivered"
print(ok)
"""

RAW_SENDER = """
import json, subprocess, sys
jobs = json.loads(sys.argv[1])
base = ["tmux", "-L", jobs["socket"]]
for target, text in jobs["messages"]:
    subprocess.run(base + ["send-keys", "-t", target, "-l", "--", text], check=True)
    subprocess.run(base + ["send-keys", "-t", target, "Enter"], check=True)
    subprocess.run(base + ["capture-pane", "-p", "-t", target], check=True, capture_output=True)
print(len(jobs["messages"]))
"""


def _say(message: str) -> None:
    print(f"bench runtime: {message}", file=sys.stderr, flush=True)


class Bench:
    def __init__(self) -> None:
        self.env = vermas_env({"VERMAS_SIM_HOOK_CMD": "none", "VERMAS_SIM_DONE_CMD": "none"})
        self.socket = self.env["VERMAS_TMUX_SOCKET"] + "-rt"
        self.env["VERMAS_TMUX_SOCKET"] = self.socket
        self.tmp = tempfile.mkdtemp(prefix="vermas-bench-runtime-")
        self.runtime_dir = os.path.join(self.tmp, "runtime")
        self.env["VERMAS_RUNTIME_DIR"] = self.runtime_dir
        os.environ.update({k: self.env[k] for k in ("VERMAS_TMUX_SOCKET", "VERMAS_RUNTIME_DIR",
                                                    "VERMAS_SIM_HOOK_CMD", "VERMAS_SIM_DONE_CMD")})
        from vermas.runtime.providers.tmux import TmuxProvider

        self.provider = TmuxProvider(socket=self.socket, runtime_dir=self.runtime_dir)
        self.counter = 0

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def request(self, name: str, *, hooks: bool):
        from vermas.runtime import claude_settings
        from vermas.runtime.presets import get_runtime
        from vermas.runtime.providers import StartRequest

        workdir = os.path.join(self.tmp, "wd", name)
        os.makedirs(workdir, exist_ok=True)
        # prime --hook belongs to the town; outside one it would only print an error each start
        settings = claude_settings.build_settings("polecat", overrides={"SessionStart": [], "PreCompact": []}) \
            if hooks else {"skipDangerousModePermissionPrompt": True}
        return StartRequest(session=name, workdir=workdir, runtime=get_runtime("sim"), settings=settings,
                            env={"VERMAS_SIM_HOOK_CMD": "none", "VERMAS_SIM_DONE_CMD": "none"})

    def tmux(self, *args: str, capture: bool = False) -> subprocess.CompletedProcess:
        return subprocess.run(["tmux", "-L", self.socket, *args], check=True, capture_output=capture)

    # ------------------------------------------------------------------ latency
    def latency(self, rounds: int) -> dict:
        p = self.provider
        p.start(self.request("vm-bench-lat", hooks=True))
        p.start(self.request("vm-bench-pane", hooks=False))
        self.tmux("new-session", "-d", "-s", "vm-bench-floor", "-x", "200", "-y", "50", "--", "sh", "-c",
                  "cat > /dev/null")
        # warm up: the first prompt creates the activity file (hooks then say idle/busy)
        p.nudge("vm-bench-lat", "warm up", mode="immediate")
        self._idle("vm-bench-lat", hooked=True)

        def ours() -> float:
            self._idle("vm-bench-lat", hooked=True)
            start = time.perf_counter()
            report = p.nudge("vm-bench-lat", f"latency probe {self._next()}")
            elapsed = (time.perf_counter() - start) * 1000
            assert report["status"] == "delivered", report
            return elapsed

        def pane_only() -> float:
            self._idle("vm-bench-pane", hooked=False)
            start = time.perf_counter()
            report = p.nudge("vm-bench-pane", f"latency probe {self._next()}")
            elapsed = (time.perf_counter() - start) * 1000
            assert report["status"] == "delivered", report
            return elapsed

        def floor() -> float:
            start = time.perf_counter()
            self.tmux("send-keys", "-t", "=vm-bench-floor:", "-l", "--", f"latency probe {self._next()}")
            self.tmux("send-keys", "-t", "=vm-bench-floor:", "Enter")
            self.tmux("capture-pane", "-p", "-t", "=vm-bench-floor:", capture=True)
            return (time.perf_counter() - start) * 1000

        samples = alternate({"nudge": ours, "floor": floor}, rounds, warmup=1)
        pane = alternate({"nudge": pane_only, "floor": floor}, max(rounds // 3, 5), warmup=0)
        result = {
            "what": "wait-idle nudge into an idle sim with Claude hooks (enqueue → accepted) vs send-keys -l + "
                    "send-keys Enter + capture-pane",
            "nudge": summary(samples["nudge"]), "floor": summary(samples["floor"]),
            "p50": ratio(samples["nudge"], samples["floor"], target=LATENCY_TARGET),
            "p95_ratio": round(summary(samples["nudge"])["p95_ms"] / summary(samples["floor"])["p95_ms"], 2),
            "hookless_agent": {"what": "idle from the pane alone: prompt on 2 polls 100 ms apart (information)",
                               "nudge": summary(pane["nudge"]), "p50": ratio(pane["nudge"], pane["floor"])},
        }
        for name in ("vm-bench-lat", "vm-bench-pane"):
            p.stop(name)
        self.tmux("kill-session", "-t", "=vm-bench-floor")
        return result

    def _next(self) -> int:
        self.counter += 1
        return self.counter

    def _idle(self, session: str, *, hooked: bool, timeout: float = 30.0) -> None:
        from vermas.runtime import activity

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            record = activity.read(self.runtime_dir, session)
            if (not hooked or (record and record.get("state") == "idle")) and self.provider.is_idle(session):
                return
            time.sleep(0.02)
        raise RuntimeError(f"{session} did not become idle")

    # ------------------------------------------------------------------ throughput
    def throughput(self, n_sessions: int, n_senders: int, per_sender: int) -> dict:
        p = self.provider
        sessions = [f"vm-bench-tp{i:02d}" for i in range(n_sessions)]
        for name in sessions:
            p.start(self.request(name, hooks=False))
        raw_targets = [f"vm-bench-raw{i:02d}" for i in range(n_sessions)]
        for name in raw_targets:
            self.tmux("new-session", "-d", "-s", name, "--", "sh", "-c", "cat > /dev/null")
        for name in sessions:
            self._idle(name, hooked=False)

        def spread(targets: list[str], sender: int) -> list[list[str]]:
            return [[targets[(k + sender * 7) % len(targets)], f"throughput {sender}-{k} $(nothing) ;"]
                    for k in range(per_sender)]

        def run(code: str, targets: list[str], extra: dict) -> tuple[float, int]:
            started = time.perf_counter()
            procs = [subprocess.Popen([PYTHON, "-c", code, json.dumps({"messages": spread(targets, s), **extra})],
                                      stdout=subprocess.PIPE, text=True, env=self.env) for s in range(n_senders)]
            done = sum(int(proc.communicate(timeout=600)[0].strip() or 0) for proc in procs)
            return time.perf_counter() - started, done

        raw_s, raw_done = run(RAW_SENDER, [f"={t}:" for t in raw_targets], {"socket": self.socket})
        ours_s, done = run(SENDER, sessions, {"runtime_dir": self.runtime_dir})
        total = n_senders * per_sender
        per_min = done / ours_s * 60
        raw_per_min = raw_done / raw_s * 60
        for name in sessions:
            p.stop(name)
        for name in raw_targets:
            self.tmux("kill-session", "-t", "=" + name)
        return {"what": f"{total} wait-idle nudges, each confirmed, to {n_sessions} idle sim sessions from "
                        f"{n_senders} processes, vs the raw triple at the same concurrency",
                "delivered": done, "messages_per_min": round(per_min), "raw_messages_per_min": round(raw_per_min),
                "ratio_of_raw": round(per_min / raw_per_min, 2), "target_per_min": THROUGHPUT_TARGET,
                "meets_target": per_min >= THROUGHPUT_TARGET and done == total}

    # ------------------------------------------------------------------ start → ready
    def start_to_ready(self, rounds: int) -> dict:
        from vermas.runtime.presets import resolve_command

        sim = resolve_command("vermas-sim")
        p = self.provider

        def ours() -> float:
            name = f"vm-bench-st{self._next()}"
            start = time.perf_counter()
            p.start(self.request(name, hooks=False))
            elapsed = (time.perf_counter() - start) * 1000
            p.stop(name)
            return elapsed

        def bare() -> float:
            name = f"vm-bench-bare{self._next()}"
            workdir = os.path.join(self.tmp, "wd", name)
            os.makedirs(workdir, exist_ok=True)
            start = time.perf_counter()
            subprocess.run(["tmux", "-L", self.socket, "new-session", "-d", "-s", name, "-c", workdir, "--", sim,
                            "--settings", '{"skipDangerousModePermissionPrompt": true}'], check=True, env=self.env)
            while True:
                out = subprocess.run(["tmux", "-L", self.socket, "capture-pane", "-p", "-t", f"={name}:"],
                                     capture_output=True, text=True).stdout
                if any(line.startswith("❯ ") or line.strip() == "❯" for line in out.splitlines()):
                    break
                time.sleep(0.005)
            elapsed = (time.perf_counter() - start) * 1000
            self.tmux("kill-session", "-t", "=" + name)
            return elapsed

        samples = alternate({"start": ours, "bare": bare}, rounds, warmup=1)
        return {"what": "provider.start(sim) until ready vs bare tmux new-session -d of the same command polled "
                        "for its prompt", **ratio(samples["start"], samples["bare"]),
                "start": summary(samples["start"]), "bare": summary(samples["bare"])}

    # ------------------------------------------------------------------ memory
    def memory(self, n_sessions: int) -> dict:
        p = self.provider
        self.tmux("new-session", "-d", "-s", "vm-bench-keeper", "--", "sleep", "3600")
        server_pid = int(self.tmux("display-message", "-p", "#{pid}", capture=True).stdout.strip())
        server_before = _rss_mb(server_pid)
        names = [f"vm-bench-mem{i:02d}" for i in range(n_sessions)]
        for name in names:
            p.start(self.request(name, hooks=True))
        agent_rss = [_rss_mb(p.status(name)["pid"]) for name in names]
        server_growth = (_rss_mb(server_pid) - server_before) / n_sessions
        hook_env = dict(self.env, VERMAS_SESSION=names[0])
        hook = _peak_rss_mb(HOOK_RUN, hook_env, stdin='{"session_id": "x"}')
        floor = _peak_rss_mb("pass", self.env)
        for name in names:
            p.stop(name)
        self.tmux("kill-session", "-t", "=vm-bench-keeper")
        sim_mb = statistics.median(agent_rss)
        return {"what": f"RSS per managed session over {n_sessions} sim sessions with hooks",
                "sim_agent_process_mb": round(sim_mb, 1),
                "tmux_server_growth_per_session_mb": round(server_growth, 2),
                "hook_command_peak_mb": round(hook, 1), "python_floor_peak_mb": round(floor, 1),
                "hook_vs_floor": round(hook / floor, 2) if floor else None,
                "target_mb": RSS_TARGET_MB,
                "meets_target": max(sim_mb, server_growth, hook) < RSS_TARGET_MB}


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


HOOK_RUN = ("import io, sys\nfrom vermas.cli.env import Environment\nfrom vermas.cli.main import main\n"
            "main(['mail', 'check', '--inject'], Environment(stdin=sys.stdin, stdout=io.StringIO()))")
PEAK = "\nwith open('/proc/self/status') as fh:\n    print([l for l in fh if l.startswith('VmHWM')][0].split()[1])"


def _peak_rss_mb(code: str, env: dict, stdin: str | None = None) -> float:
    """Peak RSS (VmHWM) of a fresh interpreter after running ``code``, read by the process itself.

    (``ru_maxrss`` of a child counts the parent's memory copied before ``exec``, so it would
    report the measuring process, not the measured one.)
    """
    out = subprocess.run([PYTHON, "-c", code + PEAK], input=stdin or "", capture_output=True, text=True, env=env,
                         check=True).stdout
    return int(out.strip().splitlines()[-1]) / 1024.0


def run(quick: bool) -> dict:
    if not shutil.which("tmux"):
        return {"skipped": "tmux is not installed"}
    bench = Bench()
    try:
        _say("nudge latency …")
        latency = bench.latency(12 if quick else 40)
        _say("throughput …")
        throughput = bench.throughput(20, 4, 25 if quick else 60)
        _say("start → ready …")
        start = bench.start_to_ready(4 if quick else 10)
        _say("memory …")
        memory = bench.memory(5 if quick else 10)
    finally:
        bench.close()
    return {"nudge_latency": latency, "throughput": throughput, "start_to_ready": start, "memory": memory,
            "rusage_self_maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
