"""Bulk actions on the leads list: each action on ticked rows and on "all matching this filter",
who may change what (a forged selection reaches nothing), a big selection as a background job
with its progress, resumed after a crash without changing a lead twice, and one timeline event
per lead changed."""

import csv
import io
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.models import Alert
from leads import tasks
from leads.bulk import job_leads
from leads.models import BulkJob, Lead, LeadEvent, Tag
from leads.services import EventBatch, leads_tag_add
from realtycrm.flows import bulk as bulk_flow
from sequences.models import Enrollment, Message
from tests.factories import (
    AgentFactory,
    AlertFactory,
    BulkJobFactory,
    EnrollmentFactory,
    LeadFactory,
    TagFactory,
    TrackFactory,
)

pytestmark = pytest.mark.django_db
Action = BulkJob.Action


def post_bulk(client, action, *, leads=(), all_query=None, **params):
    data = {"action": action, **params}
    if all_query is not None:
        data.update({"all": "1", "query": all_query})
    else:
        data["lead"] = [lead.pk for lead in leads]
    return client.post(reverse("leads:bulk"), data)


def bulk_events(lead) -> list[tuple[str, str]]:
    return list(
        LeadEvent.objects.filter(lead=lead, data__has_key="bulk")
        .order_by("id")
        .values_list("kind", "summary")
    )


@dataclass
class Case:
    """One action: how a lead is made ready for it, what to post, how to tell it changed, and
    the timeline event it writes."""

    params: Any
    prepare: Any
    changed: Any
    kind: str
    summary: str


@pytest.fixture
def world(broker_client, broker, alex, sam):
    target = TrackFactory(key="seller_fast_track", name="Seller fast track")
    vip = TagFactory(name="VIP")

    def enrol(lead, status=Enrollment.Status.ACTIVE):
        EnrollmentFactory(
            lead=lead,
            track=TrackFactory(key="long_term_local", name="Long-term local"),
            status=status,
            paused_at=timezone.now() if status == Enrollment.Status.PAUSED else None,
        )

    def enrollment(lead):
        return Enrollment.objects.filter(lead=lead).order_by("-id").first()

    cases = {
        Action.REASSIGN: Case(
            params={"owner": sam.pk},
            prepare=lambda lead: None,
            changed=lambda lead: lead.owner == sam,
            kind=LeadEvent.Kind.REASSIGNED,
            summary="Bulk: Reassigned to Sam Chen from Alex Rivera: by Morgan Blake",
        ),
        Action.STAGE: Case(
            params={"stage": "lost", "note": "Bought elsewhere"},
            prepare=lambda lead: None,
            changed=lambda lead: lead.stage == "lost",
            kind=LeadEvent.Kind.STAGE_CHANGED,
            summary="Bulk: New → Lost: Bought elsewhere",
        ),
        Action.TAG_ADD: Case(
            params={"tag": "vip"},  # the VIP tag, whatever the case typed
            prepare=lambda lead: None,
            changed=lambda lead: list(lead.tags.all()) == [vip],
            kind=LeadEvent.Kind.TAG_ADDED,
            summary="Bulk: Tag added: VIP",
        ),
        Action.TAG_REMOVE: Case(
            params={"tag": "VIP"},
            prepare=lambda lead: leads_tag_add([lead], vip, actor=None),
            changed=lambda lead: not lead.tags.exists(),
            kind=LeadEvent.Kind.TAG_REMOVED,
            summary="Bulk: Tag removed: VIP",
        ),
        Action.PAUSE: Case(
            params={"reason": "Talking to them"},
            prepare=enrol,
            changed=lambda lead: enrollment(lead).status == Enrollment.Status.PAUSED,
            kind=LeadEvent.Kind.AUTOMATION_PAUSED,
            summary="Bulk: Long-term local paused: Talking to them",
        ),
        Action.RESUME: Case(
            params={},
            prepare=lambda lead: enrol(lead, Enrollment.Status.PAUSED),
            changed=lambda lead: enrollment(lead).status == Enrollment.Status.ACTIVE,
            kind=LeadEvent.Kind.AUTOMATION_RESUMED,
            summary="Bulk: Long-term local resumed by Morgan Blake",
        ),
        Action.TRACK: Case(
            params={"track": target.pk},
            prepare=lambda lead: None,
            changed=lambda lead: lead.nurture_track == target and enrollment(lead).track == target,
            kind=LeadEvent.Kind.TRACK_CHANGED,
            summary="Bulk: No track → Seller fast track",
        ),
    }
    return {"client": broker_client, "alex": alex, "sam": sam, "cases": cases}


