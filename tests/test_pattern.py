"""Patterns compiled on first use, and kept between processes (bot/documents/pattern.py)."""

from __future__ import annotations

import _sre  # type: ignore[import-not-found]
import copy
import json
import marshal
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.ask.pattern import lazy
from bot.documents import pattern
from tests.test_cli import run_bot


def test_a_lazy_pattern_is_compiled_only_when_used() -> None:
    pattern = lazy(r"(\d+)号")
    assert pattern.pattern == r"(\d+)号"
    assert pattern.flags == 0
    assert "search" not in vars(pattern)  # nothing compiled yet
    assert pattern.search("第39号文") is not None
    assert "search" in vars(pattern)


def test_a_lazy_pattern_answers_as_the_compiled_one() -> None:
    text = "川残工委〔2022〕4号、川残工委〔2023〕12号"
    for source, flags in ((r"〔(\d{4})〕(\d+)号", 0), (r"^川", re.MULTILINE), (r"x?", 0)):
        made, compiled = lazy(source, flags), re.compile(source, flags)
        assert [m.groups() for m in made.finditer(text)] == [
            m.groups() for m in compiled.finditer(text)
        ]
        assert made.sub("#", text) == compiled.sub("#", text)
        assert made.findall(text) == compiled.findall(text)
        assert made.split(text) == compiled.split(text)
        assert made.groups == compiled.groups


def test_a_lazy_pattern_embeds_and_copies_as_its_source() -> None:
    """Built into a larger pattern (f"(?:{p.pattern})…") without being compiled."""
    part = lazy("四川|广东")
    whole = re.compile(f"(?:{part.pattern})省")
    assert whole.findall("四川省和广东省") == ["四川省", "广东省"]
    assert copy.copy(part).pattern == part.pattern


# -- compiled patterns kept between processes (bot/documents/pattern.py) ---------------------

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [
    (r"〔(\d{4})〕(?P<n>\d+)号", 0),
    (r"^川", re.MULTILINE),
    (r"(?i)abc|[\u4e00-\u9fff]{2,4}(?=局)", 0),
    ("|".join(sorted(("人社厅", "人力资源社会保障厅", "残联", "省残联"), key=len)), 0),
]


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    """A cache folder; the module's state back to none afterwards."""
    yield tmp_path / "cache"
    pattern.keep(None)


def compile_all(folder: Path) -> None:
    """Compile SOURCES as one process would with `folder`, and write what it compiled."""
    with pattern.kept(folder):
        for source, flags in SOURCES:
            pattern.compiled(source, flags)


def never_compiled(source: str, flags: int) -> None:
    raise AssertionError(f"compiled again: {source}")


