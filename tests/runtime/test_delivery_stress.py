"""The delivery acceptance tests: many senders, many sessions, hostile text, swallowed Enter keys.

200 messages to 10 sim sessions from 4 concurrent processes: every message arrives exactly
once, intact (after the documented sanitising), in order per sender and session, and no
shell runs any of it (the messages would create files in a canary directory if executed).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

import pytest

from tests.runtime.helpers import events, prompts, sim_request, wait_for
from vermas.runtime.delivery import sanitize

WORKER = os.path.join(os.path.dirname(__file__), "deliver_worker.py")


def hostile_bodies(canary: str) -> list[str]:
    five_kb = ("lorem ipsum dolor sit amet $(touch " + canary + "/big) " * 90)[:5000] + " END-OF-5KB"
    return [
        f"quotes ' \" `touch {canary}/backtick` $(touch {canary}/subshell) ; touch {canary}/semicolon && true",
        f"multi\nline message\n$(touch {canary}/ml)\n; rm -rf {canary}\nlast line",
        five_kb,
        "unicode héllo wörld 漢字 🚀 Ωmega ‽ — “curly”",
        "Enter",
        "C-c",
        "-t looks-like-a-flag",
        "ends with a semicolon;",
        f"escape \x1b[31mred\x1b[0m bell\x07 tab\there {{braces}} #hash !bang > {canary}/redirect",
        f"backslash \\; \\n \\$(touch {canary}/bs) percent %s %% tilde ~ star *",
    ]


def run_workers(tmp_path, runtime_dir: str, batches: list[list[dict]], *, mode: str = "wait-idle",
                confirm_timeouts: list[float] | None = None, timeout: float = 300) -> dict:
    procs = []
    for i, batch in enumerate(batches):
        jobs = tmp_path / f"jobs-{i}.json"
        jobs.write_text(json.dumps({"runtime_dir": runtime_dir, "mode": mode, "confirm_timeouts": confirm_timeouts,
                                    "messages": batch}))
        out = tmp_path / f"results-{i}.json"
        procs.append((subprocess.Popen([sys.executable, WORKER, str(jobs), str(out)]), out))
    results = {}
    for proc, out in procs:
        assert proc.wait(timeout=timeout) == 0
        for item in json.loads(out.read_text()):
            results[item["id"]] = item
    return results


@pytest.mark.slow
def test_200_messages_10_sessions_4_processes(provider, runtime_dir, tmp_path):
    canary = str(tmp_path / "canary")
    sessions = [f"vm-stress-s{i}" for i in range(10)]
    for name in sessions:
        wd = tmp_path / name
        wd.mkdir()
        provider.start(sim_request(name, str(wd)))
    bodies = hostile_bodies(canary)
    batches: list[list[dict]] = [[] for _ in range(4)]
    expected: dict[str, list[str]] = {s: [] for s in sessions}
    for sender in range(4):
        for k in range(50):
            session = sessions[(k + sender) % 10]
            text = f"[{sender}:{k:02d}] " + bodies[(k + sender) % len(bodies)]
            batches[sender].append({"id": f"{sender}:{k}", "session": session, "text": text})
            expected[session].append(sanitize(text))
    results = run_workers(tmp_path, runtime_dir, batches)
    assert len(results) == 200
    failed = [r for r in results.values() if r["status"] != "delivered"]
    assert not failed, failed[:3]
    assert {r["method"] for r in results.values()} == {"keys", "paste"}
    for session in sessions:
        wait_for(lambda s=session: len(prompts(runtime_dir, s)) >= len(expected[s]), timeout=30,
                 message=f"all prompts recorded by {session}")
        received = prompts(runtime_dir, session)
        assert Counter(received) == Counter(expected[session]), session  # each exactly once, intact
        for sender in range(4):
            mine = [p for p in received if p.startswith(f"[{sender}:")]
            assert mine == sorted(mine), f"{session}: messages of sender {sender} out of order"
    assert not os.path.exists(canary), "a message was executed by a shell"
    assert all(provider.is_running(s) for s in sessions)


@pytest.mark.slow
def test_swallowed_enter_is_retried_until_the_message_lands(provider, runtime_dir, tmp_path):
    canary = str(tmp_path / "canary")
    sessions = ["vm-swallow-a", "vm-swallow-b"]
    for name in sessions:
        wd = tmp_path / name
        wd.mkdir()
        provider.start(sim_request(name, str(wd), faults="swallow-enter=1"))
    bodies = hostile_bodies(canary)
    batches = [[{"id": f"{s}:{k}", "session": sessions[(k + s) % 2], "text": f"[{s}:{k}] {bodies[k % len(bodies)]}"}
                for k in range(6)] for s in range(2)]
    results = run_workers(tmp_path, runtime_dir, batches)
    assert all(r["status"] == "delivered" and r["attempts"] == 2 for r in results.values()), results
    for session in sessions:
        sent = [sanitize(j["text"]) for batch in batches for j in batch if j["session"] == session]
        expected_count = len(sent)
        wait_for(lambda s=session, n=expected_count: len(prompts(runtime_dir, s)) >= n, message="prompts recorded")
        assert Counter(prompts(runtime_dir, session)) == Counter(sent)
        assert len(events(runtime_dir, session, "fault")) == len(sent)  # exactly one swallowed Enter each
    assert not os.path.exists(canary)


@pytest.mark.slow
def test_never_accepted_is_reported_failed_and_cleared(provider, runtime_dir, tmp_path):
    wd = tmp_path / "wd"
    wd.mkdir()
    provider.start(sim_request("vm-swallow-all", str(wd), faults="swallow-enter=always"))
    batch = [{"id": str(k), "session": "vm-swallow-all", "text": f"message {k} $(touch {tmp_path}/x)"}
             for k in range(3)]
    results = run_workers(tmp_path, runtime_dir, [batch], mode="immediate", confirm_timeouts=[0.3, 0.3, 0.3, 0.3])
    assert [results[str(k)]["status"] for k in range(3)] == ["failed"] * 3
    assert all(r["error"] == "DeliveryError" and r["cleared"] for r in results.values())
    assert "never accepted" in results["0"]["message"]
    assert prompts(runtime_dir, "vm-swallow-all") == []
    assert len(events(runtime_dir, "vm-swallow-all", "fault")) == 12  # 4 Enter presses per message
    last = provider.peek("vm-swallow-all", 5).split("\n")[-1]
    assert last.strip() == "❯"  # the half-typed text was cleared
    assert not os.path.exists(tmp_path / "x")


@pytest.mark.slow
def test_random_swallowing_lands_or_reports_every_message(provider, runtime_dir, tmp_path):
    wd = tmp_path / "wd"
    wd.mkdir()
    provider.start(sim_request("vm-swallow-rand", str(wd), faults="swallow-enter=p0.6"))
    batch = [{"id": str(k), "session": "vm-swallow-rand", "text": f"random {k}"} for k in range(10)]
    results = run_workers(tmp_path, runtime_dir, [batch], mode="immediate", confirm_timeouts=[0.3, 0.3, 0.3, 0.3])
    delivered = {f"random {k}" for k in range(10) if results[str(k)]["status"] == "delivered"}
    failed = {f"random {k}" for k in range(10) if results[str(k)]["status"] == "failed"}
    assert delivered | failed == {f"random {k}" for k in range(10)} and not delivered & failed
    assert any(r["attempts"] and r["attempts"] > 1 for r in results.values())  # retries happened
    if delivered:
        wait_for(lambda: len(prompts(runtime_dir, "vm-swallow-rand")) >= len(delivered), message="prompts")
    assert sorted(prompts(runtime_dir, "vm-swallow-rand")) == sorted(delivered)  # exactly the delivered ones
