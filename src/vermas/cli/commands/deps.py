"""``vermas dep add|remove|list|tree|cycles``: the dependency graph.

``dep add B A`` means B depends on A (A blocks B), exactly like bd. The edge is stored in
B's line of ``issues.jsonl``. An edge that would close a cycle of blocks / parent-child /
conditional-blocks / waits-for dependencies is refused with exit 5, naming the cycle.
"""

from __future__ import annotations

from vermas.cli import context
from vermas.cli import ledgerfmt as fmt
from vermas.cli.args import positive_int

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment


def configure(parser: CommandParser, name: str) -> None:
    parser.description = "Add, remove and inspect dependencies ('dep add B A' = B needs A)."
    parser.epilog = """examples:
  vermas dep add app-b app-a                  # app-b waits for app-a (blocks)
  vermas dep add app-b app-a --type related
  vermas dep remove app-b app-a
  vermas dep tree app-b                       # what app-b waits for, recursively
  vermas dep tree app-epic --reverse          # what depends on app-epic (children, blocked issues)
  vermas dep cycles --json
"""
    sub = parser.add_subparsers(dest="subcommand", title="subcommands")

    add = sub.add_parser("add", help="ISSUE depends on DEPENDS_ON", description="Make ISSUE depend on DEPENDS_ON.")
    add.add_argument("issue", metavar="ISSUE", help="the dependent issue (blocked / child)")
    add.add_argument("depends_on", metavar="DEPENDS_ON", help="what it waits for (blocker / parent)")
    add.add_argument("-t", "--type", default="blocks", metavar="TYPE",
                     help="blocks (default), parent-child, conditional-blocks, waits-for, related, discovered-from, …")
    add.add_argument("--gate", choices=("all-children", "any-children"),
                     help="for waits-for: wait for all (default) or any of the spawner's children")
    add.add_common(json=True, rig=True)
    add.set_defaults(handler=run_add)

    rm = sub.add_parser("remove", aliases=["rm"], help="remove a dependency", description="Remove a dependency.")
    rm.add_argument("issue", metavar="ISSUE")
    rm.add_argument("depends_on", metavar="DEPENDS_ON")
    rm.add_argument("-t", "--type", metavar="TYPE", help="only this type (default: every edge between the two)")
    rm.add_common(json=True, rig=True)
    rm.set_defaults(handler=run_remove)

    lst = sub.add_parser("list", help="direct dependencies and dependents of an issue",
                         description="Direct dependencies and dependents of an issue.")
    lst.add_argument("issue", metavar="ISSUE")
    lst.add_common(json=True, rig=True)
    lst.set_defaults(handler=run_list)

    tree = sub.add_parser("tree", help="dependency tree of an issue", description=(
        "Dependency tree: what ISSUE depends on, recursively (--reverse: what depends on it). "
        "Nodes already shown are marked (repeat) and not expanded again."))
    tree.add_argument("issue", metavar="ISSUE")
    tree.add_argument("--reverse", "--up", action="store_true", help="walk dependents instead of dependencies")
    tree.add_argument("--max-depth", type=positive_int, default=50, metavar="N", help="depth limit (default 50)")
    tree.add_argument("-t", "--type", action="append", metavar="LIST", help="only these dependency types")
    tree.add_common(json=True, rig=True)
    tree.set_defaults(handler=run_tree)

    cycles = sub.add_parser("cycles", help="list dependency cycles", description=(
        "Cycles among blocks / parent-child / conditional-blocks / waits-for dependencies "
        "(issues in a cycle can never become ready). One cycle per strongly connected group."))
    cycles.add_common(json=True, rig=True)
    cycles.set_defaults(handler=run_cycles)


def run_add(env: Environment, args: Namespace) -> int:
    import json

    dep_type = fmt.check_dep_type(args.type)
    if args.gate and dep_type != "waits-for":
        from vermas.errors import UsageError

        raise UsageError("--gate only applies to --type waits-for")
    ledger = context.ledger_for(env, args, args.issue)
    issue_id = ledger.get(args.issue)["id"]
    if args.depends_on.startswith("external:"):
        target, elsewhere = args.depends_on, True
    else:
        target_dir = context.beads_dir_for(env, args, args.depends_on)
        elsewhere = target_dir != ledger.dir
        owner = context.open_ledger(env, target_dir) if elsewhere else ledger
        target = owner.get(args.depends_on)["id"]
    metadata = json.dumps({"gate": args.gate}, separators=(",", ":")) if args.gate else None
    with ledger.transaction(env.actor()) as tx:
        tx.add_dependency(issue_id, target, dep_type, metadata=metadata, allow_missing=elsewhere)
    if args.json:
        env.print_json({"status": "added", "issue_id": issue_id, "depends_on_id": target, "type": dep_type})
    else:
        env.write(f"✓ {issue_id} now depends on {target} ({dep_type})")
    return 0


