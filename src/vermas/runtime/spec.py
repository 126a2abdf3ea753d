"""A runtime described by data: :class:`RuntimeSpec`, parsed and validated from a dict or TOML table.

Built-in presets (:mod:`vermas.runtime.presets`) and user-defined runtimes go through the
same parser, so a preset is just a table a user could have written. The contract (one
table per runtime; every key optional except ``command`` unless ``extends`` is given)::

    [runtimes.mycli]
    extends = "claude"                 # start from another runtime, then override keys
    description = "my wrapper around claude"
    command = "mycli"                  # binary name (looked up on PATH) or absolute path
    args = ["--yolo"]                  # default arguments of interactive sessions
    env = { FOO = "1" }                # extra environment of sessions and headless runs
    prompt_mode = "arg"                # how the first prompt is given: "arg" (last argv) | "none" (typed)
    ready_prompt_prefix = "❯ "         # ready when a line starts with this; "" = use ready_delay_ms
    ready_delay_ms = 10000             # fixed wait when there is no prompt prefix
    busy_markers = ["esc to interrupt"]  # case-insensitive pane text meaning "working"
    process_names = ["mycli", "node"]  # what the pane's foreground process may be called
    hooks = "claude"                   # "claude" (settings JSON via settings_flag) | "none"
    settings_flag = "--settings"
    instructions_file = "CLAUDE.md"    # where role text goes in the working directory ("" = none)
    resume_flag = "--resume"           # resume a conversation by id ("" = cannot resume)
    continue_flag = "--continue"       # continue the most recent conversation
    resume_style = "flag"              # "flag" (cmd --resume ID) | "subcommand" (cmd resume ID)
    paste = "bracketed"                # multi-line input: "bracketed" paste | "keys" (newlines -> spaces)
    settle_ms = 500                    # pause between the text showing up and Enter (paste debounce)
    interrupt_keys = ["Escape"]        # tmux key names that interrupt the agent
    clear_input_keys = ["C-u"]         # keys that clear a half-typed input line
    dialogs = ["workspace-trust", "bypass-permissions"]  # startup dialogs to detect and answer
    version_args = ["--version"]

    [runtimes.mycli.headless]          # non-interactive one-shot form ("" command = same as above)
    command = ""
    args = ["-p", "{prompt}", "--output-format", "json"]   # {prompt} is replaced by the prompt
    stdin_args = ["-p", "--output-format", "json"]         # used when the prompt is sent on stdin
    output = "claude-json"             # claude-json | gemini-json | codex-jsonl | text
    env = {}

Unknown keys are errors (a typo must not silently change behaviour).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from vermas.runtime.errors import RuntimeConfigError

PROMPT_MODES = ("arg", "none")
HOOK_PROVIDERS = ("claude", "none")
RESUME_STYLES = ("flag", "subcommand")
PASTE_MODES = ("bracketed", "keys")
OUTPUT_FORMATS = ("claude-json", "gemini-json", "codex-jsonl", "text")
DIALOGS = ("workspace-trust", "bypass-permissions")


@dataclass(frozen=True)
class HeadlessSpec:
    """How to run one non-interactive prompt."""

    command: str = ""
    args: tuple[str, ...] = ()
    stdin_args: tuple[str, ...] = ()
    output: str = "text"
    env: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RuntimeSpec:
    """Everything VerMAS needs to know to run, drive and observe one agent CLI."""

    name: str
    command: str
    description: str = ""
    args: tuple[str, ...] = ()
    env: dict = field(default_factory=dict)
    prompt_mode: str = "arg"
    ready_prompt_prefix: str = ""
    ready_delay_ms: int = 5000
    busy_markers: tuple[str, ...] = ()
    process_names: tuple[str, ...] = ()
    hooks: str = "none"
    settings_flag: str = ""
    instructions_file: str = ""
    resume_flag: str = ""
    continue_flag: str = ""
    resume_style: str = "flag"
    paste: str = "bracketed"
    settle_ms: int = 300
    interrupt_keys: tuple[str, ...] = ("C-c",)
    clear_input_keys: tuple[str, ...] = ("C-u",)
    dialogs: tuple[str, ...] = ()
    version_args: tuple[str, ...] = ("--version",)
    headless: HeadlessSpec | None = None
    source: str = "preset"

    @property
    def supports_hooks(self) -> bool:
        """True when turn-boundary hooks run our commands (nudge queues drain by themselves)."""
        return self.hooks == "claude"

    def to_dict(self) -> dict:
        """The spec as plain data (lists, dicts), in the config contract's key names."""
        data = asdict(self)
        for key, value in list(data.items()):
            if isinstance(value, tuple):
                data[key] = list(value)
        if self.headless is not None:
            data["headless"] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self.headless).items()}
        return data

    def with_overrides(self, **changes: object) -> RuntimeSpec:
        return replace(self, **changes)


_LIST_KEYS = ("args", "busy_markers", "process_names", "interrupt_keys", "clear_input_keys", "dialogs", "version_args")
_STR_KEYS = ("command", "description", "ready_prompt_prefix", "settings_flag", "instructions_file", "resume_flag",
             "continue_flag")
