from django.conf import settings


def brokerage(request):
    """The brokerage's name and contact details, for page chrome and footers."""
    return {
        "brokerage": {
            "name": settings.BROKERAGE_NAME,
            "address": settings.BROKERAGE_ADDRESS,
            "phone": settings.BROKERAGE_PHONE,
            "email": settings.BROKERAGE_EMAIL,
        }
    }


def alerts(request):
    """How often open tabs poll for new alerts (templates/base.html, static/js/alerts.js)."""
    return {"alert_poll_seconds": settings.ALERT_POLL_SECONDS}
