"""Flows: every use case that spans apps, one function each, one transaction, calling the apps
bottom-up (leads, then sequences, then alerts). Views, webhooks, admin actions, management commands
and django-q2 tasks call these; the apps below never do.

    intake.submission_process   a stored submission → lead or re-inquiry → consent → route → ack
    intake.lead_reengage_route  a dormant contact answered: its arrival, routed as new
    routing.lead_route          a segmentation decision → owner, enrolment, alerts
    routing.lead_reclassify     an agent corrects timeline / side / intent
    contacts.contact_log        an agent reached the lead: contacted, tasks done, alerts closed
    contacts.stage_change       the funnel moves; a person's stage stops automation
    contacts.lead_reassign      a broker gives the lead to someone else
    contacts.lead_claim         first to claim an offered lead owns it
    inbound.text_receive        every inbound text: STOP, START, HELP, or a reply
    inbound.email_unsubscribe   the unsubscribe link
    messages.on_message_sent    a person's one-off that was sent is a personal contact
    bulk.bulk_job_work          a bulk action on the list's selection, chunk by chunk, each lead
                                through the flow above that changes one

docs/architecture.md draws the layers.
"""
