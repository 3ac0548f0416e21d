"""The portal-email inbox: lead notification emails from Zillow, Realtor.com, Homes.com, Redfin
and anything that speaks the Real Estate Lead Metadata specification, as SendGrid Inbound Parse
posts them, turned into leads by the one intake flow.

    mime       a SendGrid post (its parsed fields, or "send raw": the whole MIME message) as one
               InboundEmail, read with the standard library's `email` package
    metadata   the Lead Metadata <meta name="lead_..."> tags, read first: when present they are
               the portal's own statement of the lead
    portals    per-portal parsers for the emails without them (detected by sender and wording)
    parsed     what either reader found (ParsedLead) and what partial clues an unreadable email
               still gives a broker (clues_found)
    mapping    a ParsedLead as intake's Lead fields, source and attribution (with the inbox's
               Integration.field_mapping applied)
    inboxes    which Integration an email was sent to, and the agent a +tag names
    services   receive an email (store it first, then intake), make a lead from an unread one
    selectors  the unread emails a broker has to look at

The webhook is integrations/inbound_email.py; the broker's screen is integrations/views.py.
"""
