"""Deployment time's last step (first correct answer) and the batch-1 latency parts."""

import pytest
from factories import REFUND_QA, Fixed

import labkit as lk


@pytest.mark.parametrize("text, asked, found", [("20 days", 1, True), ("It is 22 days.", 3, True), ("no", 6, False)])
def test_first_correct_stops_at_the_first_right_answer(text, asked, found):
    calls = []
    fc = lk.first_correct(Fixed("x", text, calls=calls), REFUND_QA)
    assert fc.asked == asked and (fc.record is not None) == found
    assert all(len(c) == 1 for c in calls) and len(calls) == asked  # one question at a time, then it stops
    assert fc.seconds >= 0
    if found:
        assert fc.record.contains and fc.record.phrasing == "heldout"


def test_first_correct_needs_an_answerable_question():
    with pytest.raises(ValueError, match="answerable"):
        lk.first_correct(Fixed("x", "y"), [q for q in REFUND_QA if not q.answerable])
