"""The dangerous-command guard, as a table."""

from __future__ import annotations

import pytest

from vermas.runtime.guard import check_command

BLOCKED = [
    "rm -rf /", "rm -rf /*", "rm -fr ~", "rm -r $HOME", 'rm -rf "$HOME"', "cd x && rm -rf /", "rm --recursive /",
    "rm -rf --no-preserve-root /", "rm -rf ..", "ls | xargs rm -rf /", "sudo ls", "FOO=1 env sudo -E make",
    "doas reboot", "su -c id", "git push --force", "git push -f origin main", "git -C repo push --force-if-x -f",
    "git push origin +main", "bash -c 'git push -f'", "sh -c \"sudo x\"", "apt-get install -y jq", "apt install x",
    "yum install x", "dnf install x", "brew install x", "pacman -Syu", "mkfs.ext4 /dev/sda1",
    "dd if=/dev/zero of=/dev/sda", "shutdown -h now", "chmod -R 777 /", ":(){ :|:& };:", "echo ok; sudo rm x",
    "true\nsudo id",
]
ALLOWED = [
    "rm -rf build/", "rm -rf ./node_modules", "rm file.txt", "echo 'rm -rf /'", 'grep -r "sudo" .',
    "git push", "git push --force-with-lease origin feature", "git push origin feature-f", "pip install -e .",
    "apt-cache search jq", "python -m pytest -q", "git commit -m 'sudo make me a sandwich'", "ls -la /",
    "chmod +x script.sh", "dd if=a of=b", "",
]


@pytest.mark.parametrize("command", BLOCKED)
def test_dangerous_commands_are_blocked(command):
    assert check_command(command), command


@pytest.mark.parametrize("command", ALLOWED)
def test_ordinary_commands_pass(command):
    assert check_command(command) is None, command


def test_unbalanced_quotes_are_still_checked():
    assert check_command("sudo echo 'unterminated")
