"""Writes for sequences, one job per module. Every state change is one named function.

    enrollment     the track a lead follows: enrollment_route (from realtycrm.flows.routing),
                   enrollment_start / _advance / _stop, enrollments_advance_due, scheduler_tick
    steps          the one way a step becomes a message or an agent's task; the re-inquiry
                   acknowledgment re-runs the track's acknowledgment steps
    automation     an agent's or a reply's pause / resume / stop, and what a stage change stops
    one_off        an agent's own text or email (MessageBlocked, one_off_blocked_reasons)
    agent_tasks    agents' tasks: complete, snooze, done by a personal contact, answer a reply
    inbound        what an inbound text is, and the HELP answer
    suppressions   the suppression list: the one answer to "may we text / email this address",
                   and the one writer of the lead's opt-out columns
    campaigns      reactivation campaigns: a draft, sending it in batches, the contacts who
                   click and answer

Use cases that span apps (a reply that also alerts the owner, an intake) are realtycrm/flows/.
"""
