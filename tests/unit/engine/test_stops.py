from __future__ import annotations

from desktop_app.engine.stops import StopSequenceFilter


def run(pieces: list[str], stops: list[str]) -> tuple[list[str], bool]:
    f = StopSequenceFilter(stops)
    shown = [f.feed(p) for p in pieces]
    if not f.stopped:
        shown.append(f.flush())
    return shown, f.stopped


def test_cuts_at_a_stop_sequence_split_across_pieces() -> None:
    shown, stopped = run(["Hel", "lo ST", "OP more"], ["STOP"])
    assert "".join(shown) == "Hello "
    assert stopped


def test_holds_back_a_possible_prefix_then_releases_it() -> None:
    shown, stopped = run(["a S", "T", "x"], ["STOP"])
    assert shown == ["a ", "", "STx", ""]
    assert not stopped


def test_earliest_of_several_stops_wins() -> None:
    shown, stopped = run(["one\nUser: two ###"], ["###", "\nUser:"])
    assert "".join(shown) == "one"
    assert stopped


def test_without_stops_text_passes_through() -> None:
    shown, stopped = run(["a", "b"], [])
    assert shown == ["a", "b", ""] and not stopped


def test_held_text_is_flushed_at_the_end() -> None:
    shown, _ = run(["end with S"], ["STOP"])
    assert "".join(shown) == "end with S"