def run_remove(env: Environment, args: Namespace) -> int:
    dep_type = fmt.check_dep_type(args.type) if args.type else None
    ledger = context.ledger_for(env, args, args.issue)
    issue = ledger.get(args.issue)
    target = args.depends_on
    targets = {str(d.get("depends_on_id")) for d in issue.get("dependencies") or () if isinstance(d, dict)}
    if target not in targets and context.beads_dir_for(env, args, target) == ledger.dir:
        try:
            target = ledger.resolve(target)
        except Exception:  # keep the literal id: remove_dependency reports it missing (exit 3)
            pass
    with ledger.transaction(env.actor()) as tx:
        tx.remove_dependency(issue["id"], target, dep_type)
    if args.json:
        env.print_json({"status": "removed", "issue_id": issue["id"], "depends_on_id": target,
                        "type": dep_type or "any"})
    else:
        env.write(f"✓ {issue['id']} no longer depends on {target}" + (f" ({dep_type})" if dep_type else ""))
    return 0


def run_list(env: Environment, args: Namespace) -> int:
    from vermas.ledger import index, present

    ledger = context.ledger_for(env, args, args.issue)
    issue = ledger.get(args.issue)
    deps = [(str(d.get("depends_on_id")), str(d.get("type") or "blocks"))
            for d in issue.get("dependencies") or () if isinstance(d, dict)]
    dependents = index.dependents(ledger.conn, issue["id"])
    known = ledger.get_many([i for i, _t in deps] + [i for i, _t in dependents])
    doc = {
        "id": issue["id"],
        "dependencies": [{**(present.brief(known[i]) if i in known else {"id": i, "missing": True}),
                          "dependency_type": t} for i, t in deps],
        "dependents": [{**present.brief(known[i]), "dependency_type": t} for i, t in dependents if i in known],
    }
    if args.json:
        env.print_json(doc)
        return 0
    env.write(f"{issue['id']}: {fmt.one_line(issue.get('title', ''))}")
    env.write("  depends on:" + ("" if doc["dependencies"] else " (nothing)"))
    for d in doc["dependencies"]:
        env.write(f"    → {d['id']} ({d['dependency_type']})" + (" [not in this ledger]" if d.get("missing") else
                                                                   f" [{d['status']}] {fmt.one_line(d['title'])}"))
    env.write("  depended on by:" + ("" if doc["dependents"] else " (nothing)"))
    for d in doc["dependents"]:
        env.write(f"    ← {d['id']} ({d['dependency_type']}) [{d['status']}] {fmt.one_line(d['title'])}")
    return 0


def run_tree(env: Environment, args: Namespace) -> int:
    from vermas.ledger import graph

    ledger = context.ledger_for(env, args, args.issue)
    root = ledger.get(args.issue)["id"]
    types = tuple(fmt.check_dep_type(t) for t in fmt.csv(args.type)) or None
    nodes = graph.tree(ledger, root, reverse=args.reverse, max_depth=args.max_depth, types=types)
    if args.json:
        env.print_json(nodes)
        return 0
    for node in nodes:
        indent = "    " * node["depth"]
        branch = "" if node["depth"] == 0 else "└─ "
        label = f"{node['id']}"
        if node.get("missing"):
            text = f"{label} [not in this ledger]"
        else:
            text = f"{label}: {fmt.one_line(node['title'])} [P{node['priority']} · {node['status']}]"
        if node.get("dependency_type"):
            text += f" ({node['dependency_type']})"
        if node.get("repeat"):
            text += " (shown above)"
        if node.get("truncated"):
            text += " …"
        env.write(f"{indent}{branch}{text}")
    return 0


def run_cycles(env: Environment, args: Namespace) -> int:
    from vermas.ledger import graph

    ledger = context.ledger_for(env, args)
    cycles = graph.find_cycles(ledger.conn)
    if args.json:
        env.print_json(cycles)
        return 0
    if not cycles:
        env.write("✓ No dependency cycles.")
        return 0
    env.write(f"⚠ {len(cycles)} dependency cycle(s):")
    for cycle in cycles:
        env.write("  " + " → ".join(cycle))
    return 0
