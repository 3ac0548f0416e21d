"""What an inbound text means. A revocation keyword anywhere opts out (47 CFR 64.1200(a)(10));
a text that may mean stop asks the owner; when in doubt between a reply and an opt-out: opt-out."""

import pytest

from sequences.replies import AMBIGUOUS, HELP, REPLY, REVOKE, START, classify


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
    assert classify(body) == REVOKE


@pytest.mark.parametrize(
    "body",
    [
        # The words the rule names count anywhere in a longer text, as words.
        "Please stop texting me",
        "I want to unsubscribe",
        "I want to cancel my subscription",
        "cancel please",
        "can you remove me from your list",
        "remove me",
        "OPT OUT please",
        "opt-out",
        "Opt out of these",
        "I revoke my consent",
        "Stop it already, I sold the house",
        "quit texting me",
        "End this now",
        "I'm done. End.",
        "Unsubscribed",
        "stop all",
        "Not interested, stop",
        "Who is this? Stop.",
        "Can we stop by Saturday? No wait, stop texting me",
        "Don't message me again",
        "no more messages",
        "I never signed up for this",
        "please lose my number",
    ],
)
def test_a_revocation_keyword_or_request_anywhere_in_the_text_opts_out(body):
    assert classify(body) == REVOKE


@pytest.mark.parametrize(
    "body",
    [
        "not interested",
        "Not interested thanks",
        "No longer interested",
        "no thanks",
        "No thank you.",
        "please don't",
        "Who is this?",
        "who's this",
        "How did you get my number?",
    ],
)
def test_a_text_that_may_mean_stop_is_ambiguous(body):
    assert classify(body) == AMBIGUOUS


@pytest.mark.parametrize(
    "body",
    [
        # Idioms in which the keyword cannot mean "stop texting me" (sequences/replies.py).
        "Can we stop by Saturday?",
        "I'll stop in after work",
        "Don't stop sending me listings!",
        "Is it an end unit?",
        "We want to move by the end of the month",
        "Anything in the West End?",
        "Please don't call, text me instead",
        "Take me to see it on Saturday",
    ],
)
def test_idioms_that_cannot_mean_stop_are_replies(body):
    assert classify(body) == REPLY


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
