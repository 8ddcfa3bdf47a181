"""Documentation keeps up with the code: every command is in the README."""

from __future__ import annotations

from segmint.cli import app
from tests.conftest import REPO_ROOT


def test_every_command_is_documented() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    names = [command.name or command.callback.__name__ for command in app.registered_commands]
    assert names
    for name in names:
        assert f"segmint {name}" in readme, f"`segmint {name}` is not in the README"


def test_quick_start_commands() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    assert "\ndemo:" in makefile and "\ntest:" in makefile
    assert "make test" in (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
