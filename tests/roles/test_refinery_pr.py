"""PR mode: push the rebased branch, open a pull request through the configured command, track it."""

from __future__ import annotations

import json
import os
import stat

import pytest

from tests.roles.conftest import git

FAKE_GH = """#!/bin/sh
# a gh-like command: records its argv (one JSON list per line) and prints a PR URL
python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@" >> "$FAKE_GH_LOG"
n=$(wc -l < "$FAKE_GH_LOG")
echo "Creating pull request for the branch"
echo "https://github.example/acme/app/pull/$n"
"""


@pytest.fixture
def fake_gh(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    gh = bindir / "gh"
    gh.write_text(FAKE_GH)
    gh.chmod(gh.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "gh.log"
    environ = dict(os.environ)
    environ["PATH"] = f"{bindir}{os.pathsep}{environ['PATH']}"
    environ["FAKE_GH_LOG"] = str(log)
    return environ, log


def _calls(log) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.mark.parametrize("upstream_merge", ["ff", "squash"])
def test_pr_mode_opens_a_pull_request_and_finishes_when_it_lands(kit, fake_gh, upstream_merge):
    environ, log = fake_gh
    kit.set("merge.mode", "pr")
    kit.set("gates.test", "./check.sh")
    kit.set("merge.pr_command", "gh pr create --head {branch} --base {target} --title {title}")
    before = kit.main()
    cat, source, mr = kit.work("nux", {"feature.py": "X = 1\n", "more.py": "Y = 2\n"},
                               "Feature $(touch pwned); echo 'quoted'", title="Feature $(touch pwned); echo 'x'")
    cat.commit({"more.py": "Y = 3\n"}, "second commit")
    mr = kit.submit(cat, source)

    summary = kit.run_once(environ=environ)

    assert summary["merged"] == [] and summary["rework"] == []
    [call] = _calls(log)
    title = "Feature $(touch pwned); echo 'x'"
    assert call == ["pr", "create", "--head", cat.branch, "--base", "main", "--title", title]
    assert not os.path.exists(os.path.join(kit.paths.refinery_worktree, "pwned"))
    bead = kit.bead(mr)
    assert bead["status"] == "open" and "mq:pr-open" in bead["labels"]
    assert "pr_url: https://github.example/acme/app/pull/1" in bead["description"]
    assert kit.main() == before  # the target is not moved by the refinery in PR mode
    pushed = git("rev-parse", f"refs/heads/{cat.branch}", cwd=kit.source)
    assert git("merge-base", "--is-ancestor", before, pushed, cwd=kit.source) == ""

    # Nothing landed yet: another run waits and opens no second PR.
    kit.run_once(environ=environ)
    assert len(_calls(log)) == 1 and kit.bead(mr)["status"] == "open"

    # "GitHub" merges the pull request.
    if upstream_merge == "ff":
        git("merge", "--quiet", "--ff-only", cat.branch, cwd=kit.source)
    else:
        git("merge", "--quiet", "--squash", cat.branch, cwd=kit.source)
        git("commit", "--quiet", "-m", "Feature (#1)", cwd=kit.source)
    summary = kit.run_once(environ=environ)

    assert summary["merged"] == [mr]
    assert kit.bead(mr)["close_reason"] == "merged" and kit.bead(source)["status"] == "closed"
    assert kit.main() == git("rev-parse", "main", cwd=kit.source)
    assert kit.show("more.py") == "Y = 3"
    assert kit.recipients("MERGED nux") == sorted(["app/nux", "app/witness", "mayor/"])
    assert not kit.branch_exists(cat.branch)


def test_pr_command_failure_parks_the_request(kit, fake_gh):
    environ, _log = fake_gh
    kit.set("merge.mode", "pr")
    kit.set("merge.pr_command", "gh-does-not-exist pr create")
    _cat, _source, mr = kit.work("nux", {"a.py": "A = 1\n"}, "a")

    summary = kit.run_once(environ=environ)

    assert summary["parked"] == [mr]
    assert "PR command not found: gh-does-not-exist" in kit.bead(mr)["description"]
