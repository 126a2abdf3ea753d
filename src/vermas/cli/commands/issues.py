"""Issue commands: create, show, list, update, close, reopen, delete, ready, blocked.

Flags and ``--json`` shapes follow bd v0.43 (``list``/``ready`` → IssueWithCounts, ``show`` →
an array of IssueDetails, ``blocked`` → BlockedIssue). Ids whose prefix routes to another
rig (``routes.jsonl``) are served by that rig's ledger.
"""

from __future__ import annotations

from vermas.cli import context
from vermas.cli import ledgerfmt as fmt
from vermas.cli.args import non_negative_int
from vermas.errors import NotFoundError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment
    from vermas.ledger.store import Ledger


def configure(parser: CommandParser, name: str) -> None:
    {
        "create": _configure_create, "show": _configure_show, "list": _configure_list,
        "update": _configure_update, "close": _configure_close, "reopen": _configure_reopen,
        "delete": _configure_delete, "ready": _configure_ready, "blocked": _configure_blocked,
    }[name](parser)


# ================================================================= create
def _configure_create(p: CommandParser) -> None:
    p.description = "Create an issue in the ledger of this directory (or --rig)."
    p.epilog = """examples:
  vermas create "Add login page" -p 1 --type feature
  vermas create "Write tests" --deps blocks:app-x7k,app-q2c --labels backend,auth
  vermas create "Step 2" --parent app-x7k          # child id app-x7k.1
  vermas create "Fix it" -d "details..." --acceptance "pytest passes" --json
"""
    p.add_argument("title", nargs="?", help="issue title (or --title)")
    p.add_argument("--title", dest="title_flag", metavar="TEXT", help="issue title")
    p.add_argument("-d", "--description", default="", metavar="TEXT", help="description")
    p.add_argument("-t", "--type", default="task", metavar="TYPE",
                   help="bug, feature, task (default), epic, chore, message, merge-request, … (custom: types.custom)")
    p.add_argument("-p", "--priority", type=fmt.priority, default=2, metavar="P", help="0-4 or P0-P4 (default 2)")
    p.add_argument("--parent", metavar="ID", help="make it a child of ID (id becomes ID.N, parent-child dependency)")
    p.add_argument("--deps", action="append", metavar="LIST",
                   help="dependencies: comma-separated TYPE:ID or ID (= blocks: this issue waits for ID)")
    p.add_argument("-l", "--labels", "--label", dest="labels", action="append", metavar="LIST",
                   help="comma-separated labels")
    p.add_argument("-a", "--assignee", default="", metavar="WHO", help="assignee")
    p.add_argument("--design", default="", metavar="TEXT", help="design notes")
    p.add_argument("--acceptance", default="", metavar="TEXT", help="acceptance criteria")
    p.add_argument("--notes", default="", metavar="TEXT", help="notes")
    p.add_argument("--external-ref", metavar="REF", help="external reference (e.g. gh-9)")
    p.add_argument("--status", metavar="STATUS", help="initial status (default open)")
    p.add_argument("--id", dest="explicit_id", metavar="ID", help="use this exact id instead of a hash id")
    p.add_argument("--force", action="store_true", help="allow an explicit --id whose prefix differs from the ledger's")
    p.add_argument("--ephemeral", action="store_true", help="create a wisp: local only, never exported")
    p.add_argument("--silent", action="store_true", help="print only the new id")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=run_create)


