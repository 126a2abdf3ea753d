"""``vermas events list|tail|replay|stats``: the ledger's append-only event log.

Every mutation appends ``{event_id, event_type, timestamp, actor, correlation_id, caused_by,
data}`` to ``.beads/events.jsonl``. Filters: ``--type`` (globs such as ``bead.*``, repeatable),
``--actor``, ``--since`` (``30m``, ``2h``, ``7d``, a date or RFC 3339), ``--bead``.
"""

from __future__ import annotations

from vermas.cli import context
from vermas.cli.args import non_negative_int, positive_int
from vermas.errors import NotFoundError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment


def configure(parser: CommandParser, name: str) -> None:
    parser.description = "List, follow, replay and count the ledger's events (.beads/events.jsonl)."
    parser.epilog = """examples:
  vermas events list --type 'bead.*' --since 1h
  vermas events tail                      # follow new events (Ctrl-C to stop)
  vermas events replay app-x7k            # the bead's history, rebuilt from its events
  vermas events stats --since 1d --json
"""
    sub = parser.add_subparsers(dest="subcommand", title="subcommands")

    lst = sub.add_parser("list", help="recent events (last 50 by default)", description="Recent events, oldest first.")
    _filters(lst)
    lst.add_argument("-n", "--limit", type=non_negative_int, default=50, metavar="N",
                     help="the last N matching events (default 50, 0 = all)")
    lst.add_argument("--jsonl", action="store_true", help="one JSON object per line (for pipes)")
    _common(lst)
    lst.set_defaults(handler=run_list)

    tail = sub.add_parser("tail", help="follow new events", description=(
        "Print the last few matching events, then follow the log and print new ones as they are appended "
        "(polls every 0.1 s; copes with the file being replaced). Ctrl-C stops."))
    _filters(tail)
    tail.add_argument("-n", "--lines", type=non_negative_int, default=10, metavar="N",
                      help="show the last N matching events first (default 10)")
    tail.add_argument("--max-events", type=positive_int, metavar="N", help="exit after N new events")
    tail.add_argument("--timeout", type=float, metavar="SECONDS", help="exit after SECONDS")
    tail.add_argument("--no-follow", action="store_true", help="print the last N and exit")
    tail.add_argument("--jsonl", action="store_true", help="one JSON object per line")
    _common(tail)
    tail.set_defaults(handler=run_tail)

    replay = sub.add_parser("replay", help="rebuild a bead's history from its events", description=(
        "Replay a bead's events: its state after each one, rebuilt from the events alone "
        "(bead.created, then updates, status changes, closes, labels, dependencies, comments)."))
    replay.add_argument("bead", metavar="BEAD_ID")
    replay.add_argument("--until", metavar="WHEN", help="stop at this time (state as of WHEN)")
    replay.add_common(json=True, rig=True)  # replay has no --actor filter: the usual options apply
    replay.set_defaults(handler=run_replay)

    stats = sub.add_parser("stats", help="counts by type and actor", description="Event counts by type and actor.")
    _filters(stats)
    _common(stats)
    stats.set_defaults(handler=run_stats)


def _filters(p: CommandParser) -> None:
    p.add_argument("-t", "--type", action="append", default=[], metavar="GLOB",
                   help="event types to keep, globs allowed (bead.*); repeatable")
    p.add_argument("--actor", metavar="NAME", help="only events by NAME")
    p.add_argument("--since", metavar="WHEN", help="only events at or after WHEN (30m, 2h, 7d, 2026-01-31, RFC 3339)")
    p.add_argument("--bead", metavar="ID", help="only events about this bead")


def _common(p: CommandParser) -> None:
    """The usual common options, except that ``--actor`` is a filter here (see :func:`_filters`)."""
    group = p.add_argument_group("common options")
    group.add_argument("--json", action="store_true", help="print JSON instead of text")
    group.add_argument("--town", metavar="PATH", help="town root (default: $VERMAS_TOWN or search upward)")
    group.add_argument("--rig", metavar="RIG", help="act on this rig's ledger")


def _since(args: Namespace) -> int | None:
    if not args.since:
        return None
    from vermas.ledger import timefmt

    try:
        return timefmt.parse_when(args.since)
    except ValueError as exc:
        raise UsageError(f"--since: {exc}") from None


def _matching(events: list[dict], args: Namespace) -> list[dict]:
    from vermas.ledger import events as log

    since = _since(args)
    types = tuple(t for value in args.type for t in value.split(",") if t)
    return [e for e in events if log.matches(e, types=types, actor=args.actor, since_ns=since, bead=args.bead)]


