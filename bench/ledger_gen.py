"""Deterministic synthetic ledgers shaped like real bd trackers (epics, children, blockers)."""

from __future__ import annotations

import random

from vermas.ledger import codec, ids, timefmt

_WORDS = (
    "refactor", "cache", "layer", "index", "parser", "worker", "queue", "merge", "branch", "test",
    "flaky", "retry", "timeout", "agent", "hook", "mail", "convoy", "rig", "polecat", "witness",
    "refinery", "deacon", "ledger", "export", "import", "schema", "migration", "lock", "crash",
    "resume", "verify", "judge", "spec", "criteria", "gate", "nudge", "tmux", "session",
)


def generate(n_issues: int, n_deps: int, *, prefix: str = "bench", seed: int = 7) -> list[dict]:
    """``n_issues`` issues with about ``n_deps`` dependencies, as canonical issue dicts."""
    rng = random.Random(seed)
    base_ns = 1_767_225_600_000_000_000  # 2026-01-01
    issues: list[dict] = []
    taken: set[str] = set()
    for i in range(n_issues):
        created_ns = base_ns + i * 37_000_000_000 + rng.randrange(1_000_000_000)
        title = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(3, 9))).capitalize()
        desc = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(20, 90)))
        issue_id = ids.generate(prefix, title, desc, "bench", created_ns, taken, len(taken))
        taken.add(issue_id)
        roll = rng.random()
        status = "closed" if roll < 0.55 else "open" if roll < 0.85 else "in_progress" if roll < 0.95 else "blocked"
        issue_type = rng.choice(("task", "task", "task", "bug", "feature", "chore", "epic"))
        created = timefmt.format_ns(created_ns, utc=True)
        issue: dict = {"id": issue_id, "title": title, "description": desc, "status": status,
                       "priority": rng.randint(0, 4), "issue_type": issue_type, "created_at": created,
                       "created_by": "bench", "updated_at": created}
        if status == "closed":
            issue["closed_at"] = created
            issue["close_reason"] = rng.choice(("Done", "Fixed", "failed: flaky", "Duplicate"))
        if rng.random() < 0.2:
            issue["assignee"] = rng.choice(("alice", "bob", "gt/polecats/nux"))
        if rng.random() < 0.1:
            issue["labels"] = sorted({rng.choice(_WORDS) for _ in range(2)})
        issues.append(issue)
    # Dependencies: 40% parent-child (to earlier epics), the rest blocks to earlier issues.
    epics = [i for i, x in enumerate(issues) if x["issue_type"] == "epic"] or [0]
    edges: dict[int, list[tuple[int, str]]] = {}
    made = 0
    seen: set[tuple[int, int]] = set()
    while made < n_deps:
        src = rng.randrange(1, n_issues)
        if rng.random() < 0.4:
            candidates = [e for e in epics if e < src]
            if not candidates:
                continue
            dst, kind = rng.choice(candidates[-50:]), "parent-child"
        else:
            dst, kind = rng.randrange(max(0, src - 500), src), "blocks"
        if (src, dst) in seen:
            continue
        seen.add((src, dst))
        edges.setdefault(src, []).append((dst, kind))
        made += 1
    for src, targets in edges.items():
        issue = issues[src]
        issue["dependencies"] = [
            {"issue_id": issue["id"], "depends_on_id": issues[dst]["id"], "type": kind,
             "created_at": issue["created_at"], "created_by": "bench"}
            for dst, kind in targets
        ]
    return [codec.canonical(x) for x in issues]


def write_jsonl(path: str, issues: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(codec.render(issues))
