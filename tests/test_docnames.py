"""Which document a question names, from numbers and titles alone (#13)."""

from __future__ import annotations

import pytest

from bot.ask.docnames import Names, Naming

NAMES = Names(
    ["国发〔2019〕3号", "国办发〔2020〕3号", "川残工委〔2022〕4号"],
    [
        "国务院关于促进综合保税区高水平开放高质量发展的若干意见",
        "国务院办公厅关于进一步做好稳外贸稳外资工作的意见",
        "四川省人民政府残疾人工作委员会关于印发《四川省〈促进残疾人就业三年行动方案"
        "（2022—2024年）〉责任分工》的通知",
    ],
)


@pytest.mark.parametrize(
    ("question", "naming"),
    [
        ("国发3号文里商务部负责什么", Naming(0, "商务部负责什么")),
        ("国办发〔2020〕3号中商务部负责什么", Naming(1, "商务部负责什么")),
        ("2020年3号文 商务部负责什么", Naming(1, "商务部负责什么")),
        ("按照4号文件，人社厅负责什么", Naming(2, "人社厅负责什么")),
        ("稳外贸的文件里商务部负责什么", Naming(1, "商务部负责什么")),
        ("根据綜保區的文件，海關總署負責什麼", Naming(0, "海關總署負責什麼")),  # as typed
    ],
)
def test_a_name_of_one_document_is_found_and_cut(question: str, naming: Naming) -> None:
    assert NAMES.named(question) == naming


@pytest.mark.parametrize(
    "question",
    [
        "3号文里商务部负责什么",  # two documents are numbered 3
        "国务院的文件里商务部负责什么",  # both titles begin 国务院
        "〔2021〕3号里商务部负责什么",  # no document of 2021
        "13号文里商务部负责什么",
        "促进文物回流归谁管",
        "稳外贸有哪些措施",  # title words without 文件: a topic, not a name
    ],
)
def test_a_name_of_none_or_several_documents_names_none(question: str) -> None:
    assert NAMES.named(question) is None


def test_the_question_after_the_engine_s_limit_is_kept() -> None:
    question = "4号文里人社厅负责什么" + "。" * 400 + "尾"
    naming = NAMES.named(question)
    assert naming is not None
    assert naming.rest.startswith("人社厅负责什么")
    assert naming.rest.endswith("尾")


@pytest.mark.parametrize(
    ("text", "index"),
    [("国办发〔2020〕3号", 1), ("稳外贸", 1), ("综保区", 0), ("4号文", 2), ("3号文", None)],
)
def test_a_choice_names_a_document_by_number_or_title_words(text: str, index: int | None) -> None:
    assert NAMES.chosen(text) == index
