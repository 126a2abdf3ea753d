"""``vermas doctor``: find what is wrong with a ledger; repair only what is safe.

Reads ``issues.jsonl`` (and ``wisps.jsonl``) line by line itself, so it works on files the
normal commands refuse. Checks:

==================  ========  =====================================================  ==========
check               severity  finding                                                --fix
==================  ========  =====================================================  ==========
malformed-lines     error     a line that is not a JSON issue object                 quarantined
duplicate-ids       error     the same id on several lines                           newest kept,
                                                                                     others quarantined
unsorted            warning   lines not in id order / no final newline / CRLF        rewritten
dangling-deps       warning   a dependency on an id that is nowhere (not here, not   —
                              a wisp, not ``external:``, not routed to another rig)
cycles              error     a cycle of blocks/parent-child/conditional/waits-for   —
prefix-mismatch     warning   ids not starting with ``<issue-prefix>-``              —
tombstones          error /   tombstone without ``deleted_at`` (fixed from           partly
                    warning   ``updated_at``); closed without ``closed_at`` (fixed);
                              ``deleted_at`` on a live issue, ``closed_at`` on an
                              open one, tombstone without ``deleted_by`` (reported)
index               warning   the SQLite index is unreadable or fails quick_check    rebuilt
files               warning   missing metadata.json / .gitignore / issue-prefix,     created /
                              stray temp files from killed writers                   removed
==================  ========  =====================================================  ==========

Nothing is ever deleted: quarantined lines are appended verbatim to
``issues.jsonl.quarantine`` (``wisps.jsonl.quarantine``) next to the file, under a comment
naming their origin, before the file is rewritten.
"""

from __future__ import annotations

import json
import os

from vermas.fileops import FileLock, atomic_write_bytes, atomic_write_text
from vermas.ledger import codec, config, graph, routes, timefmt

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

QUARANTINE_SUFFIX = ".quarantine"
_TEMP_MARK = ".tmp."


class Finding:
    """One problem: which check, how bad, what, and whether ``--fix`` can repair it."""

    def __init__(self, check: str, severity: str, message: str, *, items: list | None = None,
                 fixable: bool = False) -> None:
        self.check = check
        self.severity = severity  # "error" | "warning"
        self.message = message
        self.items = items or []
        self.fixable = fixable
        self.fixed = False

    def as_dict(self) -> dict:
        return {"check": self.check, "severity": self.severity, "message": self.message,
                "fixable": self.fixable, "fixed": self.fixed, "items": self.items[:200],
                "count": len(self.items)}


class ScannedLine:
    __slots__ = ("lineno", "obj", "raw")

    def __init__(self, lineno: int, raw: str, obj: dict | None) -> None:
        self.lineno = lineno
        self.raw = raw
        self.obj = obj


