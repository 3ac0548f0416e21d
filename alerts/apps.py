from django.apps import AppConfig


class AlertsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "alerts"

    def ready(self):
        from django.contrib.auth.signals import user_logged_out

        from . import checks  # noqa: F401 - registers the Web Push settings check
        from .push import push_forget_on_sign_out

        user_logged_out.connect(push_forget_on_sign_out, dispatch_uid="alerts.push.sign_out")