def make_leads(world, count, **fields):
    leads = [LeadFactory(owner=world["alex"], **fields) for _ in range(count)]
    return leads


@pytest.mark.parametrize("action", list(Action))
def test_each_action_changes_the_ticked_leads_with_one_event_each(world, action):
    case = world["cases"][action]
    ticked = make_leads(world, 3)
    untouched = make_leads(world, 1)[0]
    for lead in [*ticked, untouched]:
        case.prepare(lead)
    response = post_bulk(world["client"], action, leads=ticked, **case.params)
    assert response.status_code == 302
    assert response["Location"] == reverse("leads:lead-list")
    job = BulkJob.objects.get()
    assert (job.status, job.total, job.done, job.changed, job.failed) == ("done", 3, 3, 3, 0)
    for lead in ticked:
        lead.refresh_from_db()
        assert case.changed(lead)
        assert bulk_events(lead)[0] == (case.kind, case.summary)
        assert LeadEvent.objects.filter(lead=lead, kind=case.kind).count() == 1
        assert LeadEvent.objects.get(lead=lead, kind=case.kind).actor.username == "morgan"
    untouched.refresh_from_db()
    assert not case.changed(untouched) and not bulk_events(untouched)
    notice = [str(m) for m in world["client"].get(response["Location"]).context["messages"]]
    assert notice == [f"Bulk: {job.params['label']}: 3 leads changed."]


@pytest.mark.parametrize("action", list(Action))
def test_each_action_changes_every_lead_matching_the_filter(world, action):
    case = world["cases"][action]
    matching = make_leads(world, 4, source=Lead.Source.GIVEAWAY)
    other = make_leads(world, 2, source=Lead.Source.VALUATION)
    for lead in [*matching, *other]:
        case.prepare(lead)
    response = post_bulk(world["client"], action, all_query="source=giveaway", **case.params)
    assert response["Location"] == f"{reverse('leads:lead-list')}?source=giveaway"
    job = BulkJob.objects.get()
    assert job.all_matching and job.query == "source=giveaway"
    assert (job.total, job.changed) == (4, 4)
    for lead in matching:
        lead.refresh_from_db()
        assert case.changed(lead)
        assert [kind for kind, _ in bulk_events(lead)].count(case.kind) == 1
    for lead in other:
        lead.refresh_from_db()
        assert not case.changed(lead) and not bulk_events(lead)


def test_a_lead_already_so_is_counted_not_changed(world):
    leads = make_leads(world, 3)
    leads[0].stage = "lost"
    leads[0].save()
    post_bulk(world["client"], Action.STAGE, leads=leads, stage="lost")
    job = BulkJob.objects.get()
    assert (job.done, job.changed) == (3, 2)
    assert not bulk_events(leads[0])


def test_the_notice_says_what_changed_and_what_was_already_so(world):
    leads = make_leads(world, 3)
    leads[0].stage = "lost"
    leads[0].save()
    response = post_bulk(world["client"], Action.STAGE, leads=leads, stage="lost")
    messages = [str(m) for m in world["client"].get(response["Location"]).context["messages"]]
    assert messages == ["Bulk: Stage: Lost: 2 leads changed, 1 already so."]


def test_the_export_is_exactly_the_ticked_leads_or_every_lead_matching(world):
    leads = make_leads(world, 3, source=Lead.Source.GIVEAWAY)
    make_leads(world, 2)
    client = world["client"]

    def exported(response):
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        body = b"".join(response.streaming_content).decode()
        return sorted(int(row["id"]) for row in csv.DictReader(io.StringIO(body)))

    assert exported(post_bulk(client, "export", leads=leads[:2])) == sorted(
        lead.pk for lead in leads[:2]
    )
    assert exported(post_bulk(client, "export", all_query="source=giveaway")) == sorted(
        lead.pk for lead in leads
    )
    assert not BulkJob.objects.exists()  # an export changes nothing and keeps no job