class Scan:
    """A JSONL file read line by line: good issue lines, bad lines with reasons, shape flags."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.exists = os.path.exists(path)
        self.good: list[ScannedLine] = []
        self.bad: list[tuple[ScannedLine, str]] = []
        self.foreign: list[ScannedLine] = []
        self.crlf = False
        self.final_newline = True
        if self.exists:
            self._read()

    def _read(self) -> None:
        with open(self.path, "rb") as fh:
            data = fh.read()
        if data and not data.endswith(b"\n"):
            self.final_newline = False
        for lineno, raw_bytes in enumerate(data.split(b"\n"), 1):
            if raw_bytes.endswith(b"\r"):
                self.crlf = True
                raw_bytes = raw_bytes[:-1]
            if not raw_bytes.strip():
                continue
            try:
                raw = raw_bytes.decode("utf-8")
            except UnicodeDecodeError as exc:
                line = ScannedLine(lineno, raw_bytes.decode("utf-8", "replace"), None)
                self.bad.append((line, f"not valid UTF-8 ({exc.reason} at byte {exc.start})"))
                continue
            line = ScannedLine(lineno, raw, None)
            try:
                obj = codec.decode_line(raw, self.path, lineno)
                if not codec.is_issue_record(obj):
                    line.obj = obj
                    self.foreign.append(line)
                    continue
                codec.validate_record(obj, self.path, lineno)
            except Exception as exc:  # DataError carries "path:line: reason"
                message = getattr(exc, "message", str(exc))
                self.bad.append((line, message.split(": ", 1)[1] if message.startswith(self.path) else message))
                continue
            line.obj = obj
            self.good.append(line)

    def by_id(self) -> dict[str, list[ScannedLine]]:
        out: dict[str, list[ScannedLine]] = {}
        for line in self.good:
            assert line.obj is not None
            out.setdefault(line.obj["id"], []).append(line)
        return out


class Report:
    def __init__(self, beads_dir: str) -> None:
        self.beads_dir = beads_dir
        self.findings: list[Finding] = []
        self.actions: list[str] = []

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error" and not f.fixed)

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == "warning" and not f.fixed)

    def as_dict(self) -> dict:
        return {"beads_dir": self.beads_dir, "ok": self.errors == 0, "errors": self.errors,
                "warnings": self.warnings, "findings": [f.as_dict() for f in self.findings],
                "fixed": self.actions}


# ------------------------------------------------------------------ checks
def diagnose(beads_dir: str, *, town_root: str | None = None) -> tuple[Report, dict[str, Scan]]:
    """Run every check; returns the report and the scans (reused by :func:`fix`)."""
    from vermas.ledger.store import ISSUES_FILE, WISPS_FILE

    report = Report(beads_dir)
    scans = {name: Scan(os.path.join(beads_dir, name)) for name in (ISSUES_FILE, WISPS_FILE)}
    for name, scan in scans.items():
        _check_lines(report, name, scan)
    issues = _latest(scans[ISSUES_FILE]) | _latest(scans[WISPS_FILE])
    _check_dangling(report, beads_dir, town_root, issues)
    _check_cycles(report, issues)
    _check_prefix(report, beads_dir, _latest(scans[ISSUES_FILE]))
    _check_tombstones(report, issues)
    _check_index(report, beads_dir)
    _check_files(report, beads_dir)
    return report, scans


def _latest(scan: Scan) -> dict[str, dict]:
    """One issue per id (the newest updated_at among duplicates)."""
    out: dict[str, dict] = {}
    for issue_id, lines in scan.by_id().items():
        out[issue_id] = _newest(lines).obj  # type: ignore[assignment]
    return out


def _newest(lines: list[ScannedLine]) -> ScannedLine:
    def key(line: ScannedLine) -> tuple[int, int]:
        assert line.obj is not None
        return (timefmt.parse_ns(line.obj.get("updated_at")) or 0, line.lineno)

    return max(lines, key=key)


def _check_lines(report: Report, name: str, scan: Scan) -> None:
    if not scan.exists:
        return
    if scan.bad:
        report.add(Finding("malformed-lines", "error",
                           f"{len(scan.bad)} malformed line(s) in {name}",
                           items=[f"{scan.path}:{line.lineno}: {reason}" for line, reason in scan.bad],
                           fixable=True))
    dups = {i: ls for i, ls in scan.by_id().items() if len(ls) > 1}
    if dups:
        report.add(Finding("duplicate-ids", "error", f"{len(dups)} id(s) appear on several lines of {name}",
                           items=[f"{i}: lines {', '.join(str(x.lineno) for x in ls)}"
                                  for i, ls in sorted(dups.items())],
                           fixable=True))
    ids = [line.obj["id"] for line in scan.good if line.obj is not None]
    shape = []
    if any(ids[k] >= ids[k + 1] for k in range(len(ids) - 1)) and not dups:
        shape.append("lines are not sorted by id")
    if scan.foreign and name == "issues.jsonl":
        shape.append(f"{len(scan.foreign)} non-issue record(s) mixed in (kept at the end)")
    if not scan.final_newline:
        shape.append("no newline at the end of the file")
    if scan.crlf:
        shape.append("CRLF line endings")
    if shape:
        report.add(Finding("unsorted", "warning", f"{name}: " + "; ".join(shape), items=shape, fixable=True))


def _check_dangling(report: Report, beads_dir: str, town_root: str | None, issues: dict[str, dict]) -> None:
    dangling: list[str] = []
    for issue_id, issue in sorted(issues.items()):
        if issue.get("status") == "tombstone":
            continue
        for dep in issue.get("dependencies") or ():
            if not isinstance(dep, dict):
                continue
            target = str(dep.get("depends_on_id") or "")
            if not target or target in issues or target.startswith("external:"):
                continue
            routed = routes.beads_dir_for_id(target, beads_dir, town_root)
            if routed is not None and os.path.abspath(routed) != os.path.abspath(beads_dir):
                continue
            dangling.append(f"{issue_id} → {target} ({dep.get('type') or 'blocks'})")
    if dangling:
        report.add(Finding("dangling-deps", "warning",
                           f"{len(dangling)} dependenc{'y points' if len(dangling) == 1 else 'ies point'} "
                           "at ids that exist nowhere (kept: they may be deleted wisps or another clone's issues)",
                           items=dangling))


def _check_cycles(report: Report, issues: dict[str, dict]) -> None:
    from vermas.ledger import schema

    adjacency: dict[str, list[str]] = {}
    for issue_id, issue in issues.items():
        for dep in issue.get("dependencies") or ():
            if isinstance(dep, dict) and (dep.get("type") or "blocks") in schema.AFFECTS_READY:
                adjacency.setdefault(issue_id, []).append(str(dep.get("depends_on_id")))
    for targets in adjacency.values():
        targets.sort()
    cycles = [graph.cycle_in(adjacency, comp) for comp in graph.strongly_connected(adjacency)]
    if cycles:
        report.add(Finding("cycles", "error",
                           f"{len(cycles)} dependency cycle(s): the issues in them can never become ready",
                           items=[" → ".join(c) for c in cycles]))


def _check_prefix(report: Report, beads_dir: str, issues: dict[str, dict]) -> None:
    prefix = (config.read(beads_dir).get("issue-prefix") or "").strip().rstrip("-")
    if not prefix:
        return
    wrong = sorted(i for i in issues if not i.startswith(prefix + "-"))
    if wrong:
        report.add(Finding("prefix-mismatch", "warning",
                           f"{len(wrong)} id(s) do not start with the configured prefix '{prefix}-'",
                           items=wrong))


def _check_tombstones(report: Report, issues: dict[str, dict]) -> None:
    fixable: list[str] = []
    errors: list[str] = []
    warnings: list[str] = []
    for issue_id, issue in sorted(issues.items()):
        status = issue.get("status") or "open"
        if status == "tombstone":
            if not issue.get("deleted_at"):
                fixable.append(f"{issue_id}: tombstone without deleted_at")
            if not issue.get("deleted_by"):
                warnings.append(f"{issue_id}: tombstone without deleted_by")
        elif issue.get("deleted_at"):
            warnings.append(f"{issue_id}: status {status} but deleted_at is set")
        if status == "closed" and not issue.get("closed_at"):
            fixable.append(f"{issue_id}: closed without closed_at")
        elif status not in ("closed", "tombstone") and issue.get("closed_at"):
            errors.append(f"{issue_id}: status {status} but closed_at is set")
    if fixable:
        report.add(Finding("tombstones", "error", f"{len(fixable)} missing deletion/close timestamp(s)",
                           items=fixable, fixable=True))
    if errors:
        report.add(Finding("tombstones", "warning", f"{len(errors)} open issue(s) carrying closed_at",
                           items=errors))
    if warnings:
        report.add(Finding("tombstones", "warning",
                           f"{len(warnings)} tombstone inconsistenc{'y' if len(warnings) == 1 else 'ies'} "
                           "(common in real bd data; reported, not changed)",
                           items=warnings))


def _check_index(report: Report, beads_dir: str) -> None:
    import sqlite3

    from vermas.ledger import index

    path = os.path.join(beads_dir, index.INDEX_FILE)
    if not os.path.exists(path):
        return
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            ok = conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        finally:
            conn.close()
    except sqlite3.Error as exc:
        ok = False
        detail = str(exc)
    else:
        detail = "quick_check failed"
    if not ok:
        report.add(Finding("index", "warning", f"the index {path} is damaged ({detail}); it is only a cache",
                           items=[path], fixable=True))


def _check_files(report: Report, beads_dir: str) -> None:
    from vermas.ledger.store import METADATA_FILE

    missing = [name for name in (METADATA_FILE, ".gitignore") if not os.path.exists(os.path.join(beads_dir, name))]
    if missing:
        report.add(Finding("files", "warning", f"missing {', '.join(missing)}", items=missing, fixable=True))
    if not config.read(beads_dir).get("issue-prefix"):
        report.add(Finding("files", "warning", "config.yaml sets no issue-prefix (new ids use a guessed prefix)",
                           items=["issue-prefix"]))
    strays = sorted(n for n in os.listdir(beads_dir) if _is_dead_temp(beads_dir, n))
    if strays:
        report.add(Finding("files", "warning", f"{len(strays)} temp file(s) left by interrupted writes",
                           items=strays, fixable=True))


def _is_dead_temp(beads_dir: str, name: str) -> bool:
    """A temp file of an interrupted write: ours (written under the ledger lock) or over an hour old."""
    import time

    if not (name.startswith(".") and _TEMP_MARK in name):
        return False
    if name.startswith((".issues.jsonl.tmp.", ".wisps.jsonl.tmp.")):
        return True
    try:
        return time.time() - os.path.getmtime(os.path.join(beads_dir, name)) > 3600
    except OSError:
        return False


# -------------------------------------------------------------------- fix
def fix(beads_dir: str, *, town_root: str | None = None) -> Report:
    """Diagnose, then repair what is safe, under the ledger's write lock; re-diagnose."""
    from vermas.ledger.store import ISSUES_FILE, LOCK_FILE, WISPS_FILE

    actions: list[str] = []
    with FileLock(os.path.join(beads_dir, LOCK_FILE)):
        report, scans = diagnose(beads_dir, town_root=town_root)
        for name in (ISSUES_FILE, WISPS_FILE):
            actions += _repair_file(scans[name], rewrite=_needs_rewrite(scans[name]))
        actions += _repair_files(beads_dir, report)
    final, _ = diagnose(beads_dir, town_root=town_root)  # what is left after the repairs
    final.actions = actions
    remaining = {(f.check, f.message) for f in final.findings}
    for finding in report.findings:  # fixable findings that are gone are reported as fixed
        if finding.fixable and (finding.check, finding.message) not in remaining:
            finding.fixed = True
            final.findings.append(finding)
    return final