def run_create(env: Environment, args: Namespace) -> int:
    title = args.title_flag if args.title_flag is not None else args.title
    if title is None:
        raise UsageError("a title is required", hint='vermas create "Title" [options]')
    ledger = context.ledger_for(env, args, issue_id=args.parent)
    issue_type = fmt.check_type(ledger, args.type)
    status = fmt.check_status(ledger, args.status) if args.status else "open"
    if status == "tombstone":
        raise UsageError("cannot create an issue as a tombstone")
    deps = [fmt.parse_dep_spec(spec) for spec in fmt.csv(args.deps)]
    resolved_deps = [(kind, _resolve_target(env, args, ledger, target)) for kind, target in deps]
    if args.explicit_id and not args.force:
        prefix = ledger.prefix
        if not args.explicit_id.startswith(prefix + "-"):
            raise UsageError(f"id {args.explicit_id!r} does not start with this ledger's prefix '{prefix}-'",
                             hint="use --force to create it anyway")
    fields = {}
    for key, value in (("design", args.design), ("acceptance_criteria", args.acceptance), ("notes", args.notes)):
        if value:
            fields[key] = value
    if args.external_ref is not None:
        fields["external_ref"] = args.external_ref
    with ledger.transaction(env.actor()) as tx:
        issue = tx.create(
            title, description=args.description, issue_type=issue_type, priority=args.priority, status=status,
            assignee=args.assignee, labels=fmt.csv(args.labels), deps=resolved_deps, parent=args.parent,
            issue_id=args.explicit_id, ephemeral=args.ephemeral, fields=fields,
        )
    if args.json:
        env.print_json(issue)
    elif args.silent:
        env.write(issue["id"])
    else:
        env.write(f"✓ Created issue {issue['id']}: {fmt.one_line(title)}")
        env.write(f"  P{issue['priority']} · {issue['issue_type']} · {issue['status']}"
                  + (f" · @{issue['assignee']}" if issue.get("assignee") else ""))
    return 0


def _resolve_target(env: Environment, args: Namespace, ledger: Ledger, target: str) -> str:
    """A dependency target: resolved here, kept verbatim if external or owned by another rig."""
    if target.startswith("external:"):
        return target
    owner = context.beads_dir_for(env, args, target)
    if owner != ledger.dir:
        context.open_ledger(env, owner).get(target)  # must exist over there (exit 3 otherwise)
        return target
    return ledger.resolve(target)


# =================================================================== show
def _configure_show(p: CommandParser) -> None:
    p.description = "Show issues with their labels, dependencies, dependents and comments."
    p.epilog = """examples:
  vermas show app-x7k
  vermas show x7k q2c --json        # partial ids; --json prints an array of IssueDetails (bd's shape)
"""
    p.add_argument("ids", nargs="+", metavar="ID", help="issue ids (partial ids are resolved)")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=run_show)


def run_show(env: Environment, args: Namespace) -> int:
    from vermas.ledger import present

    found: list[dict] = []
    missing: list[str] = []
    for ledger, ids in context.ledgers_for_ids(env, args, args.ids):
        for issue_id in ids:
            try:
                issue = ledger.get(issue_id)
            except NotFoundError:
                missing.append(f"{issue_id!r} (in {ledger.issues_path})")
                continue
            details = present.details(ledger, issue)
            if not args.json:
                present_ids = {d["id"] for d in details.get("dependencies", [])}
                details["_missing_deps"] = [
                    (d.get("type") or "blocks", d.get("depends_on_id")) for d in issue.get("dependencies") or ()
                    if isinstance(d, dict) and d.get("depends_on_id") not in present_ids
                ]
            found.append(details)
    if args.json:
        env.print_json(found)
    else:
        for n, details in enumerate(found):
            if n:
                env.write("\n" + "─" * 60)
            for line in fmt.show_text(details):
                env.write(line)
    if missing:
        raise NotFoundError(f"no issue {', '.join(missing)}",
                            hint="check the ids with 'vermas list'; ids of another rig need routes.jsonl or --rig")
    return 0


