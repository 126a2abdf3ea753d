"""The nudge queue: Gas Town's file format, TTLs, limits, and exactly-once draining under concurrency."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from vermas.runtime import nudge_queue as q
from vermas.runtime.errors import QueueFullError


def test_enqueue_writes_gas_towns_format(runtime_dir):
    path = q.enqueue(runtime_dir, "vm-app-nux", "hello", sender="mayor", priority="urgent", kind="nudge")
    name = os.path.basename(path)
    nanos, _, rest = name.partition("-")
    assert nanos.isdigit() and len(rest) == len("0123abcd.json")
    with open(path) as fh:
        data = json.load(fh)
    assert set(data) == {"sender", "message", "priority", "kind", "thread_id", "severity", "timestamp",
                         "expires_at", "deliver_after"}
    assert data["sender"] == "mayor" and data["priority"] == "urgent" and data["deliver_after"] == ""
    assert data["timestamp"].endswith("Z") and data["expires_at"] > data["timestamp"]


def test_drain_is_ordered_urgent_first_and_exactly_once(runtime_dir):
    for i in range(3):
        q.enqueue(runtime_dir, "s", f"normal {i}")
    q.enqueue(runtime_dir, "s", "urgent", priority="urgent")
    items = q.drain(runtime_dir, "s")
    assert [i["message"] for i in items] == ["urgent", "normal 0", "normal 1", "normal 2"]
    assert q.drain(runtime_dir, "s") == []  # claimed: nobody else gets them
    q.ack(items)
    assert sorted(os.listdir(os.path.join(runtime_dir, "nudge_queue", "s"))) == [".lock"]
    text = q.format_reminder(items)
    assert text.startswith("<system-reminder>") and text.endswith("</system-reminder>")
    assert "[1] [URGENT] from unknown sender" in text and "normal 2" in text


def test_release_returns_claims_and_stale_claims_are_reclaimed(runtime_dir):
    q.enqueue(runtime_dir, "s", "one")
    items = q.drain(runtime_dir, "s")
    q.release(items)
    assert [i["message"] for i in q.pending(runtime_dir, "s")] == ["one"]
    items = q.drain(runtime_dir, "s")
    old = time.time() - q.CLAIM_STALE_SECONDS - 10
    os.utime(items[0]["_claim"], (old, old))
    assert [i["message"] for i in q.drain(runtime_dir, "s")] == ["one"]  # its drainer died: delivered again


def test_expired_and_future_nudges(runtime_dir):
    q.enqueue(runtime_dir, "s", "expired", ttl=-1)
    q.enqueue(runtime_dir, "s", "later", deliver_after=time.time() + 3600)
    q.enqueue(runtime_dir, "s", "now")
    assert [i["message"] for i in q.drain(runtime_dir, "s")] == ["now"]
    assert [i["message"] for i in q.pending(runtime_dir, "s")] == ["later"]


def test_gas_town_written_files_with_nanosecond_times_are_read(runtime_dir):
    directory = os.path.join(runtime_dir, "nudge_queue", "s")
    os.makedirs(directory)
    entry = {"sender": "gastown/witness", "message": "from gt", "priority": "normal", "kind": "", "thread_id": "",
             "severity": "", "timestamp": "2026-11-20T10:00:00.123456789Z",
             "expires_at": "2099-01-01T00:00:00.987654321+00:00", "deliver_after": "0001-01-01T00:00:00Z"}
    with open(os.path.join(directory, "1700000000000000000-deadbeef.json"), "w") as fh:
        json.dump(entry, fh)
    with open(os.path.join(directory, "1700000000000000001-bad00bad.json"), "w") as fh:
        fh.write("{torn")
    assert [i["message"] for i in q.drain(runtime_dir, "s")] == ["from gt"]
    assert os.path.exists(os.path.join(directory, "1700000000000000001-bad00bad.json.bad"))


def test_queue_limit(runtime_dir):
    for i in range(q.MAX_PENDING):
        q.enqueue(runtime_dir, "s", f"m{i}")
    with pytest.raises(QueueFullError) as err:
        q.enqueue(runtime_dir, "s", "one too many")
    assert err.value.exit_code == 5 and "50 pending" in err.value.message
    from vermas.errors import UsageError

    with pytest.raises(UsageError):
        q.enqueue(runtime_dir, "s2", "x", priority="high")


DRAINER = """
import json, os, sys
from vermas.runtime import nudge_queue as q
got = []
while True:
    stop = os.path.exists(sys.argv[2])
    items = q.drain(sys.argv[1], "s")
    got += [i["message"] for i in items]
    q.ack(items)
    if stop:
        break
print(json.dumps(got))
"""

ENQUEUER = """
import sys
from vermas.runtime import nudge_queue as q
for i in range(15):
    q.enqueue(sys.argv[1], "s", f"{sys.argv[2]}-{i}")
"""


def test_concurrent_enqueuers_and_drainers_deliver_each_nudge_exactly_once(runtime_dir, tmp_path):
    stop = str(tmp_path / "stop")
    drainers = [subprocess.Popen([sys.executable, "-c", DRAINER, runtime_dir, stop], stdout=subprocess.PIPE, text=True)
                for _ in range(3)]
    writers = [subprocess.Popen([sys.executable, "-c", ENQUEUER, runtime_dir, f"w{n}"]) for n in range(3)]
    for w in writers:
        assert w.wait(timeout=60) == 0
    open(stop, "w").close()
    received = []
    for d in drainers:
        out, _ = d.communicate(timeout=60)
        received += json.loads(out)
    leftovers = q.drain(runtime_dir, "s")
    received += [i["message"] for i in leftovers]
    assert sorted(received) == sorted(f"w{n}-{i}" for n in range(3) for i in range(15))
    assert len(received) == len(set(received))