def _needs_rewrite(scan: Scan) -> bool:
    if not scan.exists:
        return False
    if scan.bad or not scan.final_newline or scan.crlf:
        return True
    if any(len(v) > 1 for v in scan.by_id().values()):
        return True
    ids = [line.obj["id"] for line in scan.good if line.obj is not None]
    if any(ids[k] >= ids[k + 1] for k in range(len(ids) - 1)):
        return True
    return any(_timestamp_fixes(line.obj) for line in scan.good if line.obj is not None)


def _timestamp_fixes(issue: dict) -> dict:
    """Safe invariant repairs: timestamps that must exist, copied from ``updated_at``."""
    changes: dict = {}
    status = issue.get("status") or "open"
    stamp = issue.get("updated_at") or issue.get("created_at")
    if not stamp:
        return changes
    if status == "tombstone" and not issue.get("deleted_at"):
        changes["deleted_at"] = stamp
    if status == "closed" and not issue.get("closed_at"):
        changes["closed_at"] = stamp
    return changes


def _repair_file(scan: Scan, *, rewrite: bool) -> list[str]:
    if not rewrite:
        return []
    actions: list[str] = []
    quarantined: list[tuple[int, str, str]] = [(line.lineno, line.raw, reason) for line, reason in scan.bad]
    keep: dict[str, str] = {}
    for issue_id, lines in scan.by_id().items():
        winner = _newest(lines)
        for line in lines:
            if line is not winner:
                quarantined.append((line.lineno, line.raw, f"duplicate of {issue_id} (older updated_at)"))
        obj = winner.obj
        assert obj is not None
        changes = _timestamp_fixes(obj)
        if changes:
            obj = codec.canonical({**obj, **changes})
            keep[issue_id] = codec.encode(obj)
            actions.append(f"{issue_id}: set {', '.join(sorted(changes))} from updated_at")
        else:
            keep[issue_id] = winner.raw
    if quarantined:
        side = scan.path + QUARANTINE_SUFFIX
        quarantined.sort()
        header = (f"# vermas doctor --fix {timefmt.now_str()}: {len(quarantined)} line(s) moved out of "
                  f"{os.path.basename(scan.path)} (line numbers: {', '.join(str(q[0]) for q in quarantined)})\n")
        body = "".join(f"# line {n}: {reason}\n{raw}\n" for n, raw, reason in quarantined)
        with open(side, "a", encoding="utf-8") as fh:  # the side file is written before the rewrite
            fh.write(header + body)
            fh.flush()
            os.fsync(fh.fileno())
        actions.append(f"moved {len(quarantined)} line(s) of {os.path.basename(scan.path)} to {side}")
    lines = [keep[i] for i in sorted(keep)] + [line.raw for line in scan.foreign]
    atomic_write_bytes(scan.path, "".join(line + "\n" for line in lines).encode("utf-8"))
    actions.append(f"rewrote {scan.path} ({len(keep)} issues, sorted by id)")
    return actions