# =================================================================== list
def _configure_list(p: CommandParser) -> None:
    p.description = "List issues matching every given filter (tombstones and wisps hidden unless asked)."
    p.epilog = """examples:
  vermas list --status open,in_progress -p 0,1
  vermas list --type bug --label backend --assignee alice
  vermas list --parent app-x7k --json      # all descendants, as IssueWithCounts
"""
    p.add_argument("-s", "--status", action="append", metavar="LIST", help="statuses (comma-separated, repeatable)")
    p.add_argument("-t", "--type", action="append", metavar="LIST", help="issue types")
    p.add_argument("-p", "--priority", action="append", metavar="LIST", help="priorities 0-4")
    p.add_argument("-a", "--assignee", metavar="WHO", help="assigned to WHO")
    p.add_argument("--unassigned", action="store_true", help="only issues without an assignee")
    p.add_argument("-l", "--label", action="append", metavar="LIST", help="has all these labels")
    p.add_argument("--label-any", action="append", metavar="LIST", help="has at least one of these labels")
    p.add_argument("--parent", metavar="ID", help="descendants of ID (parent-child, recursively)")
    p.add_argument("--all", action="store_true", help="include tombstones (deleted issues)")
    p.add_argument("--ephemeral", action="store_true", help="include wisps (ephemeral issues)")
    p.add_argument("--sort", choices=("priority", "created", "updated", "id"), default="priority",
                   help="order (default: priority, newest first within a priority)")
    p.add_argument("-n", "--limit", type=non_negative_int, default=0, metavar="N", help="at most N issues (0 = all)")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=run_list)


def run_list(env: Environment, args: Namespace) -> int:
    from vermas.ledger import present, queries

    ledger = context.ledger_for(env, args)
    statuses = tuple(fmt.check_status(ledger, s) for s in fmt.csv(args.status))
    types = tuple(fmt.check_type(ledger, t) for t in fmt.csv(args.type))
    priorities = tuple(_priority_value(p) for p in fmt.csv(args.priority))
    parent = ledger.resolve(args.parent) if args.parent else None
    issues = queries.list_issues(
        ledger.conn, status=statuses, issue_type=types, priority=priorities, assignee=args.assignee,
        unassigned=args.unassigned, labels=tuple(fmt.csv(args.label)), label_any=tuple(fmt.csv(args.label_any)),
        parent=parent, include_ephemeral=args.ephemeral, include_tombstones=args.all, limit=args.limit or None,
        order=args.sort,
    )
    if args.json:
        env.print_json(present.with_counts(ledger.conn, issues))
        return 0
    if not issues:
        env.write("No issues found.")
        return 0
    for issue in issues:
        env.write(fmt.issue_line(issue))
    env.info(f"{len(issues)} issue(s)")
    return 0


def _priority_value(text: str) -> int:
    try:
        return fmt.priority(text)
    except Exception as exc:  # argparse.ArgumentTypeError
        raise UsageError(str(exc)) from None


# ================================================================= update
def _configure_update(p: CommandParser) -> None:
    p.description = "Change fields of one or more issues (one transaction per ledger)."
    p.epilog = """examples:
  vermas update app-x7k --status in_progress
  vermas update app-x7k app-q2c -p 0 --add-label urgent
  vermas update app-x7k --claim                   # assignee = you, status = in_progress
  vermas update app-x7k --defer 2d                # hidden from 'ready' for two days
"""
    p.add_argument("ids", nargs="+", metavar="ID", help="issue ids")
    p.add_argument("-s", "--status", metavar="STATUS", help="new status")
    p.add_argument("-p", "--priority", type=fmt.priority, metavar="P", help="new priority 0-4")
    p.add_argument("--title", metavar="TEXT", help="new title")
    p.add_argument("-a", "--assignee", metavar="WHO", help="new assignee ('' to clear)")
    p.add_argument("-d", "--description", metavar="TEXT", help="new description")
    p.add_argument("--design", metavar="TEXT", help="new design notes")
    p.add_argument("--acceptance", metavar="TEXT", help="new acceptance criteria")
    p.add_argument("--notes", metavar="TEXT", help="new notes")
    p.add_argument("-t", "--type", metavar="TYPE", help="new issue type")
    p.add_argument("--external-ref", metavar="REF", help="new external reference")
    p.add_argument("--add-label", action="append", metavar="LIST", help="labels to add")
    p.add_argument("--remove-label", action="append", metavar="LIST", help="labels to remove")
    p.add_argument("--parent", metavar="ID", help="move under a new parent ('' to detach)")
    p.add_argument("--defer", metavar="WHEN",
                   help="hide from ready until WHEN: a duration from now (2h, 3d), a date or RFC 3339; '' clears")
    p.add_argument("--due", metavar="WHEN", help="due time (same forms as --defer); '' clears")
    p.add_argument("--estimate", type=non_negative_int, metavar="MIN", help="estimated minutes")
    p.add_argument("--claim", action="store_true",
                   help="assign to yourself and set in_progress; fails if someone else has it")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=run_update)


