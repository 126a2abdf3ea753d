"""Ledger administration: ``init``, ``stats``, ``export``, ``import``, ``doctor``."""

from __future__ import annotations

import os

from vermas.cli import context
from vermas.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment


def configure(parser: CommandParser, name: str) -> None:
    {"init": _configure_init, "stats": _configure_stats, "export": _configure_export,
     "import": _configure_import, "doctor": _configure_doctor}[name](parser)


# =================================================================== init
def _configure_init(p: CommandParser) -> None:
    p.description = ("Create a bd-compatible ledger (.beads/ with config.yaml, metadata.json, issues.jsonl, "
                     ".gitignore) in this directory, or adopt an existing .beads/issues.jsonl.")
    p.epilog = """examples:
  vermas init --prefix app        # ids look like app-x7k
  vermas init                     # prefix from config.yaml, existing ids, or the directory name
"""
    p.add_argument("--prefix", metavar="P", help="issue id prefix (a trailing '-' is dropped)")
    p.add_argument("--dir", metavar="PATH", help="create the ledger in PATH/.beads (default: the current directory)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    p.add_common(json=True)
    p.set_defaults(handler=run_init)


def run_init(env: Environment, args: Namespace) -> int:
    from vermas.ledger import routes
    from vermas.ledger.store import Ledger

    project = env.path(args.dir) if args.dir else env.cwd
    beads_dir = routes.resolve_redirect(os.path.join(project, routes.BEADS_DIR_NAME))
    prefix = args.prefix or _guess_prefix(beads_dir, project)
    if not prefix.rstrip("-") or not all(c.isalnum() or c in "-_." for c in prefix):
        raise UsageError(f"invalid prefix {prefix!r}: use letters, digits, '-', '_' or '.'",
                         hint="e.g. vermas init --prefix app")
    ledger = Ledger.init(beads_dir, prefix)
    count = len(ledger.conn.execute("SELECT id FROM issues").fetchall())
    prefix = ledger.prefix
    if args.json:
        env.print_json({"beads_dir": ledger.dir, "prefix": prefix, "issues": count})
    elif not args.quiet:
        env.write(f"✓ Ledger ready in {ledger.dir} (prefix: {prefix}, {count} issue{'s' if count != 1 else ''})")
        env.write(f'  next: vermas create "First issue" -p 1   → ids look like {prefix}-a3f')
    return 0


def _guess_prefix(beads_dir: str, project: str) -> str:
    """bd's order: config.yaml ``issue-prefix``, the first existing id, the directory name."""
    from vermas.ledger import config, ids

    configured = config.read(beads_dir).get("issue-prefix")
    if configured:
        return configured.rstrip("-")
    try:
        with open(os.path.join(beads_dir, "issues.jsonl"), encoding="utf-8") as fh:
            import json

            for line in fh:
                if line.strip():
                    found = ids.prefix_of(str(json.loads(line).get("id", "")))
                    if found:
                        return found
                    break
    except (OSError, ValueError):
        pass
    name = os.path.basename(os.path.abspath(project)).lower()
    cleaned = "".join(c if c.isalnum() else "-" for c in name).strip("-")
    return cleaned or "bd"


# ================================================================== stats
def _configure_stats(p: CommandParser) -> None:
    p.description = "Counts by status and type, plus ready / blocked totals."
    p.epilog = "example:\n  vermas stats --json\n"
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=run_stats)


def run_stats(env: Environment, args: Namespace) -> int:
    from vermas.ledger import queries

    ledger = context.ledger_for(env, args)
    data = queries.stats(ledger.conn)
    if args.json:
        env.print_json(data)
        return 0
    env.write(f"Ledger {ledger.dir} (prefix {ledger.prefix})")
    env.write(f"  {'total':<13}{data['total_issues']}")
    for key, label in (("open_issues", "open"), ("in_progress_issues", "in progress"), ("closed_issues", "closed"),
                       ("ready_issues", "ready"), ("blocked_issues", "blocked"), ("tombstone_issues", "deleted"),
                       ("dependencies", "dependencies")):
        env.write(f"  {label:<13}{data[key]}")
    if data["by_type"]:
        env.write(f"  {'by type':<13}" + ", ".join(f"{k} {v}" for k, v in sorted(data["by_type"].items())))
    return 0