_CHOICES = {"prompt_mode": PROMPT_MODES, "hooks": HOOK_PROVIDERS, "resume_style": RESUME_STYLES,
            "paste": PASTE_MODES}
_INT_KEYS = ("ready_delay_ms", "settle_ms")
_ALLOWED = set(_LIST_KEYS) | set(_STR_KEYS) | set(_CHOICES) | set(_INT_KEYS) | {"env", "headless", "extends"}
_HEADLESS_ALLOWED = {"command", "args", "stdin_args", "output", "env"}


def parse_runtime(name: str, table: dict, *, base: RuntimeSpec | None = None, source: str = "config") -> RuntimeSpec:
    """Build a :class:`RuntimeSpec` from one config table (``extends`` resolved by the caller into ``base``)."""
    if not isinstance(table, dict):
        raise _bad(name, source, None, f"must be a table, got {type(table).__name__}")
    unknown = sorted(set(table) - _ALLOWED)
    if unknown:
        raise _bad(name, source, unknown[0], "unknown key", hint="allowed keys: " + ", ".join(sorted(_ALLOWED)))
    values: dict = {} if base is None else {k: getattr(base, k) for k in base.__dataclass_fields__}
    values["name"] = name
    values["source"] = source
    for key in _STR_KEYS:
        if key in table:
            values[key] = _string(name, source, key, table[key])
    for key in _LIST_KEYS:
        if key in table:
            values[key] = _string_list(name, source, key, table[key])
    for key, choices in _CHOICES.items():
        if key in table:
            value = _string(name, source, key, table[key])
            if value not in choices:
                raise _bad(name, source, key, f"must be one of {', '.join(choices)}, got {value!r}")
            values[key] = value
    if "env" in table:
        values["env"] = _string_map(name, source, "env", table["env"])
    for key in _INT_KEYS:
        if key in table:
            number = table[key]
            if isinstance(number, bool) or not isinstance(number, int) or number < 0:
                raise _bad(name, source, key, f"must be an integer >= 0, got {number!r}")
            values[key] = number
    if "dialogs" in values:
        for dialog in values["dialogs"]:
            if dialog not in DIALOGS:
                raise _bad(name, source, "dialogs", f"unknown dialog {dialog!r} (known: {', '.join(DIALOGS)})")
    if "headless" in table:
        values["headless"] = _headless(name, source, table["headless"], values.get("headless"))
    if not values.get("command"):
        raise _bad(name, source, "command", "is required (the binary to run)")
    return RuntimeSpec(**values)


def _headless(name: str, source: str, table: object, base: HeadlessSpec | None) -> HeadlessSpec | None:
    if table is None or table is False:
        return None
    if not isinstance(table, dict):
        raise _bad(name, source, "headless", "must be a table")
    unknown = sorted(set(table) - _HEADLESS_ALLOWED)
    if unknown:
        raise _bad(name, source, f"headless.{unknown[0]}", "unknown key",
                   hint="allowed keys: " + ", ".join(sorted(_HEADLESS_ALLOWED)))
    values = asdict(base) if base is not None else {}
    values = {k: (tuple(v) if isinstance(v, list) else v) for k, v in values.items()}
    if "command" in table:
        values["command"] = _string(name, source, "headless.command", table["command"])
    for key in ("args", "stdin_args"):
        if key in table:
            values[key] = _string_list(name, source, f"headless.{key}", table[key])
    if "output" in table:
        output = _string(name, source, "headless.output", table["output"])
        if output not in OUTPUT_FORMATS:
            raise _bad(name, source, "headless.output", f"must be one of {', '.join(OUTPUT_FORMATS)}, got {output!r}")
        values["output"] = output
    if "env" in table:
        values["env"] = _string_map(name, source, "headless.env", table["env"])
    spec = HeadlessSpec(**values)
    if spec.args and "{prompt}" not in spec.args:
        raise _bad(name, source, "headless.args", "must contain a \"{prompt}\" argument")
    if not spec.args and not spec.stdin_args:
        raise _bad(name, source, "headless", "needs args (with \"{prompt}\") or stdin_args")
    return spec


def _bad(name: str, source: str, key: str | None, reason: str, hint: str | None = None) -> RuntimeConfigError:
    where = f"runtime {name!r}" + (f" ({source})" if source not in ("config", "preset") else "")
    what = f"{where}: key {key!r} {reason}" if key else f"{where}: {reason}"
    return RuntimeConfigError(what, hint=hint or "see docs/RUNTIME.md, 'Runtimes as data', for the table's keys")


def _string(name: str, source: str, key: str, value: object) -> str:
    if not isinstance(value, str):
        raise _bad(name, source, key, f"must be a string, got {value!r}")
    return value


def _string_list(name: str, source: str, key: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise _bad(name, source, key, f"must be a list of strings, got {value!r}")
    return tuple(value)


def _string_map(name: str, source: str, key: str, value: object) -> dict:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise _bad(name, source, key, f"must be a table of string values, got {value!r}")
    return dict(value)
