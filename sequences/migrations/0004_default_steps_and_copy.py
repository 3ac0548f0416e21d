"""The default tracks as data: the first-seven-days table, then a 30 to 60 day cadence, and the
copy each step sends, matched to the lead's source. Brokers edit all of it in the admin.

    when       hot                              warm                         long-term
    0 min      acknowledgment (text + email)    acknowledgment               acknowledgment (soft)
    0-1 hour   task: call / direct text         task: review, plan outreach  -
    day 1      text + email with local data;    value email for the source   local market data point
               task: call again if no talk
    day 3      task: check in, next step        neighbourhood email          second touch, no ask
    day 7      task: re-engage if no talk;      task: check in;              move to the cycle
               engaged → the warm column;       then the cycle
               else the cycle
    nurture_cycle: emails at days 30, 75, 120, 165, then it starts again (every 30 to 60 days)

Texts are plain ASCII so each stays in the cheaper GSM-7 encoding; the first text to a number
gets "Reply STOP to opt out." added by the outbox, every email the postal address and the
unsubscribe link.
"""

from django.db import migrations

# --- Copy --------------------------------------------------------------------------------------
# (key, variant, channel, description, subject, body)
ACK_SMS = {
    "": "Hi {first_name}, this is {agent_name} at {brokerage}. Thanks for getting in touch - "
    "I have your message and will be back to you shortly. Call or text {agent_phone} anytime.",
    "valuation": "Hi {first_name}, it's {agent_name} at {brokerage}. Thanks for asking what "
    "{property_address} is worth. I'm pulling recent sales of similar homes nearby and will "
    "send your local comps shortly.",
    "listing_ad": "Hi {first_name}, it's {agent_name} at {brokerage}. Thanks for asking about "
    "{property_address}. I'll send you the full details, and I can show it to you whenever "
    "suits you.",
    "giveaway": "Hi {first_name}, you're entered in the {brokerage} giveaway - good luck! Now "
    "and then we'll share a local event or a bit of news from {neighbourhood}. That's all.",
    "open_house": "Hi {first_name}, it's {agent_name} at {brokerage}. Thanks for stopping by "
    "{open_house}. I'll send you the home's details, and I'm happy to answer anything you "
    "didn't get to ask.",
    "website": "Hi {first_name}, it's {agent_name} at {brokerage}. Thanks for your question "
    "about {inquiry}. I'm putting together a proper answer and will get back to you shortly.",
    "website:buying": "Hi {first_name}, it's {agent_name} at {brokerage}. Thanks for your note "
    "about buying. I'll send homes that fit what you described, and a heads-up when new ones "
    "come on the market.",
    "website:selling": "Hi {first_name}, it's {agent_name} at {brokerage}. Thanks for your note "
    "about selling. I'll send what similar homes near you sold for recently, so you have a "
    "real starting point.",
    "website:neighbourhood": "Hi {first_name}, it's {agent_name} at {brokerage}. Thanks for "
    "asking about {neighbourhood}. I'll send you a short local guide: schools, parks and what "
    "homes there have sold for.",
    "website:market_question": "Hi {first_name}, it's {agent_name} at {brokerage}. Thanks for "
    "your market question. I'll send the latest local numbers - what's selling, how fast and "
    "for how much - with a proper answer.",
    "reactivation": "Hi {first_name}, it's {agent_name} at {brokerage} - good to hear from you "
    "again! Thanks for getting back in touch. I'll call shortly to catch up on your plans.",
}

SIGN_OFF = "\n\n{agent_name}\n{brokerage} · {agent_phone}"