def run_update(env: Environment, args: Namespace) -> int:
    from vermas.errors import ConflictError
    from vermas.ledger import timefmt

    actor = env.actor()
    fields: dict = {}
    for key, value in (("title", args.title), ("assignee", args.assignee), ("description", args.description),
                       ("design", args.design), ("acceptance_criteria", args.acceptance), ("notes", args.notes),
                       ("external_ref", args.external_ref), ("priority", args.priority),
                       ("estimated_minutes", args.estimate)):
        if value is not None:
            fields[key] = value
    for key, value in (("defer_until", args.defer), ("due_at", args.due)):
        if value is not None:
            fields[key] = _future_time(value, timefmt) if value.strip() else None
    add, remove = fmt.csv(args.add_label), fmt.csv(args.remove_label)
    if not fields and not (args.status or args.type or add or remove or args.claim or args.parent is not None):
        raise UsageError("nothing to update", hint="give at least one field option (see 'vermas update --help')")
    results: list[dict] = []
    for ledger, ids in context.ledgers_for_ids(env, args, args.ids):
        own = dict(fields)
        if args.status:
            own["status"] = fmt.check_status(ledger, args.status)
            if own["status"] == "tombstone":
                raise UsageError("use 'vermas delete' to turn an issue into a tombstone")
        if args.type:
            own["issue_type"] = fmt.check_type(ledger, args.type)
        with ledger.transaction(actor) as tx:
            for issue_id in ids:
                issue = ledger.get(issue_id)
                changes = dict(own)
                if args.claim:
                    holder = issue.get("assignee")
                    if holder and holder != actor:
                        raise ConflictError(f"{issue['id']} is already claimed by {holder}",
                                            hint="ask them, or set --assignee explicitly")
                    changes.setdefault("assignee", actor)
                    changes.setdefault("status", "in_progress")
                if add or remove:
                    labels = (set(issue.get("labels") or []) | set(add)) - set(remove)
                    changes["labels"] = sorted(labels)
                updated = tx.update(issue["id"], **changes) if changes else issue
                if args.parent is not None:
                    updated = _reparent(env, args, ledger, tx, updated, args.parent)
                results.append(updated)
    if args.json:
        env.print_json(results)
    else:
        for issue in results:
            env.write(f"✓ Updated {issue['id']}: {fmt.one_line(issue.get('title', ''))} "
                      f"[P{issue.get('priority', 0)} · {issue.get('status') or 'open'}]")
    return 0


def _future_time(value: str, timefmt) -> str:
    import time

    text = value.strip()
    exact = timefmt.parse_ns(text)
    if exact is not None:
        return text
    try:
        if len(text) == 10 and text[4] == "-":
            return timefmt.format_ns(timefmt.parse_when(text))
        seconds = timefmt.parse_duration(text.lstrip("+"))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return timefmt.format_ns(time.time_ns() + int(seconds * 1e9))


def _reparent(env: Environment, args: Namespace, ledger: Ledger, tx, issue: dict, parent: str) -> dict:
    for dep in issue.get("dependencies") or ():
        if isinstance(dep, dict) and dep.get("type") == "parent-child":
            issue = tx.remove_dependency(issue["id"], str(dep.get("depends_on_id")), "parent-child")
    if parent.strip():
        target = _resolve_target(env, args, ledger, parent)
        issue = tx.add_dependency(issue["id"], target, "parent-child", allow_missing=not ledger.exists(target))
    return issue