@pytest.mark.parametrize("selection", ["ticked", "all"])
def test_the_selections_export_streams_in_a_few_queries(
    world, django_assert_max_num_queries, selection
):
    leads = make_leads(world, 60, nurture_track=TrackFactory())
    for lead in leads[::3]:
        leads_tag_add([lead], TagFactory(name="VIP"), actor=None)
    picked = {"all_query": ""} if selection == "all" else {"leads": leads}
    with django_assert_max_num_queries(8):
        response = post_bulk(world["client"], "export", **picked)
        rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 60
    assert {row["tags"] for row in rows} == {"VIP", ""}


def test_reassigning_closes_the_previous_owners_alerts_and_texts_nobody(world):
    leads = make_leads(world, 2, hot=True)
    for lead in leads:
        AlertFactory(lead=lead, agent=world["alex"])
    post_bulk(world["client"], Action.REASSIGN, leads=leads, owner=world["sam"].pk)
    assert not Alert.objects.filter(closed_at__isnull=True).exists()
    assert not Alert.objects.filter(agent=world["sam"]).exists()
    assert not Message.objects.exists()  # fifty leads handed over are not fifty texts


# --- Who may change what -------------------------------------------------------------------------


def test_an_agent_changes_only_their_own_leads_even_with_forged_ids(client, agent, sam):
    mine = LeadFactory(owner=agent)
    theirs = LeadFactory(owner=sam)
    response = post_bulk(client, Action.STAGE, leads=[mine, theirs], stage="engaged")
    assert response.status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.stage, theirs.stage) == ("engaged", "new")
    job = BulkJob.objects.get()
    assert job.lead_ids == [mine.pk]  # the forged id is never even stored
    assert not bulk_events(theirs)


def test_only_forged_ids_is_refused_with_the_reason(client, agent, sam):
    theirs = LeadFactory(owner=sam)
    response = post_bulk(client, Action.TAG_ADD, leads=[theirs], tag="Mine")
    assert response.status_code == 422
    assert "None of the selected leads is yours to change." in response.content.decode()
    assert not theirs.tags.exists() and not BulkJob.objects.exists()


def test_all_matching_for_an_agent_is_their_own_leads_whatever_the_filter_says(client, agent, sam):
    mine = LeadFactory(owner=agent)
    theirs = LeadFactory(owner=sam)
    # An agent has no owner filter: naming another agent is ignored, never a way in.
    post_bulk(client, Action.STAGE, all_query=f"owner={sam.pk}", stage="engaged")
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.stage, theirs.stage) == ("engaged", "new")


def test_an_agent_cannot_bulk_reassign_even_their_own_leads(client, agent, sam):
    mine = LeadFactory(owner=agent)
    for data in ({"leads": [mine]}, {"all_query": ""}):
        response = post_bulk(client, Action.REASSIGN, owner=sam.pk, **data)
        assert response.status_code == 403
    mine.refresh_from_db()
    assert mine.owner == agent and not BulkJob.objects.exists()
    body = client.get(reverse("leads:lead-list")).content.decode()
    assert 'value="reassign"' not in body  # not offered either


def test_a_job_checks_again_when_it_runs_who_asked_and_what_they_may_see(agent, sam, alex):
    """A broker demoted before the worker reaches their reassign: it stops and says why. A lead
    an agent ticked that is no longer theirs when it is worked is passed over."""
    broker = AgentFactory(broker=True)
    lead = LeadFactory(owner=alex)
    job = BulkJobFactory(
        created_by=broker.user,
        action=Action.REASSIGN,
        params={"owner": sam.pk, "label": "Reassign to Sam Chen"},
        lead_ids=[lead.pk],
        total=1,
    )
    broker.role = "agent"
    broker.save()
    bulk_flow.bulk_job_work(job.pk)
    job.refresh_from_db()
    assert (job.status, job.error) == ("failed", "Only a broker can reassign leads.")
    lead.refresh_from_db()
    assert lead.owner == alex

    mine, gone = LeadFactory(owner=alex), LeadFactory(owner=alex)
    job = BulkJobFactory(created_by=alex, lead_ids=sorted([mine.pk, gone.pk]), total=2)
    gone.owner = sam
    gone.save()
    bulk_flow.bulk_job_work(job.pk)
    job.refresh_from_db()
    assert (job.status, job.changed, job.failed) == ("done", 1, 1)
    gone.refresh_from_db()
    assert gone.stage == "new" and not bulk_events(gone)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "stage", "stage": "lost"}, "Tick the leads to change first."),
        ({"action": "fly", "all": "1"}, "Choose what to do."),
        ({"action": "reassign", "all": "1"}, "Choose who gets the leads."),
        ({"action": "reassign", "all": "1", "owner": "999999"}, "Choose an active agent."),
        ({"action": "stage", "all": "1", "stage": "sold"}, "Select a valid choice."),
        ({"action": "tag_add", "all": "1", "tag": "   "}, "Type the tag."),
        ({"action": "tag_add", "all": "1", "tag": "x" * 51}, "at most 50 characters"),
        ({"action": "tag_remove", "all": "1", "tag": "Nope"}, "No lead has a tag called “Nope”."),
        ({"action": "track", "all": "1", "track": "abc"}, "Choose one of the tracks."),
        ({"action": "stage", "stage": "lost", "lead": ["1", "x"]}, "not a list of leads"),
        ({"action": "stage", "stage": "lost", "lead": ["1", "²"]}, "not a list of leads"),
        ({"action": "stage", "stage": "lost", "lead": ["1"] * 501}, "Tick at most 500 leads"),
    ],
)
def test_bad_input_shows_the_list_again_with_the_reason(broker_client, data, message):
    LeadFactory()
    response = broker_client.post(reverse("leads:bulk"), {"query": "intent=warm", **data})
    assert response.status_code == 422
    assert message in response.content.decode()
    assert response.context["query"] == "intent=warm"  # the list the bar was on
    assert not BulkJob.objects.exists()