ACK_EMAIL = {
    "": (
        "Thanks for contacting {brokerage}",
        "Hi {first_name},\n\nThank you for getting in touch. I have your message and will be "
        "back to you shortly. If it's easier to talk, call or text me at {agent_phone}.",
    ),
    "valuation": (
        "Your home's value: local comps for {property_address} are on the way",
        "Hi {first_name},\n\nThank you for asking what {property_address} is worth. An online "
        "estimate is a start, but the number that matters comes from homes like yours that "
        "sold nearby recently, so I'm pulling those local comps now.\n\nYou'll have them from "
        "me shortly: what each home sold for, how long it took, and how it compares to yours. "
        "If your home has something the public records would not show - a new kitchen, a "
        "finished basement, a new roof - reply and tell me, and I'll take it into account.",
    ),
    "listing_ad": (
        "{property_address}: the details you asked for",
        "Hi {first_name},\n\nThank you for your interest in {property_address}. I'm putting "
        "the full details together for you: the photos that didn't fit in the ad, the "
        "disclosures, taxes and what's within walking distance.\n\nIf you'd like to see it in "
        "person, reply with a couple of times that work and I'll arrange a private showing.",
    ),
    "giveaway": (
        "You're entered - welcome from {brokerage}",
        "Hi {first_name},\n\nThanks for entering our giveaway - you're in, and we'll let you "
        "know if you win.\n\nEvery so often we send a short note about what's happening "
        "around {neighbourhood}: local events, new places worth trying, a little market news. "
        "Nothing more than that.\n\nThe {brokerage} team",
    ),
    "open_house": (
        "Thanks for visiting {open_house}",
        "Hi {first_name},\n\nThank you for coming to {open_house}. I'm sending the home's "
        "full details - floor plan, disclosures and running costs - so you have them in one "
        "place.\n\nIf a question came up after you left, about the home, the price or the "
        "neighbourhood, reply here and I'll answer it.",
    ),
    "website": (
        "Your question about {inquiry}",
        "Hi {first_name},\n\nThank you for your question about {inquiry}. I'd rather give you "
        "a real answer than a quick one, so I'm looking into it and will be back to you "
        "shortly.",
    ),
    "website:buying": (
        "Homes that fit what you're looking for",
        "Hi {first_name},\n\nThank you for your note about buying. I'm going through what's on "
        "the market now for homes that fit what you described, and I'll send you the ones "
        "worth a look - plus a heads-up when something new comes up, often before it reaches "
        "the big sites.",
    ),
    "website:selling": (
        "What homes near you have sold for",
        "Hi {first_name},\n\nThank you for your note about selling. The best starting point is "
        "what similar homes near you actually sold for recently, so I'm pulling those numbers "
        "for you now. You'll have them shortly, with what they suggest for your home.",
    ),
    "website:neighbourhood": (
        "Your guide to {neighbourhood}",
        "Hi {first_name},\n\nThank you for asking about {neighbourhood}. I'm putting together "
        "a short local guide: the schools, the parks, the commute, and what homes there have "
        "been selling for. You'll have it from me shortly.",
    ),
    "website:market_question": (
        "Your market question",
        "Hi {first_name},\n\nThank you for your question about the market. I'll answer it with "
        "the latest local numbers - how many homes are selling, how fast, and how close to "
        "their asking price - rather than the national headlines. You'll have it shortly.",
    ),
    "reactivation": (
        "Good to hear from you again, {first_name}",
        "Hi {first_name},\n\nThank you for getting back in touch - it's good to hear from you. "
        "A lot has changed in the local market since we last worked together, and I'd like to "
        "hear where things stand for you now. I'll call shortly, or reply here whenever it "
        "suits you.",
    ),
}

HOT_DAY1_SMS = {
    "": "Hi {first_name}, {agent_name} here. I've emailed you recent sales around "
    "{neighbourhood} that bear on what you asked. Happy to walk you through them - when suits you?",
    "valuation": "Hi {first_name}, {agent_name} here. Your comps for {property_address} are in "
    "your inbox: the recent nearby sales that matter most for your price. When could we go "
    "through them?",
    "listing_ad": "Hi {first_name}, {agent_name} here. I've emailed you what homes like "
    "{property_address} sold for nearby, so you can judge the price. Would you like to see it "
    "this week?",
    "open_house": "Hi {first_name}, {agent_name} here, following up on {open_house}. I've "
    "emailed you recent nearby sales so you can judge the price. Any questions, just text me.",
    "reactivation": "Hi {first_name}, {agent_name} here. I've emailed you what's changed in the "
    "market since we last spoke, with recent sales near you. When's good for a quick call?",
}

