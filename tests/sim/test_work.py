"""Hooked work: the sim finds its bead, runs the ```sim steps in its worktree, commits, runs done; and its faults."""

from __future__ import annotations

BEAD = {
    "id": "app-w0rk", "title": "Add greeting", "status": "hooked",
    "description": "Make a greeting module.\n\n```sim\n# write the module\n"
                   "printf 'def hello():\\n    return \"hi\"\\n' > greet.py\n"
                   "python3 -c 'import greet; assert greet.hello() == \"hi\"' \\\n"
                   "    && echo checked\n```\n",
    "notes": "```sim-wrong\nprintf 'def hello():\\n    return \"bye\"\\n' > greet.py\n```\n",
}


def test_gupp_at_startup_runs_steps_commits_and_runs_done(worktree):
    worktree.hook_bead(BEAD)
    r = worktree.run()
    assert r.returncode == 0, r.stdout + r.stderr
    assert "hi" in (worktree.path / "greet.py").read_text()
    assert worktree.commits()[0] == "app-w0rk: Add greeting" and not worktree.dirty()
    assert worktree.done_log.read_text() == f"done by app/polecats/nux in {worktree.path}\n"
    tools = worktree.events("tool")
    assert [t["command"].split(" ")[0] for t in tools] == ["printf", "python3", "git", "echo"]
    assert "checked" in tools[1]["output"]
    assert worktree.events("done")[0]["exit"] == 0
    assert "⏺ Finished app-w0rk." in r.stdout


def test_work_is_not_repeated_once_done_and_nothing_hooked_is_reported(worktree):
    worktree.hook_bead(BEAD)
    r = worktree.run(stdin="are you done?\n")
    assert "app-w0rk is already done" in r.stdout
    assert worktree.done_log.read_text().count("done by") == 1
    worktree.hook_bead(None)
    r = worktree.run(stdin="anything?\n")
    assert "Nothing on my hook" in r.stdout


def test_claim_done_runs_done_without_the_work(worktree):
    worktree.hook_bead(BEAD)
    r = worktree.run(faults="claim-done")
    assert r.returncode == 0
    assert not (worktree.path / "greet.py").exists() and worktree.commits() == ["base"]
    assert worktree.done_log.exists()
    assert {"kind": "claim-done"}.items() <= worktree.events("fault")[0].items()


def test_wrong_solution_runs_the_sim_wrong_block(worktree):
    worktree.hook_bead(BEAD)
    worktree.run(faults="wrong-solution")
    assert "bye" in (worktree.path / "greet.py").read_text()
    assert worktree.commits()[0] == "app-w0rk: Add greeting"


def test_wrong_solution_without_a_wrong_block_skips_the_last_step(worktree):
    worktree.hook_bead({**BEAD, "notes": ""})
    worktree.run(faults="wrong-solution")
    tools = [t["command"] for t in worktree.events("tool")]
    assert tools[0].startswith("printf") and not any(t.startswith("python3") for t in tools)


def test_crash_mid_work_exits_3_without_committing(worktree):
    worktree.hook_bead(BEAD)
    r = worktree.run(faults="crash")
    assert r.returncode == 3
    assert (worktree.path / "greet.py").exists() and worktree.commits() == ["base"] and worktree.dirty()
    assert not worktree.done_log.exists()
    assert worktree.events("fault")[-1]["kind"] == "crash"


def test_ignore_hook_does_nothing(worktree):
    worktree.hook_bead(BEAD)
    r = worktree.run(faults="ignore-hook", stdin="please work\n")
    assert r.returncode == 0 and "⏺ OK." in r.stdout
    assert worktree.events("tool") == [] and not worktree.done_log.exists()


def test_a_failing_step_stops_before_commit_and_done(worktree):
    worktree.hook_bead({"id": "app-f41l", "title": "fails", "description": "```sim\ntouch a\nfalse\ntouch b\n```"})
    r = worktree.run()
    assert "Step 2 failed (exit 1)" in r.stdout
    assert (worktree.path / "a").exists() and not (worktree.path / "b").exists()
    assert worktree.commits() == ["base"] and not worktree.done_log.exists()


def test_no_instructions_and_broken_hook_commands(worktree):
    worktree.hook_bead({"id": "app-n0pe", "title": "vague", "description": "just do it"})
    assert "has no ```sim instructions" in worktree.run().stdout
    r = worktree.run(hook_cmd="false")
    assert "Could not check my hook: hook command exited 1" in r.stdout
    r = worktree.run(hook_cmd="echo not-json")
    assert "printed no JSON" in r.stdout
    assert worktree.events("hook_error")


def test_done_command_failure_is_reported_not_claimed(worktree):
    worktree.hook_bead(BEAD)
    r = worktree.run(done_cmd="exit 4")
    assert "The done command failed for app-w0rk" in r.stdout
    assert worktree.events("done")[0]["exit"] == 4


def test_heredoc_steps_and_continuations(worktree):
    fizz = ("Implement FizzBuzz.\n\n```sim\n# the implementation\ncat > fizzbuzz.py <<'EOF'\n"
            "for i in range(1, 101):\n"
            "    print('FizzBuzz' if i % 15 == 0 else 'Fizz' if i % 3 == 0 else 'Buzz' if i % 5 == 0 else i)\n"
            "EOF\npython3 fizzbuzz.py | wc -l | grep -q 100 \\\n    && echo '100 lines'\n```\n")
    worktree.hook_bead({"id": "app-f1zz", "title": "FizzBuzz", "description": fizz})
    worktree.run()
    tools = worktree.events("tool")
    assert len(tools) == 4  # heredoc step, check step, commit, done
    assert tools[1]["output"].strip() == "100 lines"
    import subprocess

    lines = subprocess.run(["python3", "fizzbuzz.py"], cwd=worktree.path, capture_output=True, text=True).stdout
    assert lines.split("\n")[14] == "FizzBuzz" and worktree.commits()[0] == "app-f1zz: FizzBuzz"
