"""The command-line examples of docs/user_guide/cli.rst print what the page says they print.

The page's ``python`` blocks prepare the files in a fresh folder; each ``$ alignkit ...``
line of its ``console`` blocks is then run there, in order, and its standard output must
equal the lines printed under it on the page (trailing spaces aside).
"""

import contextlib
import re
import shlex
from pathlib import Path

import pytest

from alignkit.cli import main

PAGE = Path(__file__).resolve().parents[1] / "docs" / "user_guide" / "cli.rst"


def _blocks(kind):
    """The bodies of the page's ``.. code-block:: kind`` directives, dedented."""
    lines = PAGE.read_text(encoding="utf-8").splitlines()
    blocks = []
    for number, line in enumerate(lines):
        if line.strip() != f".. code-block:: {kind}":
            continue
        body = []
        for following in lines[number + 1 :]:
            if following.strip() and not following.startswith("   "):
                break
            body.append(following[3:])
        while body and not body[0].strip():
            body.pop(0)
        while body and not body[-1].strip():
            body.pop()
        blocks.append(body)
    return blocks


def _examples():
    """(command, expected output lines) for every ``$`` line of the console blocks."""
    examples = []
    for body in _blocks("console"):
        for line in body:
            if line.startswith("$ "):
                examples.append((line[2:], []))
            else:
                examples[-1][1].append(line.rstrip())
    return examples


EXAMPLES = _examples()


def test_the_page_has_examples_of_every_command():
    commands = {shlex.split(command)[1] for command, _ in EXAMPLES}
    assert commands == {"demo", "align", "pairwise", "search", "list"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli_docs")
    with contextlib.chdir(path):
        for body in _blocks("python"):
            exec(compile("\n".join(body), str(PAGE), "exec"), {})
    return path


@pytest.mark.parametrize(("command", "expected"), EXAMPLES, ids=[c for c, _ in EXAMPLES])
def test_documented_command_prints_what_the_page_shows(folder, command, expected, capsys):
    argv = shlex.split(command)
    assert argv[0] == "alignkit"
    with contextlib.chdir(folder):
        code = main(argv[1:])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    printed = [line.rstrip() for line in captured.out.splitlines()]
    assert printed == expected
    # Files the command says it wrote exist and are not empty.
    for name in re.findall(r"wrote (?:the \w+ to |)(\S+?)(?::|$)", captured.out, re.MULTILINE):
        if name.endswith((".png", ".csv", ".npy", ".json")):
            assert (folder / name).stat().st_size > 0, name


def test_listed_aligner_table_matches_the_registry():
    from alignkit import list_aligners

    (listing,) = [expected for command, expected in EXAMPLES if command == "alignkit list"]
    names = [line.split()[0] for line in listing[3:] if line.strip()]
    assert names == list_aligners()
