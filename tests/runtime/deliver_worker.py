"""A sender process for the delivery tests: nudges a list of messages in order and reports each outcome.

Usage: python deliver_worker.py <jobs.json> <results.json>
jobs = {"runtime_dir", "mode", "confirm_timeouts": [..] | null, "messages": [{"id", "session", "text"}]}
"""

from __future__ import annotations

import json
import sys


def main(jobs_path: str, results_path: str) -> int:
    from vermas.errors import VermasError
    from vermas.runtime.providers.tmux import TmuxProvider

    with open(jobs_path, encoding="utf-8") as fh:
        jobs = json.load(fh)
    timeouts = tuple(jobs["confirm_timeouts"]) if jobs.get("confirm_timeouts") else None
    provider = TmuxProvider(runtime_dir=jobs["runtime_dir"], confirm_timeouts=timeouts)
    results = []
    for job in jobs["messages"]:
        try:
            report = provider.nudge(job["session"], job["text"], mode=jobs["mode"])
            results.append({"id": job["id"], "status": report["status"], "attempts": report.get("attempts"),
                            "method": report.get("method")})
        except VermasError as exc:
            results.append({"id": job["id"], "status": "failed", "error": type(exc).__name__,
                            "message": exc.message, "cleared": getattr(exc, "cleared", None)})
    with open(results_path, "w", encoding="utf-8") as fh:
        json.dump(results, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
