"""Dependency-graph walks over the index: cycles (Tarjan SCC) and dependency trees."""

from __future__ import annotations

from vermas.ledger import index, schema

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3

    from vermas.ledger.store import Ledger


def edges(conn: sqlite3.Connection,
          types: tuple[str, ...] | frozenset[str] = schema.AFFECTS_READY) -> dict[str, list[str]]:
    """``{issue: [depends_on, ...]}`` over dependencies of the given types (sorted targets)."""
    marks = ",".join("?" * len(types))
    graph: dict[str, list[str]] = {}
    for issue_id, target in conn.execute(
        f"SELECT issue_id, depends_on_id FROM deps WHERE type IN ({marks}) ORDER BY issue_id, depends_on_id",
        tuple(types),
    ):
        graph.setdefault(issue_id, []).append(target)
    return graph


def strongly_connected(graph: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's SCCs (iterative), keeping only those that contain a cycle."""
    counter = 0
    indexes: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    for root in sorted(graph):
        if root in indexes:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                indexes[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            targets = graph.get(node, [])
            recursed = False
            while i < len(targets):
                nxt = targets[i]
                i += 1
                if nxt not in indexes:
                    work.append((node, i))
                    work.append((nxt, 0))
                    recursed = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], indexes[nxt])
            if recursed:
                continue
            if low[node] == indexes[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph.get(node, []):
                    out.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return out


def cycle_in(graph: dict[str, list[str]], component: list[str]) -> list[str]:
    """One cycle through the smallest id of an SCC, as ``[a, b, …, a]``."""
    members = set(component)
    start = component[0]
    previous: dict[str, str | None] = {start: None}
    frontier = [start]
    while frontier:
        nxt_frontier = []
        for node in frontier:
            for nxt in graph.get(node, []):
                if nxt not in members:
                    continue
                if nxt == start:
                    path = [node]
                    while previous[path[-1]] is not None:
                        path.append(previous[path[-1]])  # type: ignore[arg-type]
                    return [*reversed(path), start]
                if nxt not in previous:
                    previous[nxt] = node
                    nxt_frontier.append(nxt)
        frontier = nxt_frontier
    return [start, start]


def find_cycles(conn: sqlite3.Connection,
                types: tuple[str, ...] | frozenset[str] = schema.AFFECTS_READY) -> list[list[str]]:
    """One representative cycle per strongly connected component, ``[a, b, …, a]``."""
    graph = edges(conn, types)
    return [cycle_in(graph, comp) for comp in strongly_connected(graph)]


def tree(ledger: Ledger, root: str, *, reverse: bool = False, max_depth: int = 50,
         types: tuple[str, ...] | None = None) -> list[dict]:
    """Depth-first dependency tree from ``root``.

    Down (default): what ``root`` depends on, recursively. ``reverse``: what depends on it
    (children, blocked issues). Each node: ``id``, ``title``, ``status``, ``priority``,
    ``issue_type``, ``depth``, ``parent_id`` (the node it hangs from), ``dependency_type``,
    plus ``missing`` for ids not in the ledger, ``repeat`` for a node already shown
    (not expanded again) and ``truncated`` when ``max_depth`` cut the walk.
    """
    conn = ledger.conn
    out: list[dict] = []
    seen: set[str] = set()
    stack: list[tuple[str, int, str | None, str | None]] = [(root, 0, None, None)]
    while stack:
        node, depth, parent, dep_type = stack.pop()
        issue = ledger.find(node)
        entry: dict = {"id": node}
        if issue is None:
            entry.update(title="", status="", priority=0, issue_type="", missing=True)
        else:
            entry.update(title=issue.get("title", ""), status=issue.get("status") or "open",
                         priority=issue.get("priority", 0), issue_type=issue.get("issue_type") or "task")
        entry.update(depth=depth, parent_id=parent, dependency_type=dep_type)
        out.append(entry)
        if node in seen:
            entry["repeat"] = True
            continue
        seen.add(node)
        if issue is None:
            continue
        links = index.dependents(conn, node) if reverse else index.dependencies(conn, node)
        if types:
            links = [(i, t) for i, t in links if t in types]
        if links and depth >= max_depth:
            entry["truncated"] = True
            continue
        for linked, link_type in reversed(links):
            stack.append((linked, depth + 1, node, link_type))
    return out
