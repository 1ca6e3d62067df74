"""The complaint lifecycle as a table.

Every allowed step is one row of :data:`TRANSITIONS`: ``(from status, action) -> Transition``.
Anything not in the table raises :class:`~core.errors.IllegalTransitionError`. The table is
the single source of truth; services never test statuses with ``if`` chains of their own.

::

    received ──acknowledge──▶ acknowledged ──respond──▶ responded ──request_escalation──▶
    escalation_requested ──acknowledge_escalation──▶ escalation_acknowledged
    ──send_final_response──▶ final_response_sent ──close──▶ closed

    refuse:   received | acknowledged (stage 1, CHC-2.4) · escalation_requested (stage 2)
    withdraw: any open status
    close:    responded (no escalation within the set period) · final_response_sent
    request_escalation from closed: only after a stage 1 close — later requests are still
    considered (CHC-6.10)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from core.complaints.enums import Action, Stage, Status
from core.errors import IllegalTransitionError


@dataclass(frozen=True, slots=True)
class Transition:
    """One allowed step: where it leads, at which stages it is allowed, what stage follows."""

    to: Status
    stages: frozenset[Stage] = frozenset({Stage.ONE, Stage.TWO})
    sets_stage: Stage | None = None


_S1: Final = frozenset({Stage.ONE})
_S2: Final = frozenset({Stage.TWO})

TRANSITIONS: Final[dict[tuple[Status, Action], Transition]] = {
    (Status.RECEIVED, Action.ACKNOWLEDGE): Transition(Status.ACKNOWLEDGED, _S1),  # CHC-6.2
    (Status.RECEIVED, Action.REFUSE): Transition(Status.REFUSED, _S1),  # CHC-2.4
    (Status.RECEIVED, Action.WITHDRAW): Transition(Status.WITHDRAWN, _S1),
    (Status.ACKNOWLEDGED, Action.RESPOND): Transition(Status.RESPONDED, _S1),  # CHC-6.3
    (Status.ACKNOWLEDGED, Action.REFUSE): Transition(Status.REFUSED, _S1),
    (Status.ACKNOWLEDGED, Action.WITHDRAW): Transition(Status.WITHDRAWN, _S1),
    (Status.RESPONDED, Action.REQUEST_ESCALATION): Transition(  # CHC-6.10
        Status.ESCALATION_REQUESTED, _S1, sets_stage=Stage.TWO
    ),
    (Status.RESPONDED, Action.CLOSE): Transition(Status.CLOSED, _S1),
    (Status.RESPONDED, Action.WITHDRAW): Transition(Status.WITHDRAWN, _S1),
    (Status.ESCALATION_REQUESTED, Action.ACKNOWLEDGE_ESCALATION): Transition(  # CHC-6.11
        Status.ESCALATION_ACKNOWLEDGED, _S2
    ),
    (Status.ESCALATION_REQUESTED, Action.REFUSE): Transition(Status.REFUSED, _S2),  # CHC-6.10
    (Status.ESCALATION_REQUESTED, Action.WITHDRAW): Transition(Status.WITHDRAWN, _S2),
    (Status.ESCALATION_ACKNOWLEDGED, Action.SEND_FINAL_RESPONSE): Transition(  # CHC-6.14
        Status.FINAL_RESPONSE_SENT, _S2
    ),
    (Status.ESCALATION_ACKNOWLEDGED, Action.WITHDRAW): Transition(Status.WITHDRAWN, _S2),
    (Status.FINAL_RESPONSE_SENT, Action.CLOSE): Transition(Status.CLOSED, _S2),
    (Status.CLOSED, Action.REQUEST_ESCALATION): Transition(  # CHC-6.10: late requests considered
        Status.ESCALATION_REQUESTED, _S1, sets_stage=Stage.TWO
    ),
}

OPEN_STATUSES: Final = frozenset(
    {
        Status.RECEIVED,
        Status.ACKNOWLEDGED,
        Status.RESPONDED,
        Status.ESCALATION_REQUESTED,
        Status.ESCALATION_ACKNOWLEDGED,
    }
)
"""Statuses in which the landlord still owes the resident something at the current stage."""


def next_state(status: Status, stage: Stage, action: Action) -> tuple[Status, Stage]:
    """Return the status and stage after ``action``, or raise if the table does not allow it.

    Raises:
        IllegalTransitionError: naming the current status, stage and the refused action.
    """
    transition = TRANSITIONS.get((status, action))
    if transition is None or stage not in transition.stages:
        allowed = sorted(
            a.value for (s, a), t in TRANSITIONS.items() if s == status and stage in t.stages
        )
        raise IllegalTransitionError(
            f"cannot {action.value.replace('_', ' ')} a complaint that is {status.value} at "
            f"stage {int(stage)}; allowed: {', '.join(allowed) or 'nothing'}"
        )
    return transition.to, transition.sets_stage or stage


def allowed_actions(status: Status, stage: Stage) -> list[Action]:
    """Return the actions the table allows from ``status`` at ``stage``."""
    return [a for (s, a), t in TRANSITIONS.items() if s == status and stage in t.stages]
