"""Two qclusters that both schedule (Q_SCHEDULER left on by mistake) still run a due schedule
once: django-q2's scheduler claims due rows with select_for_update and moves next_run before
it commits, so the second, blocked on the same row, finds it no longer due."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_q.models import Schedule, Task
from django_q.scheduler import scheduler

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_two_schedulers_at_once_run_a_due_schedule_once():
    schedule = Schedule.objects.create(
        name="both clusters see it",
        func="time.time",
        schedule_type=Schedule.MINUTES,
        minutes=1,
        repeats=-1,
        next_run=timezone.now() - timedelta(seconds=5),
    )
    start = threading.Barrier(2)

    def one_cluster():
        start.wait()
        try:
            scheduler()
        finally:
            connection.close()

    threads = [threading.Thread(target=one_cluster) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert Task.objects.filter(group="both clusters see it").count() == 1
    schedule.refresh_from_db()
    assert schedule.next_run > timezone.now()
