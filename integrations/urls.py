"""The channels' public endpoints: each authenticates its sender its own way (API key, secret
URL token, Meta's signature), never with a session, so none uses CSRF."""

urlpatterns = []