HOT_DAY1_EMAIL = {
    "": (
        "Recent sales around {neighbourhood}",
        "Hi {first_name},\n\nAs promised, here is the local picture for what you asked about. "
        "I've picked the recent sales around {neighbourhood} that matter most, rather than "
        "area averages, and noted what made each one sell.\n\nThe quickest way to make sense "
        "of them is a ten-minute call - reply with a time, or call me at {agent_phone}.",
    ),
    "valuation": (
        "Your local comps for {property_address}",
        "Hi {first_name},\n\nHere are the comps for {property_address}: the homes most like "
        "yours that sold nearby recently, with what each sold for, how long it took, and how "
        "it compares to yours.\n\nComps give a range, not a price. Walking through your home "
        "for twenty minutes narrows it to a number you can plan around - reply with a time "
        "that suits you.",
    ),
    "listing_ad": (
        "How {property_address} compares",
        "Hi {first_name},\n\nTo help you judge {property_address}, here are the homes like it "
        "that sold nearby recently, what they sold for, and how quickly.\n\nIf it's still on "
        "your list, I can show it to you this week - reply with a time.",
    ),
    "open_house": (
        "{open_house}: how the price compares",
        "Hi {first_name},\n\nFollowing up on {open_house}: here are the recent sales nearby "
        "that a buyer would compare it with, and what each sold for.\n\nIf you'd like a second "
        "look, or to see similar homes, reply and I'll set it up.",
    ),
    "reactivation": (
        "What's changed since we last spoke",
        "Hi {first_name},\n\nSince we last worked together the market around you has moved. "
        "Here are the recent sales near you that show how much, and what that means for your "
        "plans.\n\nI'd like to hear what you're thinking - reply with a time for a call.",
    ),
}

WARM_DAY1_EMAIL = {
    "": (
        "A quick local market update",
        "Hi {first_name},\n\nA short, honest picture of the market around {neighbourhood}: "
        "how many homes sold last month, how long they took, and how close they came to their "
        "asking price. No pressure and no rush - just the numbers, so you know where things "
        "stand when you're ready.",
    ),
    "valuation": (
        "Homes like yours near {property_address}: what they sold for",
        "Hi {first_name},\n\nHere are the homes most like {property_address} that sold nearby "
        "recently, with their prices and how long each took. It's the same information an "
        "appraiser starts from, and it changes month to month - I'll keep you posted.",
    ),
    "listing_ad": (
        "More about {property_address}, and homes like it",
        "Hi {first_name},\n\nHere is more about {property_address} - and a few homes like it "
        "nearby, in case it isn't quite the one. If anything catches your eye, reply and I'll "
        "send the details or set up a visit when you're ready.",
    ),
    "open_house": (
        "After {open_house}: similar homes nearby",
        "Hi {first_name},\n\nSince you visited {open_house}, here are a few similar homes "
        "nearby, with what homes like them have sold for recently. Worth a look whenever "
        "you're thinking about your next move.",
    ),
    "website:buying": (
        "Homes that fit what you described",
        "Hi {first_name},\n\nHere are a few homes on the market now that fit what you "
        "described, with what similar ones sold for recently. I'll send new ones as they come "
        "up, so you see them early.",
    ),
    "website:selling": (
        "What homes near you sold for recently",
        "Hi {first_name},\n\nHere are the recent sales near you that a buyer would compare your "
        "home with, and how long each took to sell. It's the best starting point for a price, "
        "whenever you decide to sell.",
    ),
    "website:neighbourhood": (
        "Your guide to {neighbourhood}",
        "Hi {first_name},\n\nAs promised, a short guide to {neighbourhood}: schools, parks, "
        "the commute, and what homes there have been selling for.",
    ),
    "website:market_question": (
        "The local numbers behind your question",
        "Hi {first_name},\n\nHere are the latest local numbers behind your question: homes "
        "sold, days on market, and sale price against asking price, for our area rather than "
        "the whole country.",
    ),
    "reactivation": (
        "Your home's value, then and now",
        "Hi {first_name},\n\nA lot has changed since we last worked together. Here is how "
        "values near you have moved since then, with a few recent sales that show it.",
    ),
}

SIMPLE_EMAILS = [
    (
        "warm_day3_email",
        "Warm day 3: a neighbourhood-specific value touch",
        "What's happening in {neighbourhood}",
        "Hi {first_name},\n\nA few things worth knowing about {neighbourhood} this month: what "
        "sold and for how much, what's new on the market, and what's changing locally. If "
        "you'd like the numbers for your street in particular, just reply.",
    ),
    (
        "lt_day1_email",
        "Long-term day 1: one local market data point",
        "One number worth knowing about {neighbourhood}",
        "Hi {first_name},\n\nOne number worth knowing this month: how long homes around "
        "{neighbourhood} are taking to sell. It says more about the local market than any "
        "headline. We'll share one like it now and then.\n\nThe {brokerage} team",
    ),
    (
        "lt_day3_email",
        "Long-term day 3: a second touch, no direct ask",
        "Around {neighbourhood} this month",
        "Hi {first_name},\n\nA few things happening around {neighbourhood} this month - local "
        "events, a new place or two worth trying, and what's been selling nearby.\n\n"
        "The {brokerage} team",
    ),
    (
        "market90_email",
        "Homeowner market data (days 30, 60 and 90 of the 90-day sequence)",
        "Your {neighbourhood} homeowner report",
        "Hi {first_name},\n\nYour monthly homeowner report for {neighbourhood}: homes sold, "
        "median days on market, and sale prices against asking. If you'd like to know what "
        "these numbers mean for {property_address} in particular, reply and I'll work it out "
        "for you.",
    ),
    (
        "cycle_market_email",
        "Nurture cycle: market update (every 30 to 60 days)",
        "Your {neighbourhood} market update",
        "Hi {first_name},\n\nA quick update on the market around {neighbourhood}: what sold, "
        "how fast, and where prices are heading. Whenever you'd like the numbers for your own "
        "home, reply and I'll send them.",
    ),
    (
        "cycle_local_email",
        "Nurture cycle: local news (every 30 to 60 days)",
        "Around {neighbourhood}",
        "Hi {first_name},\n\nA few local things worth knowing this season around "
        "{neighbourhood}: events, openings and what's changing nearby.",
    ),
]