def test_a_kept_pattern_is_read_back_as_re_compiles_it(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    compile_all(folder)
    assert (folder / pattern.FILE).exists()
    # The next process: read from the file, nothing compiled. Equal patterns have the same
    # program (CPython compares the compiled code).
    monkeypatch.setattr(pattern, "_program", never_compiled)
    pattern.keep(folder)
    for source, flags in SOURCES:
        made = pattern.compiled(source, flags)
        assert made == re.compile(source, flags)
        assert (made.groups, made.groupindex) == (
            re.compile(source, flags).groups,
            re.compile(source, flags).groupindex,
        )


def test_a_file_of_another_python_is_not_read_and_is_rewritten(folder: Path) -> None:
    folder.mkdir()
    # Another interpreter's program for "a" (here: the program of "b").
    other = pattern._program("b", 0)
    (folder / pattern.FILE).write_bytes(marshal.dumps(("Python 2.0", {("a", 0): other})))
    with pattern.kept(folder):
        assert pattern.compiled("a").fullmatch("a")
    stamp, entries = marshal.loads((folder / pattern.FILE).read_bytes())
    assert stamp == pattern._STAMP
    assert entries == {("a", 0): pattern._program("a", 0)}


@pytest.mark.parametrize(
    "damage",
    [
        b"",  # cut off
        b"\x00garbage\xff" * 10,
        marshal.dumps(["not", "a", "pair"]),
        marshal.dumps((pattern._STAMP, ["not", "a", "dict"])),
    ],
)
def test_a_damaged_file_is_ignored_and_rewritten(folder: Path, damage: bytes) -> None:
    folder.mkdir()
    (folder / pattern.FILE).write_bytes(damage)
    compile_all(folder)
    pattern.keep(folder)
    assert len(pattern._known) == len(SOURCES)


def test_a_damaged_entry_is_compiled_afresh_and_rewritten(folder: Path) -> None:
    compile_all(folder)
    stamp, entries = marshal.loads((folder / pattern.FILE).read_bytes())
    key = SOURCES[0]
    flags, code, groups, groupindex, indexgroup = entries[key]
    entries[key] = (flags, [*code[:5], 9999, *code[6:]], groups, groupindex, indexgroup)
    entries[SOURCES[1]] = "not an entry"
    (folder / pattern.FILE).write_bytes(marshal.dumps((stamp, entries)))
    with pattern.kept(folder):
        assert pattern.compiled(*key) == re.compile(*key)
        assert pattern.compiled(*SOURCES[1]) == re.compile(*SOURCES[1])
    assert marshal.loads((folder / pattern.FILE).read_bytes())[1][key] == pattern._program(*key)


def test_a_folder_that_cannot_be_written_leaves_the_patterns_compiled(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder would be")
    with pattern.kept(blocked / "cache"):
        assert pattern.compiled(*SOURCES[0]) == re.compile(*SOURCES[0])


def ask(tmp_path: Path, cache: str, *args: str, stdin: str = "") -> str:
    """Run `python -m bot ask` with FENGONG_CACHE=`cache`; return what it printed."""
    done = run_bot("ask", *args, stdin=stdin, tmp=tmp_path, env={"FENGONG_CACHE": cache})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_ask_answers_alike_with_its_patterns_kept_or_not(tmp_path: Path) -> None:
    lines = (ROOT / "tests/data/blind/notice-everyday.jsonl").read_text(encoding="utf-8")
    questions = "".join(json.loads(line)["q"] + "\n" for line in lines.splitlines())
    cache = tmp_path / "cache"
    afresh = ask(tmp_path, "off", "--json", stdin=questions)
    assert not cache.exists()
    assert ask(tmp_path, str(cache), "--json", stdin=questions) == afresh  # compiles, keeps
    kept = (cache / pattern.FILE).read_bytes()
    assert ask(tmp_path, str(cache), "--json", stdin=questions) == afresh  # reads them
    # Every pattern the answers needed was in the file: nothing new was written.
    assert (cache / pattern.FILE).read_bytes() == kept
    _, entries = marshal.loads(kept)
    for (source, flags), entry in entries.items():
        assert _sre.compile(source, *entry) == re.compile(source, flags)


def test_a_unit_named_anew_is_found_with_the_patterns_kept(tmp_path: Path) -> None:
    """Another developer edits the names (or the concept map): the patterns are new ones."""
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    cache = str(tmp_path / "cache")
    before = ask(tmp_path, cache, "--data", str(data), "社保大厅负责什么")
    assert "人力资源社会保障厅" not in before
    units = data / "units.yaml"
    text = units.read_text(encoding="utf-8")
    named = text.replace("    aliases: [人社厅,", "    aliases: [社保大厅, 人社厅,", 1)
    assert named != text
    units.write_text(named, encoding="utf-8")
    after = ask(tmp_path, cache, "--data", str(data), "社保大厅负责什么")
    assert "人力资源社会保障厅" in after
    assert after == ask(tmp_path, "off", "--data", str(data), "社保大厅负责什么")


# -- other data derived from a document, `remembered` --------------------------------------


def test_a_value_is_remembered_for_equal_inputs_only(folder: Path) -> None:
    made: list[str] = []

    def make(value: str) -> dict[str, tuple[str, ...]]:
        made.append(value)
        return {value: (value, "词")}

    with pattern.kept(folder):
        assert pattern.remembered("test", "v1", {"a": 1.5}, lambda: make("one")) == {
            "one": ("one", "词")
        }
    with pattern.kept(folder):  # the next process: read back, not made
        first = pattern.remembered("test", "v1", {"a": 1.5}, lambda: make("again"))
        # Other inputs (an edited map, another document): made, and kept beside the first.
        other = pattern.remembered("test", "v1", {"a": 2.5}, lambda: make("two"))
    assert (first, other) == ({"one": ("one", "词")}, {"two": ("two", "词")})
    with pattern.kept(folder):
        assert pattern.remembered("test", "v1", {"a": 1.5}, lambda: make("3")) == first
        assert pattern.remembered("test", "v1", {"a": 2.5}, lambda: make("4")) == other
    assert made == ["one", "two"]
    with pattern.kept(folder):  # the code that makes it changed: made again
        assert pattern.remembered("test", "v2", {"a": 1.5}, lambda: make("six")) == {
            "six": ("six", "词")
        }
    assert made == ["one", "two", "six"]
    # Outside `kept` nothing is read or written.
    assert pattern.remembered("test", "v1", {"a": 1.5}, lambda: make("5")) == {"5": ("5", "词")}


@pytest.mark.parametrize("damage", [b"", b"\x00garbage\xff", marshal.dumps(("other", "v1", []))])
def test_a_damaged_or_stale_value_is_made_again_and_rewritten(
    folder: Path, damage: bytes
) -> None:
    folder.mkdir()
    (folder / "test.marshal").write_bytes(damage)
    with pattern.kept(folder):
        assert pattern.remembered("test", "v1", "in", lambda: "made") == "made"
    with pattern.kept(folder):
        assert pattern.remembered("test", "v1", "in", lambda: "made again") == "made"


def test_a_file_grown_too_large_keeps_the_patterns_last_used(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    compile_all(folder)
    monkeypatch.setattr(pattern, "MAX_CODE", 1)
    with pattern.kept(folder):
        pattern.compiled(*SOURCES[0])
        pattern.compiled("new")  # something compiled anew: the file is written
    _, entries = marshal.loads((folder / pattern.FILE).read_bytes())
    assert set(entries) == {SOURCES[0], ("new", 0)}
