"""`vermas nudge` / `vermas peek` over real sessions, and the wait-idle claim-back path."""

from __future__ import annotations

from tests.conftest import run_vermas
from tests.runtime.helpers import prompts, sim_request, wait_for
from vermas.runtime import nudge_queue


def test_nudge_and_peek_by_address_and_session(cli, provider, runtime_dir, workdir):
    provider.start(sim_request("vm-app-nux", workdir, address="app/polecats/nux"))
    env = {"VERMAS_RUNTIME_DIR": runtime_dir, "BD_ACTOR": "mayor"}
    r = cli("nudge", "app/polecats/nux", "check your hook; $(echo nope)", "--json", env=env)
    assert r.exit_code == 0, r.stderr
    report = r.json()
    assert report["status"] == "delivered" and report["session"] == "vm-app-nux" and report["attempts"] == 1
    wait_for(lambda: prompts(runtime_dir, "vm-app-nux") == ["[from mayor] check your hook; $(echo nope)"],
             message="prompt")
    r = cli("nudge", "vm-app-nux", "-", "--mode", "immediate", "--from", "ops", stdin="from\nstdin", env=env)
    assert r.exit_code == 0 and r.stdout.startswith("delivered to vm-app-nux (paste")
    wait_for(lambda: prompts(runtime_dir, "vm-app-nux")[-1:] == ["[from ops] from\nstdin"], message="stdin prompt")
    r = cli("nudge", "app/nux", "later", "--mode", "queue", env=env)
    assert r.exit_code == 0 and r.stdout.startswith("queued for vm-app-nux (queue mode); 1 pending")
    r = cli("peek", "app/polecats/nux", "-n", "5", env=env)
    assert r.exit_code == 0 and len(r.stdout.strip().split("\n")) <= 5 and "❯" in r.stdout
    r = cli("peek", "vm-app-nux", "--json", env=env)
    data = r.json()
    assert data["alive"] is True and data["state"] in ("idle", "busy") and any("stdin" in x for x in data["lines"])


def test_nudge_errors_map_to_exit_codes(cli, runtime_dir):
    env = {"VERMAS_RUNTIME_DIR": runtime_dir}
    r = cli("nudge", "app/polecats/ghost", "hello", env=env)
    assert r.exit_code == 3 and "vm-app-ghost" in r.stderr and "hint:" in r.stderr
    r = cli("nudge", "nobody", "hello", env=env)
    assert r.exit_code == 2
    r = cli("nudge", "app/witness", "   ", env=env)
    assert r.exit_code == 2 and "empty message" in r.stderr
    r = cli("peek", "app/witness", env=env)
    assert r.exit_code == 3
    for _ in range(nudge_queue.MAX_PENDING):
        nudge_queue.enqueue(runtime_dir, "vm-app-witness", "x")
    r = cli("nudge", "app/witness", "one more", "--mode", "queue", env=env)
    assert r.exit_code == 5 and "full" in r.stderr


def test_real_script_nudges_a_session(provider, runtime_dir, workdir, tmp_path):
    provider.start(sim_request("vm-app-real", workdir))
    r = run_vermas("nudge", "vm-app-real", "from the console script", "--mode", "immediate", cwd=str(tmp_path),
                   env={"VERMAS_RUNTIME_DIR": runtime_dir})
    assert r.returncode == 0, r.stderr
    wait_for(lambda: prompts(runtime_dir, "vm-app-real") == ["from the console script"], message="prompt")


def test_busy_agent_without_hooks_gets_the_message_when_it_turns_idle(provider, runtime_dir, workdir):
    provider.start(sim_request("vm-app-claim", workdir))  # no settings: no hooks drain the queue
    provider.nudge("vm-app-claim", "/busy 1.5", mode="immediate")
    wait_for(lambda: provider.state("vm-app-claim")["state"] == "busy", message="busy")
    report = provider.nudge("vm-app-claim", "after the busy turn", wait=10)
    assert report["status"] == "delivered" and report["delivered_by"] == "typing (after queueing)"
    wait_for(lambda: prompts(runtime_dir, "vm-app-claim") == ["/busy 1.5", "after the busy turn"], message="prompts")
    assert nudge_queue.count(runtime_dir, "vm-app-claim") == 0


def test_flush_queue_types_queued_nudges_into_a_hookless_idle_agent(provider, runtime_dir, workdir):
    provider.start(sim_request("vm-app-flush", workdir))
    provider.nudge("vm-app-flush", "one", mode="queue", sender="witness")
    provider.nudge("vm-app-flush", "two", mode="queue")
    wait_for(lambda: provider.is_idle("vm-app-flush"), message="idle")
    assert provider.flush_queue("vm-app-flush") == 2
    (received,) = wait_for(lambda: prompts(runtime_dir, "vm-app-flush"), message="flushed prompt")
    assert received.startswith("<system-reminder>") and "from witness" in received and "two" in received
    assert provider.flush_queue("vm-app-flush") == 0


def test_delivery_leaves_copy_mode_first(provider, runtime_dir, workdir):
    provider.start(sim_request("vm-app-copy", workdir))
    pane = provider._pane("vm-app-copy")
    provider.server.cmd("copy-mode", "-t", pane.target)
    assert pane.in_mode()
    assert provider.nudge("vm-app-copy", "typed after copy mode", mode="immediate")["status"] == "delivered"
    wait_for(lambda: prompts(runtime_dir, "vm-app-copy") == ["typed after copy mode"], message="prompt")
