from django.apps import AppConfig
from django.db.models.signals import post_save

from sequences.signals import message_not_sent, message_sent


class FlowsConfig(AppConfig):
    name = "realtycrm.flows"
    label = "flows"
    verbose_name = "Flows"

    def ready(self):
        # The receivers import models, so they load once the app registry is ready.
        from .messages import on_message_not_sent, on_message_sent
        from .observability import Submission, on_message_sent_measure, on_submission_saved

        message_sent.connect(on_message_sent, dispatch_uid="flows.on_message_sent")
        message_not_sent.connect(on_message_not_sent, dispatch_uid="flows.on_message_not_sent")
        # The metrics and the structured logs (flows/observability.py).
        message_sent.connect(on_message_sent_measure, dispatch_uid="flows.on_message_sent_measure")
        post_save.connect(on_submission_saved, sender=Submission, dispatch_uid="flows.submission")