# ========================================================== close / reopen
def _configure_close(p: CommandParser) -> None:
    p.description = "Close issues (a close reason with a failure word unblocks conditional-blocks dependents)."
    p.epilog = """examples:
  vermas close app-x7k --reason "merged in #12"
  vermas close app-x7k app-q2c -r "failed: flaky upstream"
"""
    p.add_argument("ids", nargs="+", metavar="ID", help="issue ids")
    p.add_argument("-r", "--reason", default="", metavar="TEXT", help="close reason")
    p.add_argument("--session", default=None, metavar="ID", help="agent session id (default: $CLAUDE_SESSION_ID)")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=run_close)


def run_close(env: Environment, args: Namespace) -> int:
    session = args.session if args.session is not None else (env.get("CLAUDE_SESSION_ID") or "")
    results = _apply_each(env, args, lambda tx, issue: (issue.get("status"),
                                                        tx.close(issue["id"], args.reason, session=session)))
    if args.json:
        env.print_json([issue for _before, issue in results])
        return 0
    for before, issue in results:
        if before == "closed":
            env.write(f"• {issue['id']} was already closed")
        else:
            env.write(f"✓ Closed {issue['id']}: {fmt.one_line(issue.get('title', ''))}"
                      + (f" ({args.reason})" if args.reason else ""))
    return 0


def _apply_each(env: Environment, args: Namespace, apply) -> list:
    """``apply(tx, issue)`` for every id of ``args.ids``, one transaction per ledger; results in order."""
    results: list = []
    for ledger, ids in context.ledgers_for_ids(env, args, args.ids):
        with ledger.transaction(env.actor()) as tx:
            results.extend(apply(tx, ledger.get(issue_id)) for issue_id in ids)
    return results


def _configure_reopen(p: CommandParser) -> None:
    p.description = "Reopen closed issues (status open; closed_at and close_reason cleared)."
    p.epilog = "example:\n  vermas reopen app-x7k --reason \"regression\"\n"
    p.add_argument("ids", nargs="+", metavar="ID", help="issue ids")
    p.add_argument("-r", "--reason", default="", metavar="TEXT", help="why (recorded in the event)")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=run_reopen)


def run_reopen(env: Environment, args: Namespace) -> int:
    results = _apply_each(env, args, lambda tx, issue: tx.reopen(issue["id"], args.reason))
    if args.json:
        env.print_json(results)
    else:
        for issue in results:
            env.write(f"↺ Reopened {issue['id']}: {fmt.one_line(issue.get('title', ''))}")
    return 0


def _configure_delete(p: CommandParser) -> None:
    p.description = ("Delete issues the way bd does: each becomes a tombstone (status tombstone, deleted_at, "
                     "deleted_by), stays in issues.jsonl, never blocks and is never resurrected by import.")
    p.epilog = "example:\n  vermas delete app-x7k --reason \"duplicate of app-q2c\"\n"
    p.add_argument("ids", nargs="+", metavar="ID", help="issue ids")
    p.add_argument("-r", "--reason", default="", metavar="TEXT", help="why")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=run_delete)


def run_delete(env: Environment, args: Namespace) -> int:
    results = _apply_each(env, args, lambda tx, issue: tx.delete(issue["id"], args.reason))
    if args.json:
        env.print_json(results)
    else:
        for issue in results:
            env.write(f"✗ Deleted {issue['id']} (tombstone): {fmt.one_line(issue.get('title', ''))}")
    return 0


