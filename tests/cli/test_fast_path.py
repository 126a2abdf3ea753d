"""The hook-path fast path runs the same handler with the same arguments argparse would give."""

import importlib
import io

import pytest

from vermas.cli import main as cli_main
from vermas.cli.env import Environment
from vermas.cli.registry import FAST_PATHS


def _capture(monkeypatch, target: str) -> list:
    module_name, _sep, function = target.partition(":")
    module = importlib.import_module(module_name)
    seen: list = []

    def recorder(env, args):
        seen.append({k: v for k, v in vars(args).items() if k != "handler"})
        return 0

    monkeypatch.setattr(module, function, recorder)
    return seen


@pytest.mark.parametrize("argv", sorted(FAST_PATHS), ids=" ".join)
def test_fast_path_namespace_equals_argparse(argv, monkeypatch):
    target, values = FAST_PATHS[argv]
    seen = _capture(monkeypatch, target)
    env = Environment(stdin=io.StringIO(""), stdout=io.StringIO(), stderr=io.StringIO(), environ={})
    assert cli_main._run_command(list(argv), env) == 0  # the argparse route, through the recorder
    assert seen == [values]
    assert cli_main.main(list(argv), env) == 0  # main takes the fast route for this argv
    assert seen[1] == values


def test_other_argv_still_goes_through_argparse(cli):
    result = cli("prime", "--hook", "--bogus")
    assert result.exit_code == 2
    assert "--bogus" in result.stderr


def test_hook_commands_do_not_import_argparse(tmp_path):
    import subprocess
    import sys

    code = ("import sys, io; from vermas.cli.main import main; "
            "from vermas.cli.env import Environment; "
            "main(['signal', 'guard'], Environment(stdin=io.StringIO('{}'), stdout=io.StringIO(), "
            "stderr=io.StringIO(), environ={})); print('argparse' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert out.stdout.strip() == "False", out.stderr