TASKS = [
    (
        "task_call_hot",
        "Hot: personal call or direct text within the hour",
        "Call {lead_name} now: {submission}",
        "A hot lead. Call, or text if they don't pick up, and mention what they asked about "
        "({submission}). The automated acknowledgment has already gone out.",
    ),
    (
        "task_review_warm",
        "Warm: review and plan personal outreach",
        "Review {lead_name} and plan outreach: {submission}",
        "A warm lead. Look at what they sent and schedule a personal call or text for today or "
        "tomorrow.",
    ),
    (
        "task_call_again",
        "Hot day 1: call again if there was no conversation",
        "Call {lead_name} again: no conversation yet",
        "The first attempt did not turn into a conversation. Try once more and leave a short "
        "voicemail about {submission}.",
    ),
    (
        "task_checkin_hot",
        "Hot day 3: personal check-in with a specific next step",
        "Check in with {lead_name}: offer a next step",
        "Offer something specific: a walkthrough, a price review, showings this weekend.",
    ),
    (
        "task_reengage",
        "Hot day 7: re-engagement attempt",
        "Re-engage {lead_name}: a week without a conversation",
        "Try a different channel or angle. If they are engaged but not ready, they move to the "
        "warm track; otherwise to the long-term cycle.",
    ),
    (
        "task_checkin_warm",
        "Warm day 7: personal check-in",
        "Personal check-in with {lead_name}",
        "One week in: a short personal call or note. After this they move to the 30 to 60 day "
        "nurture cycle.",
    ),
]

HELP_SMS = (
    "{brokerage}: for help call {brokerage_phone} or email {brokerage_email}. "
    "Msg & data rates may apply. Reply STOP to opt out."
)


def templates():
    rows = []
    for variant, body in ACK_SMS.items():
        rows.append(("ack_sms", variant, "sms", "Acknowledgment text (minutes 0-5)", "", body))
    for variant, (subject, body) in ACK_EMAIL.items():
        sign_off = "" if body.endswith("team") else SIGN_OFF  # the giveaway's is the team's
        rows.append(
            ("ack_email", variant, "email", "Acknowledgment email (minutes 0-5)", subject,
             body + sign_off)
        )
    for variant, body in HOT_DAY1_SMS.items():
        rows.append(("hot_day1_sms", variant, "sms", "Hot day 1: second touch", "", body))
    for variant, (subject, body) in HOT_DAY1_EMAIL.items():
        rows.append(
            ("hot_day1_email", variant, "email", "Hot day 1: local data for their submission",
             subject, body + SIGN_OFF)
        )
    for variant, (subject, body) in WARM_DAY1_EMAIL.items():
        rows.append(
            ("warm_day1_email", variant, "email", "Warm day 1: value for their source",
             subject, body + SIGN_OFF)
        )
    for key, description, subject, body in SIMPLE_EMAILS:
        sign_off = "" if body.endswith("team") else SIGN_OFF
        rows.append((key, "", "email", description, subject, body + sign_off))
    for key, description, subject, body in TASKS:
        rows.append((key, "", "task", description, subject, body))
    rows.append(("help_sms", "", "sms", "Answer to HELP", "", HELP_SMS))
    return rows


# --- Tracks and steps ----------------------------------------------------------------------------
# (delay, unit, kind, template or track, extra)
def ack():
    return [
        (0, "minutes", "sms", "ack_sms", {"is_acknowledgment": True}),
        (0, "minutes", "email", "ack_email", {"is_acknowledgment": True}),
    ]


