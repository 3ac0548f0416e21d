from django.apps import AppConfig

from sequences.signals import message_not_sent, message_sent


class FlowsConfig(AppConfig):
    name = "realtycrm.flows"
    label = "flows"
    verbose_name = "Flows"

    def ready(self):
        # The receivers import models, so they load once the app registry is ready.
        from .messages import on_message_not_sent, on_message_sent

        message_sent.connect(on_message_sent, dispatch_uid="flows.on_message_sent")
        message_not_sent.connect(on_message_not_sent, dispatch_uid="flows.on_message_not_sent")
