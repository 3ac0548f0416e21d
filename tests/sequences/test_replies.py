"""What an inbound text means. When in doubt between a reply and an opt-out: opt-out."""

import pytest

from sequences.replies import HELP, REPLY, START, STOP, classify


@pytest.mark.parametrize(
    "body",
    [
        "STOP",
        "stop",
        "  Stop  ",
        "Stop.",
        "STOP!!",
        "StopAll",
        "UNSUBSCRIBE",
        "cancel",
        "End",
        "quit",
        "REVOKE",
        "optout",
        "please stop texting me",
        "Please stop",
        "Stop sending me these messages",
        "stop the texts",
        "Do not text this number again",
        "don't text me",
        "no more texts please",
        "Unsubscribe me",
        "opt me out",
        "Remove me from your list",
        "take me off this list",
        "leave me alone",
        "wrong number",
        "Who is this? Wrong number.",
        "ok stop",
        "ＳＴＯＰ",  # full-width letters from some keyboards
    ],
)
def test_opt_out_words_and_plain_requests_opt_out(body):
    assert classify(body) == STOP


@pytest.mark.parametrize("body", ["START", "unstop", "Yes"])
def test_start_words_opt_back_in(body):
    assert classify(body) == START


@pytest.mark.parametrize("body", ["HELP", "help?", " Info "])
def test_help_asks_for_help(body):
    assert classify(body) == HELP


@pytest.mark.parametrize(
    "body",
    [
        "Yes please, Tuesday works",
        "Can you stop by at 5?",
        "What did the house on Elm end up selling for?",
        "Thanks! Can we talk tomorrow?",
        "Help me understand the comps",
        "",
    ],
)
def test_anything_else_is_a_reply(body):
    assert classify(body) == REPLY
