"""Small DAG helpers over ``{node: [needed nodes]}`` maps: cycle search and stable topological order."""

from __future__ import annotations


def find_cycle(needs: dict[str, list[str]]) -> list[str] | None:
    """A cycle as ``[a, b, …, a]`` (following ``needs``), or None. Iterative: safe on long chains.

    Nodes are visited in sorted order, like Gas Town's ``checkDependencyCycles``, so the
    reported cycle is deterministic. Needs naming unknown nodes are ignored here.
    """
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    for start in sorted(needs):
        if state.get(start):
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = [start]
        state[start] = 1
        while stack:
            node, i = stack[-1]
            deps = needs.get(node, ())
            if i < len(deps):
                stack[-1] = (node, i + 1)
                dep = deps[i]
                if dep not in needs:
                    continue
                mark = state.get(dep)
                if mark == 1:
                    return [*path[path.index(dep):], dep]
                if mark is None:
                    state[dep] = 1
                    stack.append((dep, 0))
                    path.append(dep)
            else:
                state[node] = 2
                stack.pop()
                path.pop()
    return None


def topological_order(order: list[str], needs: dict[str, list[str]]) -> list[str]:
    """``order`` rearranged so every node follows what it needs; ties keep ``order``'s order.

    Kahn's algorithm with a queue seeded in the given order (Gas Town's ``TopologicalSort``).
    The graph must be acyclic.
    """
    position = {node: i for i, node in enumerate(order)}
    indegree = {node: 0 for node in order}
    dependents: dict[str, list[str]] = {node: [] for node in order}
    for node in order:
        for dep in needs.get(node, ()):
            if dep in indegree:
                indegree[node] += 1
                dependents[dep].append(node)
    import heapq

    heap = [(position[n], n) for n in order if indegree[n] == 0]
    heapq.heapify(heap)
    out: list[str] = []
    while heap:
        _pos, node = heapq.heappop(heap)
        out.append(node)
        for dependent in dependents[node]:
            indegree[dependent] -= 1
            if indegree[dependent] == 0:
                heapq.heappush(heap, (position[dependent], dependent))
    if len(out) != len(order):
        raise ValueError("cycle in step graph")
    return out
