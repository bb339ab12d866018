"""Text normalisation and tokens: what every index and question goes through."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.ask.text import SOUND_TABLE, bigrams, is_cjk, normalize, runs, sound, sound_table


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        ("人社廳負責哪些任務", "人社厅负责哪些任务"),  # Traditional
        ("７．２", "7.2"),  # full width
        ("ABC 人社厅", "abc 人社厅"),  # case
    ],
)
def test_normalize_folds_every_spelling(typed: str, normal: str) -> None:
    assert normalize(typed) == normal


def test_runs_split_chinese_from_latin_and_digits() -> None:
    assert runs("盲人按摩，50人以上abc") == ["盲人按摩", "50", "人以上", "abc"]


def test_financial_numerals_are_read_but_zero_stays_a_word() -> None:
    assert normalize("第伍项任务第贰条") == "第五项任务第二条"
    # 零 writes words too (零售, 零工, 零就业家庭): a word is one run, not split at it.
    assert runs(normalize("报刊零售亭和零工市场")) == ["报刊零售亭和零工市场"]


def test_bigrams_overlap_and_keep_short_runs_whole() -> None:
    assert bigrams("盲人按摩") == ["盲人", "人按", "按摩"]
    assert bigrams("盲") == ["盲"]
    assert bigrams("abc") == ["abc"]
    assert is_cjk("盲人")
    assert not is_cjk("a盲")


@pytest.mark.parametrize(
    ("slip", "meant"),
    [("按磨", "按摩"), ("拖养", "托养"), ("就叶", "就业"), ("杠位", "岗位")],
)
def test_same_sounding_characters_sound_alike(slip: str, meant: str) -> None:
    assert sound(slip) == sound(meant)


def test_different_words_sound_different() -> None:
    assert sound("按摩") != sound("培训")
    assert sound("按摩") == "an mo"  # toneless, a space between characters


def test_sound_table_is_pypinyins_reading_of_each_character() -> None:
    """bot/sounds.txt is what pypinyin reads today (rewrite it with `python -m bot.ask.text`)."""
    assert SOUND_TABLE.read_text(encoding="utf-8") == sound_table()


def test_a_character_without_a_reading_stands_for_itself() -> None:
    assert sound("龦a") == "龦 a"
    assert sound("绿") == "lv"  # pypinyin's toneless ü


def test_answering_does_not_load_pypinyin() -> None:
    """Importing pypinyin costs a tenth of a second at every start; the table replaces it."""
    code = (
        "import sys; from bot.cli import main; main(['ask', '按磨 人社厅负责什么']);"
        "sys.exit(3 if 'pypinyin' in sys.modules else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()
    assert "人力资源社会保障厅" in done.stdout.decode()