def test_a_refused_form_keeps_the_ticked_rows_ticked(client, agent):
    leads = [LeadFactory(owner=agent, first_name=name, last_name="Okafor") for name in "AB"]
    response = client.post(
        reverse("leads:bulk"), {"action": "tag_add", "lead": [leads[0].pk], "tag": ""}
    )
    body = response.content.decode()
    assert f'value="{leads[0].pk}" form="bulk-form" aria-label="Tick {leads[0]}" checked' in body
    assert f'value="{leads[1].pk}" form="bulk-form" aria-label="Tick {leads[1]}">' in body


def test_the_bar_and_each_rows_checkbox_are_on_the_list(client, agent):
    lead = LeadFactory(owner=agent)
    body = client.get(reverse("leads:lead-list")).content.decode()
    assert 'id="bulk-form"' in body and 'name="csrfmiddlewaretoken"' in body
    assert f'name="lead" value="{lead.pk}" form="bulk-form"' in body
    assert "js/bulk.js" in body


# --- Big selections: a background job ------------------------------------------------------------


@pytest.fixture
def small_limits(settings, monkeypatch):
    """Over 3 leads is a background job, worked 2 at a time; the test plays the worker."""
    settings.BULK_SYNC_LIMIT = 3
    settings.BULK_CHUNK_SIZE = 2
    queued = []
    monkeypatch.setattr(bulk_flow, "bulk_job_queue", queued.append)
    return queued


def one_chunk(job):
    return bulk_flow.bulk_job_work(job.pk, budget_seconds=0)


def test_a_big_selection_runs_in_the_background_with_progress(
    world, small_limits, django_capture_on_commit_callbacks
):
    client = world["client"]
    leads = make_leads(world, 5, source=Lead.Source.GIVEAWAY)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_bulk(
            client, Action.REASSIGN, all_query="source=giveaway", owner=world["sam"].pk
        )
    job = BulkJob.objects.get()
    assert response["Location"] == reverse("leads:bulk-job", args=[job.pk])
    assert small_limits == [job.pk]  # queued for a worker, once committed
    assert (job.status, job.total, job.done) == ("queued", 5, 0)

    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "0 of 5 leads" in page.content.decode()
    assert 'hx-trigger="every 1s"' in page.content.decode()
    # The list says it is running, and where to see it (the page can be left and come back to).
    listed = client.get(reverse("leads:lead-list")).content.decode()
    assert 'data-testid="bulk-job-running"' in listed and "0 of 5 leads so far" in listed

    assert one_chunk(job) is True
    progress = client.get(reverse("leads:bulk-job-progress", args=[job.pk]))
    assert progress.status_code == 200
    assert "2 of 5 leads" in progress.content.decode()
    job.refresh_from_db()
    assert (job.status, job.done, job.percent) == ("running", 2, 40)
    while one_chunk(job):
        pass
    job.refresh_from_db()
    assert (job.status, job.done, job.changed, job.failed) == ("done", 5, 5, 0)
    finished = client.get(reverse("leads:bulk-job-progress", args=[job.pk]))
    assert finished.status_code == 286  # htmx stops polling
    assert "Bulk: Reassign to Sam Chen: 5 leads changed." in finished.content.decode()
    for lead in leads:
        lead.refresh_from_db()
        assert lead.owner == world["sam"]
        assert len(bulk_events(lead)) == 1
    assert (
        'data-testid="bulk-job-running"'
        not in client.get(reverse("leads:lead-list")).content.decode()
    )


