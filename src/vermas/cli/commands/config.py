"""``vermas config get|set|unset|show``: layered settings and where each value comes from."""

from __future__ import annotations

from vermas.cli.commands import town_common

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace

    from vermas.cli.args import CommandParser
    from vermas.cli.env import Environment

_LAYERS = "flags → env (VERMAS_<KEY>) → rig settings → town settings → ~/.config/vermas/config.toml → defaults"


def configure(parser: CommandParser, name: str) -> None:
    parser.description = f"Read and write settings. Each value resolves through: {_LAYERS}."
    parser.epilog = """examples:
  vermas config show                          # every key, its value and its source
  vermas config show --rig app --json
  vermas config get polecats.max --rig app
  vermas config set polecats.max 3 --rig app  # rig settings (<town>/app/settings/config.json)
  vermas config set runtime.default sim       # town settings (<town>/settings/config.json)
  vermas config set gates.test "pytest -q" --rig app
  vermas config unset polecats.max --rig app
"""
    sub = parser.add_subparsers(dest="subcommand", title="subcommands")
    get = sub.add_parser("get", help="one key's value and source", description="Print one key's resolved value.")
    get.add_argument("key", help="dotted key, e.g. polecats.max")
    get.add_common(json=True, rig=True)
    get.set_defaults(handler=run_get)
    show = sub.add_parser("show", help="every key with value and source",
                          description="Every known key, its resolved value and the layer it came from.")
    show.add_common(json=True, rig=True)
    show.set_defaults(handler=run_show)
    st = sub.add_parser("set", help="set a key in town or rig settings",
                        description="Set a key in the town settings, or in a rig's settings with --rig.")
    st.add_argument("key")
    st.add_argument("value")
    st.add_common(json=True, rig=True)
    st.set_defaults(handler=run_set)
    un = sub.add_parser("unset", help="remove a key from town or rig settings",
                        description="Remove a key from the town settings (or a rig's with --rig).")
    un.add_argument("key")
    un.add_common(json=True, rig=True)
    un.set_defaults(handler=run_unset)


def _config(env: Environment, args: Namespace):
    from vermas.town.config import Config
    from vermas.town.layout import Town

    town = Town(town_common.town_root(env))
    rig_settings = None
    if getattr(args, "rig", None):
        town_common.require_rig(town.root, args.rig)
        rig_settings = town.rig(args.rig).settings_path
    return town, Config(town_settings=town.settings_path, rig_settings=rig_settings, environ=env.environ)


def run_get(env: Environment, args: Namespace) -> int:
    _town, config = _config(env, args)
    value, source = config.lookup(args.key)
    if args.json:
        env.print_json({"key": args.key, "value": value, "source": source})
    else:
        env.write(f"{_text(value)}\t({source})")
    return 0


def run_show(env: Environment, args: Namespace) -> int:
    from vermas.town.config import KEYS

    _town, config = _config(env, args)
    rows = []
    for key in config.keys():  # noqa: SIM118 (Config is not a dict)
        value, source = config.lookup(key)
        rows.append({"key": key, "value": value, "source": source,
                     "description": KEYS[key][2] if key in KEYS else ""})
    if args.json:
        env.print_json(rows)
        return 0
    for line in town_common.table([[r["key"], _text(r["value"]), r["source"]] for r in rows],
                                  ["KEY", "VALUE", "SOURCE"]):
        env.write(line)
    return 0


def _target(env: Environment, args: Namespace) -> tuple[str, str, str]:
    town, _config_obj = _config(env, args)
    if getattr(args, "rig", None):
        return town.rig(args.rig).settings_path, "rig-settings", f"rig {args.rig}"
    return town.settings_path, "town-settings", "town"


def run_set(env: Environment, args: Namespace) -> int:
    from vermas.town.config import coerce, write_setting

    path, kind, where = _target(env, args)
    value = coerce(args.key, args.value)
    write_setting(path, kind, args.key, value)
    if args.json:
        env.print_json({"key": args.key, "value": value, "file": path})
    else:
        env.write(f"✓ {args.key} = {_text(value)} in {where} settings ({path})")
    return 0


def run_unset(env: Environment, args: Namespace) -> int:
    from vermas.town.config import key_type, write_setting

    key_type(args.key)
    path, kind, where = _target(env, args)
    write_setting(path, kind, args.key, None)
    if args.json:
        env.print_json({"key": args.key, "file": path, "removed": True})
    else:
        env.write(f"✓ {args.key} removed from {where} settings")
    return 0


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        import json

        return json.dumps(value)
    return str(value) if value != "" else '""'
