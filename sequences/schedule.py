"""Which steps of a track are due, and which apply to a lead. Pure: plain values, no database.

    a step applies   if it is for the enrolment's intent (or every intent),
                     its condition holds (no conversation yet / after a conversation),
                     and it is not the acknowledgment of an enrolment that skips it (a move);
    a step is due    when clock_start + offset <= now and it was not done yet;
    a catch-up       (several offsets due at once, e.g. after the workers were down) sends each
                     channel's latest touch only: two texts in one minute help nobody.

Offsets count from the enrolment's clock, which a pause pushes later; what is due is derived
from the stored progress and the clock, never from how often the scheduler ran.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class StepSpec:
    """One step as plain values (see sequences.models.Step)."""

    id: int
    position: int
    offset_minutes: int
    kind: str  # sms, email, task, move
    for_intent: str = ""
    condition: str = ""  # "", no_conversation, conversation
    is_acknowledgment: bool = False
    template_key: str = ""
    task_kind: str = ""
    task_due_minutes: int = 0
    move_to: str = ""  # track key
    move_intent: str = ""

    @property
    def offset(self) -> timedelta:
        return timedelta(minutes=self.offset_minutes)

    @property
    def sends_message(self) -> bool:
        return self.kind in ("sms", "email")


@dataclass(frozen=True)
class Facts:
    """What a step's conditions look at."""

    intent: str
    has_conversation: bool = False
    acknowledge: bool = True


def ordered(steps: Iterable[StepSpec]) -> list[StepSpec]:
    return sorted(steps, key=lambda step: (step.offset_minutes, step.position))


def applies(step: StepSpec, facts: Facts) -> bool:
    if step.for_intent and step.for_intent != facts.intent:
        return False
    if step.is_acknowledgment and not facts.acknowledge:
        return False
    if step.condition == "no_conversation":
        return not facts.has_conversation
    if step.condition == "conversation":
        return facts.has_conversation
    return True


def due_steps(
    steps: Iterable[StepSpec], *, clock_start: datetime, done_through_minutes: int, now: datetime
) -> list[StepSpec]:
    """Steps not yet done whose time has come, in the order they run."""
    elapsed = now - clock_start
    return [
        step
        for step in ordered(steps)
        if step.offset_minutes > done_through_minutes and step.offset <= elapsed
    ]


def next_due_at(
    steps: Iterable[StepSpec], *, clock_start: datetime, done_through_minutes: int
) -> datetime | None:
    """When the next step not yet done is due; None when the track has no more steps."""
    later = [step.offset for step in steps if step.offset_minutes > done_through_minutes]
    return clock_start + min(later) if later else None


def superseded(due: Sequence[StepSpec]) -> set[int]:
    """Message steps a later due message step on the same channel makes redundant."""
    latest: dict[str, int] = {}
    for step in due:
        if step.sends_message:
            latest[step.kind] = max(latest.get(step.kind, -1), step.offset_minutes)
    return {
        step.id
        for step in due
        if step.sends_message
        and not step.is_acknowledgment
        and step.offset_minutes < latest[step.kind]
    }


def plan(steps: Iterable[StepSpec], facts: Facts) -> list[StepSpec]:
    """Every step a lead with these facts will get from the track, in order, up to and
    including the first move (after which the lead follows the other track)."""
    planned = []
    for step in ordered(steps):
        if not applies(step, facts):
            continue
        planned.append(step)
        if step.kind == "move":
            break
    return planned