# ========================================================= ready / blocked
def _configure_ready(p: CommandParser) -> None:
    p.description = ("Issues ready to work on (bd v0.43 rules): open or in_progress, not blocked by blocks / "
                     "parent-child / conditional-blocks / waits-for, not deferred, not pinned, not a wisp, and not "
                     "of type merge-request, gate, molecule, message or agent (unless --type asks).")
    p.epilog = """examples:
  vermas ready
  vermas ready --assignee alice --limit 5 --json
  vermas ready --sort priority --label backend
"""
    p.add_argument("-a", "--assignee", metavar="WHO", help="assigned to WHO")
    p.add_argument("--unassigned", action="store_true", help="only unassigned issues")
    p.add_argument("-n", "--limit", type=non_negative_int, default=10, metavar="N",
                   help="at most N (default 10, 0 = all)")
    p.add_argument("-p", "--priority", type=fmt.priority, metavar="P", help="only this priority")
    p.add_argument("-l", "--label", action="append", metavar="LIST", help="has all these labels")
    p.add_argument("--label-any", action="append", metavar="LIST", help="has one of these labels")
    p.add_argument("-t", "--type", metavar="TYPE", help="only this type (also lifts the type exclusions)")
    p.add_argument("-s", "--status", metavar="STATUS", help="this exact status instead of open/in_progress")
    p.add_argument("--parent", metavar="ID", help="descendants of ID only")
    p.add_argument("--sort", choices=("hybrid", "priority", "oldest"), default="hybrid",
                   help="hybrid (default: last 48 h by priority, then oldest first), priority, oldest")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=run_ready)


def run_ready(env: Environment, args: Namespace) -> int:
    from vermas.ledger import present, queries

    ledger = context.ledger_for(env, args)
    issue_type = fmt.check_type(ledger, args.type) if args.type else None
    status = fmt.check_status(ledger, args.status) if args.status else None
    conn = ledger.conn
    issues = queries.ready(
        conn, assignee=args.assignee, unassigned=args.unassigned, limit=args.limit or None,
        priority=args.priority, labels=tuple(fmt.csv(args.label)), label_any=tuple(fmt.csv(args.label_any)),
        issue_type=issue_type, status=status, parent=ledger.resolve(args.parent) if args.parent else None,
        sort=args.sort,
    )
    if args.json:
        env.print_json(present.with_counts(conn, issues))
        return 0
    if not issues:
        env.write("✨ No ready work: everything open is blocked, deferred or done.")
        return 0
    env.write(f"📋 Ready work ({len(issues)} issue{'s' if len(issues) != 1 else ''}):")
    for n, issue in enumerate(issues, 1):
        env.write(f"{n:3}. [P{issue.get('priority', 0)}] {issue['id']}: {fmt.one_line(issue.get('title', ''))}"
                  + (f" (@{issue['assignee']})" if issue.get("assignee") else ""))
    return 0


def _configure_blocked(p: CommandParser) -> None:
    p.description = ("Issues that are blocked (bd v0.43): status blocked/deferred, or an open 'blocks' "
                     "dependency. Like bd, parent-child, conditional-blocks and waits-for blocking is not "
                     "listed here (see 'vermas ready', which honours all of them).")
    p.epilog = "example:\n  vermas blocked --json\n"
    p.add_argument("-n", "--limit", type=non_negative_int, default=0, metavar="N", help="at most N (0 = all)")
    p.add_common(json=True, rig=True)
    p.set_defaults(handler=run_blocked)


def run_blocked(env: Environment, args: Namespace) -> int:
    from vermas.ledger import queries

    ledger = context.ledger_for(env, args)
    issues = queries.blocked(ledger.conn, limit=args.limit or None)
    if args.json:
        env.print_json(issues)
        return 0
    if not issues:
        env.write("✨ Nothing is blocked.")
        return 0
    env.write(f"🚫 Blocked issues ({len(issues)}):")
    for issue in issues:
        why = ", ".join(issue["blocked_by"]) if issue["blocked_by"] else f"status {issue.get('status')}"
        env.write(f"  [P{issue.get('priority', 0)}] {issue['id']}: {fmt.one_line(issue.get('title', ''))}")
        env.write(f"      blocked by: {why}")
    return 0
