"""The material of ``vermas demo``: a sample repository, three feature beads, their test specs.

The demo itself (install, specs, refinery, sling, live progress, verdicts) is composed in
:mod:`vermas.cli.commands.demo`, above the town, refinery and Inspector layers it drives.
What it does:

1. install a town; create a sample repository (a tiny calculator with a unittest suite);
   add it as rig ``calc`` with a test gate (``python -m unittest -q``);
2. write three beads, each a small feature with a fenced ```sim block (what the simulated
   agent types; Claude Code reads the same bead as a task description), and give each an
   approved test spec (the acceptance criteria the Inspector checks; ``sling`` refuses work
   without one);
3. start the rig's refinery (the merge queue, with the Inspector as its last stage) and sling
   the beads together (one convoy) to three polecats running the simulated agent (or
   ``--runtime claude``), on a private tmux server (``vermas-demo-<pid>``);
4. show one live line per bead until every bead is verified and merged. With the simulated
   agent, the polecat of ``power`` first writes a subtly wrong solution (the sim's
   ``wrong-solution=first`` fault): the Inspector rejects it with the failed criterion and
   the fix, the polecat is re-slung with that context, fixes it, and it merges;
5. summarise: each bead's verdicts, the merges, the time taken, and where to look.
"""

from __future__ import annotations

import os
import subprocess

RIG = "calc"
PREFIX = "ca"
DEMO_RUNTIME = "sim-demo"  # the sim, making one honest mistake (beads with a ```sim-wrong block, first attempt)

SAMPLE_FILES = {
    "README.md": "# calc\n\nA tiny calculator. Run the tests with `python -m unittest -q`.\n",
    "calc.py": '"""A tiny calculator."""\n\n\ndef add(a, b):\n    return a + b\n',
    "test_calc.py": ("import unittest\n\nimport calc\n\n\nclass AddTest(unittest.TestCase):\n"
                     "    def test_add(self):\n        self.assertEqual(calc.add(2, 3), 5)\n\n\n"
                     "if __name__ == \"__main__\":\n    unittest.main()\n"),
    ".gitignore": "__pycache__/\n",
}

FEATURES = [  # title, function, expression, (call, expected), (wrong expression, its value) of a first attempt, hint
    ("Add subtract(a, b)", "subtract", "a - b", ("subtract(7, 3)", "4"), None, ""),
    ("Add multiply(a, b)", "multiply", "a * b", ("multiply(6, 7)", "42"), None, ""),
    ("Add power(a, b)", "power", "a ** b", ("power(2, 10)", "1024"), ("a * b", "20"), "use a ** b, not a * b"),
]


def bead_description(func: str, expr: str, check: tuple[str, str], wrong: tuple[str, str] | None = None) -> str:
    """A task a human (or Claude) can read, with the sim agent's steps in a ```sim block.

    Each feature is its own module (``<func>.py`` and ``test_<func>.py``), so the three
    branches merge without conflicts. ``wrong`` adds the ```sim-wrong block the sim runs on
    its first attempt under the demo's fault.
    """
    test_name = f"test_{func}.py"
    call, expected = check
    test_body = (f"import unittest\\n\\nfrom {func} import {func}\\n\\n\\n"
                 f"class {func.title()}Test(unittest.TestCase):\\n"
                 f"    def test_{func}(self):\\n        self.assertEqual({call}, {expected})\\n")
    text = (f"Add `{func}(a, b)` returning `{expr}` in a new module {func}.py, with a unit test in {test_name}.\n\n"
            f"Acceptance: `python -m unittest -q` passes and `{call} == {expected}`.\n\n"
            "```sim\n"
            f"printf 'def {func}(a, b):\\n    return {expr}\\n' > {func}.py\n"
            f"printf '{test_body}' > {test_name}\n"
            "python -m unittest -q\n"
            "```\n")
    if wrong:  # the wrong code, and a test written to match it: the polecat's own tests pass
        wrong_expr, wrong_value = wrong
        wrong_test = test_body.replace(f"{call}, {expected}", f"{call}, {wrong_value}")
        text += ("\n```sim-wrong\n"
                 f"printf 'def {func}(a, b):\\n    return {wrong_expr}\\n' > {func}.py\n"
                 f"printf '{wrong_test}' > {test_name}\n"
                 "python -m unittest -q\n"
                 "```\n")
    return text


def spec_criteria(func: str, check: tuple[str, str], hint: str) -> list[tuple[str, str, str]]:
    """``(description, command, hint)`` of the three acceptance criteria of a feature."""
    call, expected = check
    return [
        (f"{call} == {expected}", f"python -c 'from {func} import {func}; assert {call} == {expected}, {call}'",
         hint),
        (f"{func} has a unit test", f"grep -q 'def test_{func}' test_{func}.py", f"add test_{func}.py"),
        ("the whole test suite passes", "python -m unittest -q", ""),
    ]


def _git(args: list[str], cwd: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "VerMAS demo", "GIT_AUTHOR_EMAIL": "demo@vermas.local",
           "GIT_COMMITTER_NAME": "VerMAS demo", "GIT_COMMITTER_EMAIL": "demo@vermas.local"}
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True)


def make_sample_repo(path: str) -> str:
    os.makedirs(path, exist_ok=True)
    _git(["init", "--quiet", "-b", "main"], path)
    for name, text in SAMPLE_FILES.items():
        with open(os.path.join(path, name), "w", encoding="utf-8") as fh:
            fh.write(text)
    _git(["add", "-A"], path)
    _git(["commit", "--quiet", "-m", "calc: add()"], path)
    return path