def hot(intent, engaged_to, engaged_intent="warm"):
    only = {"for_intent": intent}
    return [
        (0, "minutes", "task", "task_call_hot", {**only, "task_kind": "call", "task_due_minutes": 60}),
        (1, "days", "sms", "hot_day1_sms", only),
        (1, "days", "email", "hot_day1_email", only),
        (1, "days", "task", "task_call_again",
         {**only, "task_kind": "call", "task_due_minutes": 240, "condition": "no_conversation"}),
        (3, "days", "task", "task_checkin_hot", {**only, "task_kind": "check_in", "task_due_minutes": 1440}),
        (7, "days", "task", "task_reengage",
         {**only, "task_kind": "re_engage", "task_due_minutes": 1440, "condition": "no_conversation"}),
        (7, "days", "move", engaged_to,
         {**only, "condition": "conversation", "move_intent": engaged_intent}),
        (7, "days", "move", "nurture_cycle", {**only, "condition": "no_conversation"}),
    ]


def warm(intent, then_cycle=True):
    only = {"for_intent": intent}
    steps = [
        (0, "minutes", "task", "task_review_warm", {**only, "task_kind": "review", "task_due_minutes": 60}),
        (1, "days", "email", "warm_day1_email", only),
        (3, "days", "email", "warm_day3_email", only),
        (7, "days", "task", "task_checkin_warm", {**only, "task_kind": "check_in", "task_due_minutes": 1440}),
    ]
    if then_cycle:
        steps.append((7, "days", "move", "nurture_cycle", only))
    return steps


def long_term(intent):
    only = {"for_intent": intent}
    return [
        (1, "days", "email", "lt_day1_email", only),
        (3, "days", "email", "lt_day3_email", only),
        (7, "days", "move", "nurture_cycle", only),
    ]


def shared(key):
    """A track that takes hot and warm leads (and long-term ones an agent puts there)."""
    return ack() + hot("hot", key) + warm("warm") + long_term("long_term")


TRACK_STEPS = {
    "hot_seller": ack() + hot("", "homeowner_market_90"),
    "buyer_search": shared("buyer_search"),
    "open_house_followup": shared("open_house_followup"),
    "reactivation": shared("reactivation"),
    "homeowner_market_90": ack()
    + warm("", then_cycle=False)
    + [
        (30, "days", "email", "market90_email", {}),
        (60, "days", "email", "market90_email", {}),
        (90, "days", "email", "market90_email", {}),
        (90, "days", "move", "nurture_cycle", {}),
    ],
    "long_term_local": ack() + long_term(""),
    "nurture_cycle": [
        (30, "days", "email", "cycle_market_email", {}),
        (75, "days", "email", "cycle_local_email", {}),
        (120, "days", "email", "cycle_market_email", {}),
        (165, "days", "email", "cycle_local_email", {}),
        (180, "days", "move", "nurture_cycle", {}),
    ],
}
NEW_TRACKS = [
    (
        "nurture_cycle",
        "Nurture cycle (every 30 to 60 days)",
        "After the first week or the 90-day sequence: a useful local email every 30 to 60 "
        "days, starting again after six months.",
    ),
]


def create(apps, schema_editor):
    Template = apps.get_model("sequences", "Template")
    Track = apps.get_model("sequences", "Track")
    Step = apps.get_model("sequences", "Step")
    for key, variant, channel, description, subject, body in templates():
        Template.objects.update_or_create(
            key=key,
            variant=variant,
            defaults={"channel": channel, "description": description, "subject": subject, "body": body},
        )
    for key, name, description in NEW_TRACKS:
        Track.objects.update_or_create(key=key, defaults={"name": name, "description": description})
    tracks = {track.key: track for track in Track.objects.all()}
    for key, steps in TRACK_STEPS.items():
        track = tracks[key]
        if Step.objects.filter(track=track).exists():
            continue  # a broker has made it their own
        for position, (delay, unit, kind, target, extra) in enumerate(steps, start=1):
            fields = {"track": track, "position": position * 10, "delay": delay,
                      "delay_unit": unit, "kind": kind, **extra}
            if kind == "move":
                fields["move_to"] = tracks[target]
            else:
                fields["template_key"] = target
            Step.objects.create(**fields)


def remove(apps, schema_editor):
    apps.get_model("sequences", "Step").objects.all().delete()
    apps.get_model("sequences", "Template").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("sequences", "0003_outbox_steps_tasks")]
    operations = [migrations.RunPython(create, remove)]