def test_a_worker_hands_over_to_a_fresh_task_when_its_time_is_up(world, small_limits, settings):
    settings.BULK_TASK_BUDGET_SECONDS = 0
    make_leads(world, 5)
    job = BulkJobFactory(created_by=world["alex"], all_matching=True, upto_lead_id=10**9, total=5)
    assert tasks.bulk_job_work(job.pk) is True
    assert small_limits == [job.pk]  # the rest is a fresh task
    job.refresh_from_db()
    assert job.done == 2


def test_a_crash_mid_chunk_leaves_nothing_and_resume_changes_no_lead_twice(
    world, small_limits, monkeypatch
):
    leads = make_leads(world, 5, source=Lead.Source.GIVEAWAY)
    response = post_bulk(
        world["client"], Action.REASSIGN, all_query="source=giveaway", owner=world["sam"].pk
    )
    job = BulkJob.objects.get()
    original = EventBatch.flush
    flushes = []

    def crash_on_the_second_chunk(batch):
        flushes.append(len(batch.events))
        if len(flushes) == 2:
            raise OSError("worker lost its database connection")
        return original(batch)

    monkeypatch.setattr(EventBatch, "flush", crash_on_the_second_chunk)
    assert one_chunk(job) is True
    assert one_chunk(job) is False  # the second chunk's owners were written, then it crashed
    job.refresh_from_db()
    assert job.status == "failed" and "worker lost its database connection" in job.error
    assert (job.done, job.cursor) == (2, leads[1].pk)
    owners = [Lead.objects.get(pk=lead.pk).owner for lead in leads]
    assert owners == [world["sam"]] * 2 + [world["alex"]] * 3  # the crashed chunk left nothing
    page = world["client"].get(reverse("leads:bulk-job", args=[job.pk])).content.decode()
    assert 'data-testid="bulk-resume"' in page and "worker lost its database connection" in page

    monkeypatch.setattr(EventBatch, "flush", original)
    resume = world["client"].post(reverse("leads:bulk-job-resume", args=[job.pk]))
    assert resume["Location"] == reverse("leads:bulk-job", args=[job.pk])
    job.refresh_from_db()
    assert job.status == "queued"
    while one_chunk(job):
        pass
    job.refresh_from_db()
    assert (job.status, job.done, job.changed, job.failed) == ("done", 5, 5, 0)
    for lead in leads:
        assert Lead.objects.get(pk=lead.pk).owner == world["sam"]
        assert LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.REASSIGNED).count() == 1
    assert response.status_code == 302


def test_a_redelivered_task_after_the_job_ended_changes_nothing(world, small_limits):
    leads = make_leads(world, 5)
    job = BulkJobFactory(created_by=world["alex"], lead_ids=[lead.pk for lead in leads], total=5)
    while one_chunk(job):
        pass
    assert one_chunk(job) is False
    assert tasks.bulk_job_work(job.pk) is False
    for lead in leads:
        assert len(bulk_events(lead)) == 1


def test_one_leads_failure_is_kept_with_why_and_the_others_go_on(world, monkeypatch):
    leads = make_leads(world, 3)
    original = bulk_flow.stage_change

    def refuse_the_second(lead, stage, **kwargs):
        if lead.pk == leads[1].pk:
            original(lead, stage, **kwargs)  # its change and events are undone with it
            raise ValueError("this lead is being merged")
        return original(lead, stage, **kwargs)

    monkeypatch.setattr(bulk_flow, "stage_change", refuse_the_second)
    response = post_bulk(world["client"], Action.STAGE, leads=leads, stage="engaged")
    job = BulkJob.objects.get()
    assert (job.status, job.done, job.changed, job.failed) == ("done", 2, 2, 1)
    assert job.errors == [[leads[1].pk, "ValueError: this lead is being merged"]]
    stages = [Lead.objects.get(pk=lead.pk).stage for lead in leads]
    assert stages == ["engaged", "new", "engaged"]
    assert not bulk_events(leads[1])
    messages = [str(m) for m in world["client"].get(response["Location"]).context["messages"]]
    assert messages == ["Bulk: Stage: Engaged: 2 leads changed, 1 could not be changed."]


