"""The one-click unsubscribe page (RFC 8058). The signed token in the link is the proof."""

from django.http import HttpResponseNotAllowed
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from realtycrm.flows.inbound import email_unsubscribe

from ..unsubscribe import address_from_token


@csrf_exempt  # mail providers POST "List-Unsubscribe=One-Click" with no cookies; the token is the proof
def unsubscribe(request, token):
    address = address_from_token(token)
    if address is None:
        return render(request, "sequences/unsubscribe_invalid.html", status=404)
    if request.method == "POST":
        email_unsubscribe(address)
        return render(request, "sequences/unsubscribed.html", {"address": address})
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET", "POST"])
    # A GET changes nothing: link scanners open links too. One button confirms.
    return render(request, "sequences/unsubscribe.html", {"address": address})
