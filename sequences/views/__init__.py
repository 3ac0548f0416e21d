"""The sequences app's pages: the one-click unsubscribe (public) and the brokers' reactivation
campaigns (dashboard)."""