def test_all_matching_leaves_out_leads_that_arrive_after_it_was_asked_for(world, small_limits):
    make_leads(world, 4, source=Lead.Source.GIVEAWAY)
    post_bulk(world["client"], Action.STAGE, all_query="source=giveaway", stage="engaged")
    job = BulkJob.objects.get()
    late = LeadFactory(owner=world["alex"], source=Lead.Source.GIVEAWAY)
    while one_chunk(job):
        pass
    late.refresh_from_db()
    assert late.stage == "new"
    assert late not in job_leads(job)
    job.refresh_from_db()
    assert (job.total, job.changed) == (4, 4)


def test_a_job_whose_tag_or_owner_is_gone_stops_and_says_so(world, small_limits):
    leads = make_leads(world, 5)
    post_bulk(world["client"], Action.TAG_ADD, leads=leads, tag="Short-lived")
    job = BulkJob.objects.get()
    Tag.objects.filter(name="Short-lived").delete()
    one_chunk(job)
    job.refresh_from_db()
    assert (job.status, job.error) == ("failed", "The tag was deleted.")


def test_each_chunk_writes_its_events_in_one_insert(world, django_assert_max_num_queries, settings):
    """Tagging costs the same few queries for a chunk of 5 leads as for 50."""
    settings.BULK_CHUNK_SIZE = 100
    small = make_leads(world, 5)
    big = make_leads(world, 50)
    counts = []
    for leads in (small, big):
        job = BulkJobFactory(
            created_by=world["alex"],
            action=Action.TAG_ADD,
            params={"tag": TagFactory(name=f"T{len(leads)}").pk},
            lead_ids=[lead.pk for lead in leads],
            total=len(leads),
        )
        with django_assert_max_num_queries(20) as captured:
            bulk_flow.bulk_job_work(job.pk)
        counts.append(len(captured.captured_queries))
        assert LeadEvent.objects.filter(data__bulk=job.pk).count() == len(leads)
    assert counts[0] == counts[1]


def test_a_reassign_costs_two_queries_a_lead_when_nothing_fails(
    world, django_assert_max_num_queries, settings
):
    """The owner's UPDATE and the previous owner's alerts closed; no savepoint per lead (the
    chunk has one), and the events in one insert. The leads' future appointments (which go to
    the new owner) are one query for the whole chunk: the bound's one extra (+16, was +15)."""
    settings.BULK_CHUNK_SIZE = 100
    leads = make_leads(world, 40)
    job = BulkJobFactory(
        created_by=AgentFactory(broker=True).user,
        action=Action.REASSIGN,
        params={"owner": world["sam"].pk, "label": "Reassign to Sam Chen"},
        lead_ids=[lead.pk for lead in leads],
        total=40,
    )
    with django_assert_max_num_queries(2 * 40 + 16):
        bulk_flow.bulk_job_work(job.pk)
    job.refresh_from_db()
    assert (job.status, job.changed) == ("done", 40)


def test_someone_elses_job_page_is_not_found(client, agent, sam):
    job = BulkJobFactory(created_by=sam, lead_ids=[], total=0)
    for name in ("leads:bulk-job", "leads:bulk-job-progress"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404
    assert client.post(reverse("leads:bulk-job-resume", args=[job.pk])).status_code == 404


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_given_the_same_job_change_each_lead_once(run_together, settings, alex, sam):
    """A redelivered task while the first still works: they take turns on the job's row lock,
    and each chunk starts after the cursor the other committed."""
    settings.BULK_CHUNK_SIZE = 3
    broker = AgentFactory(broker=True).user
    leads = [LeadFactory(owner=alex) for _ in range(20)]
    job = BulkJobFactory(
        created_by=broker,
        action=Action.REASSIGN,
        params={"owner": sam.pk, "label": "Reassign to Sam Chen"},
        lead_ids=[lead.pk for lead in leads],
        total=20,
    )
    run_together(*[lambda: bulk_flow.bulk_job_work(job.pk) for _ in range(2)])
    job.refresh_from_db()
    assert (job.status, job.done, job.changed, job.failed) == ("done", 20, 20, 0)
    for lead in leads:
        assert Lead.objects.get(pk=lead.pk).owner == sam
        assert LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.REASSIGNED).count() == 1
