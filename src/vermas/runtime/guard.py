"""The PreToolUse guard: decide whether a shell command an agent wants to run is too dangerous.

Used by ``vermas signal guard`` (Claude Code ``PreToolUse`` hook on ``Bash``; exit 2 blocks).
The command is tokenised like a shell would (quotes respected), split into simple commands
at ``;``, ``&&``, ``||``, ``|``, ``&`` and newlines, and each simple command is checked
after skipping ``VAR=value`` assignments and wrappers (``env``, ``command``, ``exec``,
``nohup``, ``time``, ``xargs``). Text inside quotes is never mistaken for a command
(``echo 'rm -rf /'`` is allowed); ``bash -c '…'`` and ``sh -c '…'`` are checked recursively.

Blocked (each with a reason the agent sees):

- ``rm`` recursive on ``/``, ``/*``, ``~``, ``$HOME``, ``..`` or a top-level system directory
- ``git push --force`` / ``-f`` / ``+refspec`` (``--force-with-lease`` is allowed)
- ``sudo``, ``su``, ``doas``
- system package installs: ``apt``/``apt-get``/``dnf``/``yum``/``zypper install``, ``pacman -S``, ``brew install``
- ``mkfs*``, ``dd`` onto ``/dev/…``, ``shutdown``, ``reboot``, ``halt``, ``poweroff``
- ``chmod``/``chown`` recursive on ``/``
- the fork bomb ``:(){ :|:& };:``

Hot path: standard library only (``shlex``).
"""

from __future__ import annotations

WRAPPERS = ("env", "command", "exec", "nohup", "time", "xargs", "nice", "stdbuf")
SYSTEM_DIRS = ("/", "/*", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/opt", "/proc", "/root", "/sbin",
               "/sys", "/usr", "/var", "~", "~/", "$HOME", "${HOME}", "$HOME/", "..", "../", "/.")
PACKAGE_MANAGERS = {"apt": ("install",), "apt-get": ("install",), "dnf": ("install",), "yum": ("install",),
                    "zypper": ("install", "in"), "brew": ("install",), "snap": ("install",)}
OPERATORS = (";", "&&", "||", "|", "&", "\n", ";;", "|&", "(", ")")


def check_command(command: str) -> str | None:
    """Why ``command`` must be blocked, or None when it may run."""
    compact = command.replace(" ", "")
    if ":(){:|:&};:" in compact:
        return "fork bomb"
    for simple in _simple_commands(command):
        reason = _check_simple(simple)
        if reason:
            return reason
    return None


def _simple_commands(command: str) -> list[list[str]]:
    import shlex

    lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|()\n")
    lexer.whitespace = " \t\r"
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        tokens = list(lexer)
    except ValueError:  # unbalanced quotes: fall back to plain splitting so nothing slips through unchecked
        tokens = command.replace(";", " ; ").replace("&&", " && ").replace("||", " || ").replace("|", " | ").split()
    commands: list[list[str]] = []
    current: list[str] = []
    for token in tokens:
        if token in OPERATORS or (token and set(token) <= set(";&|()\n")):
            if current:
                commands.append(current)
            current = []
        else:
            current.append(token)
    if current:
        commands.append(current)
    return commands


def _strip_prefixes(argv: list[str]) -> list[str]:
    i = 0
    while i < len(argv):
        word = argv[i]
        if "=" in word and not word.startswith("-") and word.split("=", 1)[0].replace("_", "a").isalnum():
            i += 1
            continue
        base = word.rsplit("/", 1)[-1]
        if base in WRAPPERS:
            i += 1
            while i < len(argv) and argv[i].startswith("-"):
                i += 1
            continue
        break
    return argv[i:]


def _check_simple(argv: list[str]) -> str | None:
    argv = _strip_prefixes(argv)
    if not argv:
        return None
    prog = argv[0].rsplit("/", 1)[-1]
    args = argv[1:]
    if prog in ("sudo", "su", "doas"):
        return f"{prog}: agents may not escalate privileges"
    if prog in ("bash", "sh", "zsh", "dash") and "-c" in args:
        index = args.index("-c")
        if index + 1 < len(args):
            return check_command(args[index + 1])
        return None
    if prog == "rm":
        return _check_rm(args)
    if prog == "git":
        return _check_git(args)
    if prog in PACKAGE_MANAGERS and any(a in PACKAGE_MANAGERS[prog] for a in args[:2]):
        return f"{prog} {args[0]}: system package installs are not allowed (use the project's own tooling)"
    if prog == "pacman" and any(a.startswith("-S") for a in args):
        return "pacman -S: system package installs are not allowed"
    if prog.startswith("mkfs"):
        return f"{prog}: formatting filesystems is not allowed"
    if prog == "dd" and any(a.startswith("of=/dev/") for a in args):
        return "dd onto a device is not allowed"
    if prog in ("shutdown", "reboot", "halt", "poweroff"):
        return f"{prog}: agents may not stop the machine"
    if prog in ("chmod", "chown") and _recursive(args) and any(a in ("/", "/*") for a in args):
        return f"{prog} -R on /: not allowed"
    return None


def _recursive(args: list[str]) -> bool:
    for a in args:
        if a in ("--recursive",):
            return True
        if a.startswith("-") and not a.startswith("--") and ("r" in a or "R" in a):
            return True
    return False


def _check_rm(args: list[str]) -> str | None:
    if not _recursive(args):
        return None
    targets = [a for a in args if not a.startswith("-") or a == "-"]
    if "--no-preserve-root" in args:
        return "rm --no-preserve-root: not allowed"
    for target in targets:
        cleaned = target.rstrip("/") or "/"
        if target in SYSTEM_DIRS or cleaned in SYSTEM_DIRS or cleaned in ("~", "$HOME", "${HOME}", ".."):
            return f"rm -r {target}: deleting {target} is not allowed"
    return None


def _check_git(args: list[str]) -> str | None:
    # skip global options such as -C <dir>, -c k=v
    i = 0
    while i < len(args) and args[i].startswith("-"):
        i += 2 if args[i] in ("-C", "-c") else 1
    if i >= len(args) or args[i] != "push":
        return None
    rest = args[i + 1:]
    for a in rest:
        if a in ("--force", "-f") or (a.startswith("-") and not a.startswith("--") and "f" in a[1:]):
            return "git push --force: rewriting shared history is not allowed (use --force-with-lease if you must)"
        if a.startswith("+") and len(a) > 1:
            return f"git push {a}: a forced refspec rewrites shared history"
    return None
