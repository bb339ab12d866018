"""The switch that one-shot commands turn on: on inside the block, as before after it."""

from __future__ import annotations

import pytest

from bot.switch import Switch


def test_on_only_inside_the_block() -> None:
    switch = Switch()
    assert not switch.on
    with switch.turned_on():
        assert switch.on
    assert not switch.on


def test_a_nested_block_leaves_it_on_for_the_outer_one() -> None:
    switch = Switch()
    with switch.turned_on():
        with switch.turned_on():
            assert switch.on
        assert switch.on
    assert not switch.on


def test_off_again_after_an_error_in_the_block() -> None:
    switch = Switch()
    with pytest.raises(ValueError, match="boom"), switch.turned_on():
        raise ValueError("boom")
    assert not switch.on
