import threading

import pytest

from distill.ahead import one_ahead


def test_each_step_gets_its_own_inputs_and_the_next_runs_on_another_thread():
    made = []

    def make(step):
        made.append((step, threading.current_thread().name))
        return step * 10

    with one_ahead(make, end=4) as get:
        got = [get(s) for s in range(4)]
    assert got == [0, 10, 20, 30]
    assert sorted(s for s, _ in made) == [0, 1, 2, 3]  # nothing made past the end, nothing twice
    assert all(name.startswith("ahead") for _, name in made)


def test_a_resumed_loop_starts_where_it_is_asked():
    with one_ahead(lambda s: s, end=10) as get:
        assert [get(s) for s in range(7, 10)] == [7, 8, 9]


def test_a_step_asked_out_of_order_is_made_for_it():
    with one_ahead(lambda s: s, end=10) as get:
        assert get(2) == 2
        assert get(5) == 5  # 3 ran ahead and is dropped
        assert get(6) == 6


def test_an_error_in_make_reaches_the_caller():
    def make(step):
        if step == 2:
            raise ValueError("bad batch 2")
        return step

    with one_ahead(make, end=5) as get:
        assert get(0) == 0 and get(1) == 1
        with pytest.raises(ValueError, match="bad batch 2"):
            get(2)


def test_disabled_it_is_make_itself_on_this_thread():
    names = []

    def make(step):
        names.append(threading.current_thread().name)
        return -step

    with one_ahead(make, end=3, enabled=False) as get:
        assert [get(s) for s in range(3)] == [0, -1, -2]
    assert names == [threading.current_thread().name] * 3