def _summary(event: dict) -> str:
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    bits = []
    for key in ("bead_id", "issue_id"):
        if data.get(key):
            bits.append(str(data[key]))
            break
    kind = event.get("event_type", "")
    if kind == "bead.updated" and isinstance(data.get("changes"), dict):
        bits.append("changed " + ", ".join(sorted(data["changes"])))
    elif kind == "bead.status_changed":
        bits.append(f"{data.get('from_status')} → {data.get('to_status')}")
    elif kind.startswith("dep."):
        bits.append(f"→ {data.get('depends_on_id')} ({data.get('type')})")
    elif kind.startswith("label."):
        bits.append(str(data.get("label")))
    else:
        for key in ("title", "reason", "label", "source"):
            if data.get(key):
                bits.append(" ".join(str(data[key]).split())[:80])
                break
    return " ".join(bits)


def _text(event: dict) -> str:
    stamp, kind, actor = event.get("timestamp", ""), event.get("event_type", ""), event.get("actor", "")
    return f"{stamp}  {kind:<20} {actor}  {_summary(event)}"


def _emit(env: Environment, events: list[dict], args: Namespace) -> None:
    import json

    if getattr(args, "json", False) and not getattr(args, "jsonl", False):
        env.print_json(events)
        return
    for event in events:
        if getattr(args, "jsonl", False) or getattr(args, "json", False):
            env.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")))
        else:
            env.write(_text(event))


def run_list(env: Environment, args: Namespace) -> int:
    from vermas.ledger import events as log

    beads_dir = context.beads_dir_for(env, args)
    matched = _matching(log.read(beads_dir), args)
    if args.limit:
        matched = matched[-args.limit:]
    if not matched and not (args.json or args.jsonl):
        env.write("No events.")
        return 0
    _emit(env, matched, args)
    return 0


def run_tail(env: Environment, args: Namespace) -> int:
    import time

    from vermas.ledger import events as log

    beads_dir = context.beads_dir_for(env, args)
    offset = log.size(beads_dir)
    recent = _matching(log.read(beads_dir, upto=offset), args)
    stream_args = _stream(args)
    if args.lines:
        _emit(env, recent[-args.lines:], stream_args)
    env.stdout.flush()
    if args.no_follow:
        return 0
    deadline = time.monotonic() + args.timeout if args.timeout else None
    seen = 0

    def stop() -> bool:
        return deadline is not None and time.monotonic() >= deadline

    try:
        for event in log.follow(beads_dir, offset=offset, stop=stop):
            if not _matching([event], args):
                continue
            _emit(env, [event], stream_args)
            env.stdout.flush()
            seen += 1
            if args.max_events and seen >= args.max_events:
                break
    except KeyboardInterrupt:
        pass
    return 0


def _stream(args: Namespace) -> Namespace:
    """``tail --json`` streams one object per line (an array cannot be streamed)."""
    from argparse import Namespace as NS

    return NS(json=False, jsonl=bool(args.jsonl or args.json))


def run_replay(env: Environment, args: Namespace) -> int:
    from vermas.ledger import events as log

    beads_dir = context.beads_dir_for(env, args, args.bead)
    bead = args.bead
    ledger = context.open_ledger(env, beads_dir)
    try:
        bead = ledger.resolve(bead)
    except NotFoundError:
        pass  # purged beads survive only in the log
    events = log.read(beads_dir)
    if args.until:
        from vermas.ledger import timefmt

        try:
            until = timefmt.parse_when(args.until)
        except ValueError as exc:
            raise UsageError(f"--until: {exc}") from None
        events = [e for e in events if (timefmt.parse_ns(e.get("timestamp")) or 0) <= until]
    steps = log.replay(events, bead)
    if not steps:
        raise NotFoundError(f"no events about {bead} in {beads_dir}/events.jsonl",
                            hint="events are recorded from the moment vermas writes the ledger; "
                                 "issues written by other tools have none")
    final = steps[-1][1]
    if args.json:
        env.print_json({"bead_id": bead, "events": [e for e, _s in steps], "state": final,
                        "states": [s for _e, s in steps]})
        return 0
    env.write(f"History of {bead} ({len(steps)} event{'s' if len(steps) != 1 else ''}):")
    for event, _state in steps:
        env.write("  " + _text(event))
    env.write("")
    env.write("State rebuilt from the events:")
    for key, value in final.items():
        env.write(f"  {key}: {value}")
    return 0


def run_stats(env: Environment, args: Namespace) -> int:
    from vermas.ledger import events as log

    beads_dir = context.beads_dir_for(env, args)
    data = log.stats(_matching(log.read(beads_dir), args))
    if args.json:
        env.print_json(data)
        return 0
    env.write(f"{data['total']} event(s)" + (f" from {data['first']} to {data['last']}" if data["total"] else ""))
    if data["by_type"]:
        env.write("by type:")
        width = max(len(k) for k in data["by_type"])
        for kind, count in data["by_type"].items():
            env.write(f"  {kind.ljust(width)}  {count}")
        env.write("by actor:")
        width = max(len(k) for k in data["by_actor"])
        for who, count in data["by_actor"].items():
            env.write(f"  {who.ljust(width)}  {count}")
    return 0