def _repair_files(beads_dir: str, report: Report) -> list[str]:
    from vermas.ledger import index
    from vermas.ledger.store import GITIGNORE, METADATA_FILE

    actions: list[str] = []
    for finding in report.findings:
        if finding.check == "files" and finding.fixable:
            for item in finding.items:
                path = os.path.join(beads_dir, item)
                if item == METADATA_FILE:
                    atomic_write_text(path, '{\n  "database": "beads.db",\n  "jsonl_export": "issues.jsonl"\n}\n')
                    actions.append(f"created {path}")
                elif item == ".gitignore":
                    atomic_write_text(path, GITIGNORE)
                    actions.append(f"created {path}")
                elif _TEMP_MARK in item and os.path.exists(path):
                    os.unlink(path)  # a dead writer's temp file: never the truth (the rename is the commit)
                    actions.append(f"removed stray temp file {path}")
        if finding.check == "index" and finding.fixable:
            for suffix in ("", "-wal", "-shm"):
                try:
                    os.unlink(os.path.join(beads_dir, index.INDEX_FILE + suffix))
                except FileNotFoundError:
                    pass
            actions.append("deleted the damaged index (it is rebuilt on the next command)")
    return actions


def render_text(report: Report) -> Iterable[str]:
    """Human-readable lines for a report."""
    if not report.findings:
        yield f"✓ {report.beads_dir}: no problems found"
        return
    for finding in report.findings:
        mark = "✓ fixed" if finding.fixed else ("✗" if finding.severity == "error" else "!")
        yield f"{mark} [{finding.check}] {finding.message}"
        for item in finding.items[:20]:
            yield f"    {item}"
        if len(finding.items) > 20:
            yield f"    … and {len(finding.items) - 20} more (--json lists up to 200)"
    for action in report.actions:
        yield f"  fixed: {action}"
    yield f"{report.errors} error(s), {report.warnings} warning(s)"


def dumps(report: Report) -> str:
    return json.dumps(report.as_dict(), indent=2, ensure_ascii=False)
