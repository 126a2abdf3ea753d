"""Merge issues from a JSONL file into a ledger (``vermas import``), bd's rules.

* Lines are read leniently: bd v0.43 lines as they are; v1.x export lines lose the
  ``_type`` marker and the computed ``dependency_count`` / ``dependent_count`` /
  ``comment_count``; non-issue records (``"_type":"memory"``) are counted and skipped.
  A malformed line aborts the import with ``path:line: reason`` before anything changes.
* Per id: absent here → **created**; a tombstone here is never resurrected → **skipped**;
  the same content → **unchanged**; otherwise the newer ``updated_at`` wins → **updated**
  (an older or equally old incoming issue is **skipped**).
* Within the file, the last line for an id wins when the file repeats it.
"""

from __future__ import annotations

from vermas.errors import DataError
from vermas.ledger import codec, index, timefmt

COMPUTED_KEYS = ("_type", "dependency_count", "dependent_count", "comment_count")

TYPE_CHECKING = False
if TYPE_CHECKING:
    from vermas.ledger.store import Ledger


class ImportPlan:
    """What an import would do: issues to create/update and ids left alone, with reasons."""

    def __init__(self) -> None:
        self.created: list[dict] = []
        self.updated: list[dict] = []
        self.unchanged: list[str] = []
        self.skipped: list[tuple[str, str]] = []  # (id, reason)
        self.other_records = 0  # non-issue records in the file (v1 memories, …)

    @property
    def changes(self) -> list[dict]:
        return self.created + self.updated

    def summary(self) -> dict:
        return {
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "skipped": len(self.skipped),
            "other_records": self.other_records,
            "created_ids": [i["id"] for i in self.created],
            "updated_ids": [i["id"] for i in self.updated],
            "skipped_ids": [{"id": i, "reason": r} for i, r in self.skipped],
        }


def normalize(obj: dict) -> dict:
    """An incoming record as a v0.43 issue: later-format computed keys removed."""
    if "_type" in obj or "dependency_count" in obj or "dependent_count" in obj or "comment_count" in obj:
        return {k: v for k, v in obj.items() if k not in COMPUTED_KEYS}
    return obj


def read_file(path: str) -> tuple[list[dict], int]:
    """Issues of an import file (normalised) and how many non-issue records it had."""
    issues, _lines, others = read_file_lines(path)
    return issues, others


def read_file_lines(path: str) -> tuple[list[dict], dict[str, str], int]:
    """:func:`read_file` plus ``{id: raw line}`` for the lines that can be kept byte for byte.

    A line is kept verbatim (as a rebuild of the index keeps the lines of ``issues.jsonl``)
    when it needed no normalisation and its keys are already in bd's order; anything else is
    re-encoded canonically when written.
    """
    try:
        records, foreign = codec.read_records(path)
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    except FileNotFoundError:
        from vermas.errors import NotFoundError

        raise NotFoundError(f"no such file: {path}", hint="give the path of a JSONL file to import") from None
    except IsADirectoryError:
        raise DataError(f"{path} is a directory, not a JSONL file") from None
    return _split(records, len(foreign))


def read_text(text: str, label: str = "<stdin>") -> tuple[list[dict], int]:
    """:func:`read_file` for text already in memory (``vermas import -``)."""
    issues, _lines, others = read_text_lines(text, label)
    return issues, others


def read_text_lines(text: str, label: str = "<stdin>") -> tuple[list[dict], dict[str, str], int]:
    records, foreign = codec.parse_lines(text.split("\n"), label)
    return _split(records, len(foreign))


def _split(records: list[tuple[str, dict]], others: int) -> tuple[list[dict], dict[str, str], int]:
    issues: list[dict] = []
    verbatim: dict[str, str] = {}
    for line, obj in records:
        issue = normalize(obj)
        issues.append(issue)
        if issue is obj and codec.canonical(obj) is obj and line.startswith('{"id":"'):
            verbatim[obj["id"]] = line
        else:
            verbatim.pop(obj["id"], None)
    return issues, verbatim, others


def plan(ledger: Ledger, incoming: list[dict], lines: dict[str, str] | None = None) -> ImportPlan:
    """Decide, per incoming issue, whether it is created, updated, unchanged or skipped."""
    result = ImportPlan()
    latest: dict[str, dict] = {}
    for issue in incoming:
        latest[issue["id"]] = issue
    conn = ledger.conn
    ids = list(latest)
    existing = index.get_lines(conn, ids)
    statuses = index.statuses(conn, [i for i in ids if i in existing])
    raw = lines or {}
    for issue_id, issue in latest.items():
        line = existing.get(issue_id)
        if line is None:
            result.created.append(issue)
            continue
        if statuses.get(issue_id) == "tombstone" and (issue.get("status") or "open") != "tombstone":
            result.skipped.append((issue_id, "deleted here (tombstone); import never resurrects it"))
            continue
        if raw.get(issue_id) == line or codec.encode_issue(issue) == line:
            result.unchanged.append(issue_id)
            continue
        current = codec.decode_line(line, ledger.issues_path, 0)
        theirs = timefmt.parse_ns(issue.get("updated_at"))
        ours = timefmt.parse_ns(current.get("updated_at"))
        if theirs is not None and (ours is None or theirs > ours):
            result.updated.append(issue)
        else:
            result.skipped.append((issue_id, "not newer than the ledger's copy (updated_at)"))
    return result


def run(ledger: Ledger, incoming: list[dict], actor: str, *, dry_run: bool = False, source: str = "",
        lines: dict[str, str] | None = None) -> ImportPlan:
    """Plan and (unless ``dry_run``) apply an import atomically, under the ledger's write lock.

    ``lines`` (from :func:`read_file_lines`) lets incoming lines be stored byte for byte.
    """
    if dry_run:
        return plan(ledger, incoming, lines)
    import gc

    gc.disable()  # bulk work allocates many objects; the cyclic collector only slows it down
    try:
        with ledger.transaction(actor) as tx:
            the_plan = plan(ledger, incoming, lines)
            if the_plan.changes:
                tx.put_many(the_plan.changes, event=None, validated=True, lines=lines,
                            existing={i["id"] for i in the_plan.updated})
            tx.emit("ledger.imported", {
                "source": source,
                "created": len(the_plan.created),
                "updated": len(the_plan.updated),
                "unchanged": len(the_plan.unchanged),
                "skipped": len(the_plan.skipped),
                "bead_ids": [i["id"] for i in the_plan.changes],
            })
    finally:
        gc.enable()
    return the_plan