# ================================================================= export
def _configure_export(p: CommandParser) -> None:
    p.description = ("Write the ledger as JSONL in bd's v0.43 format (sorted by id, wisps excluded, "
                     "tombstones included).")
    p.epilog = """examples:
  vermas export > backup.jsonl
  vermas export -o backup.jsonl
"""
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE atomically (default: stdout)")
    p.add_argument("--include-ephemeral", action="store_true", help="also export wisps (bd never does)")
    p.add_common(rig=True)
    p.set_defaults(handler=run_export)


def run_export(env: Environment, args: Namespace) -> int:
    from vermas.ledger import index, jsonlfile

    ledger = context.ledger_for(env, args)
    conn = ledger.conn
    lines = index.all_lines(conn, ephemeral=False)
    if args.include_ephemeral:
        lines = sorted(lines + index.all_lines(conn, ephemeral=True), key=_line_id)
    body = jsonlfile.render_lines(lines, index.foreign_lines(conn))
    if args.output:
        from vermas.fileops import atomic_write_bytes

        atomic_write_bytes(env.path(args.output), body)
        env.info(f"✓ Exported {len(lines)} issues to {env.path(args.output)}")
    else:
        env.stdout.write(body.decode("utf-8"))
    return 0


def _line_id(line: str) -> str:
    import json

    return str(json.loads(line)["id"])


# ================================================================= import
def _configure_import(p: CommandParser) -> None:
    p.description = ("Merge issues from a JSONL file (bd v0.43 lines, or later v1.x export lines read leniently): "
                     "new ids are created, an existing id is updated only when the incoming updated_at is newer, "
                     "tombstones are never resurrected. A malformed line aborts with file:line and changes nothing.")
    p.epilog = """examples:
  vermas import backup.jsonl
  vermas import other/.beads/issues.jsonl --dry-run --json
  cat issues.jsonl | vermas import -
"""
    p.add_argument("file", metavar="FILE", help="JSONL file to import ('-' for stdin)")
    p.add_argument("--dry-run", action="store_true", help="report what would change; change nothing")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=run_import)


def run_import(env: Environment, args: Namespace) -> int:
    from vermas.ledger import importer

    ledger = context.ledger_for(env, args)
    source = args.file
    if source == "-":
        incoming, lines, others = importer.read_text_lines(env.stdin.read(), "<stdin>")
    else:
        path = env.path(source)
        size = os.path.getsize(path) if os.path.isfile(path) else 0
        if size > 8 << 20:
            env.info(f"importing {path} ({size / 1e6:.0f} MB)…")
        incoming, lines, others = importer.read_file_lines(path)
        source = path
    plan = importer.run(ledger, incoming, env.actor(), dry_run=args.dry_run, source=source, lines=lines)
    plan.other_records = others
    summary = plan.summary()
    summary["dry_run"] = args.dry_run
    if args.json:
        env.print_json(summary)
        return 0
    verb = "Would import" if args.dry_run else "Imported"
    env.write(f"{verb} from {source}: {summary['created']} created, {summary['updated']} updated, "
              f"{summary['unchanged']} unchanged, {summary['skipped']} skipped")
    for entry in summary["skipped_ids"][:20]:
        env.write(f"  skipped {entry['id']}: {entry['reason']}")
    if len(summary["skipped_ids"]) > 20:
        env.write(f"  … {len(summary['skipped_ids']) - 20} more (see --json)")
    if others:
        env.write(f"  ignored {others} non-issue record(s)")
    return 0


# ================================================================= doctor
def _configure_doctor(p: CommandParser) -> None:
    p.description = ("Check the ledger: malformed lines, duplicate ids, order, dangling dependencies, cycles, "
                     "prefix mismatches, tombstone/close inconsistencies, the index, missing files. "
                     "--fix repairs only what is safe: malformed and duplicate lines are moved verbatim to "
                     "issues.jsonl.quarantine (never deleted), the file is re-sorted, missing timestamps and files "
                     "are filled in, a damaged index is rebuilt.")
    p.epilog = """examples:
  vermas doctor
  vermas doctor --fix
  vermas doctor --json     # exit 1 when errors remain
"""
    p.add_argument("--fix", action="store_true", help="repair what is safe (see above)")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=run_doctor)


def run_doctor(env: Environment, args: Namespace) -> int:
    from vermas.ledger import doctor

    beads_dir = context.beads_dir_for(env, args)
    town = context.find_town(env)
    if args.fix:
        report = doctor.fix(beads_dir, town_root=town)
    else:
        report, _scans = doctor.diagnose(beads_dir, town_root=town)
    if args.json:
        env.print_json(report.as_dict())
    else:
        for line in doctor.render_text(report):
            env.write(line)
    return 1 if report.errors else 0
