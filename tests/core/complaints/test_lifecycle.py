"""The transition table: every (status, stage, action) is either allowed with a known result or
refused with IllegalTransitionError — no combination is left to chance."""

from __future__ import annotations

import itertools

import pytest

from core.complaints.enums import Action, Stage, Status
from core.complaints.lifecycle import OPEN_STATUSES, TRANSITIONS, allowed_actions, next_state
from core.errors import IllegalTransitionError

S1, S2 = Stage.ONE, Stage.TWO

# (status, stage, action) -> (status, stage): the whole of the allowed lifecycle, written out.
ALLOWED = {
    (Status.RECEIVED, S1, Action.ACKNOWLEDGE): (Status.ACKNOWLEDGED, S1),  # CHC-6.2
    (Status.RECEIVED, S1, Action.REFUSE): (Status.REFUSED, S1),  # CHC-2.4
    (Status.RECEIVED, S1, Action.WITHDRAW): (Status.WITHDRAWN, S1),
    (Status.ACKNOWLEDGED, S1, Action.RESPOND): (Status.RESPONDED, S1),  # CHC-6.3
    (Status.ACKNOWLEDGED, S1, Action.REFUSE): (Status.REFUSED, S1),
    (Status.ACKNOWLEDGED, S1, Action.WITHDRAW): (Status.WITHDRAWN, S1),
    (Status.RESPONDED, S1, Action.REQUEST_ESCALATION): (Status.ESCALATION_REQUESTED, S2),
    (Status.RESPONDED, S1, Action.CLOSE): (Status.CLOSED, S1),
    (Status.RESPONDED, S1, Action.WITHDRAW): (Status.WITHDRAWN, S1),
    (Status.ESCALATION_REQUESTED, S2, Action.ACKNOWLEDGE_ESCALATION): (
        Status.ESCALATION_ACKNOWLEDGED,
        S2,
    ),  # CHC-6.11
    (Status.ESCALATION_REQUESTED, S2, Action.REFUSE): (Status.REFUSED, S2),
    (Status.ESCALATION_REQUESTED, S2, Action.WITHDRAW): (Status.WITHDRAWN, S2),
    (Status.ESCALATION_ACKNOWLEDGED, S2, Action.SEND_FINAL_RESPONSE): (
        Status.FINAL_RESPONSE_SENT,
        S2,
    ),  # CHC-6.14
    (Status.ESCALATION_ACKNOWLEDGED, S2, Action.WITHDRAW): (Status.WITHDRAWN, S2),
    (Status.FINAL_RESPONSE_SENT, S2, Action.CLOSE): (Status.CLOSED, S2),
    # CHC-6.10: a request after a stage 1 close is still considered.
    (Status.CLOSED, S1, Action.REQUEST_ESCALATION): (Status.ESCALATION_REQUESTED, S2),
}

EVERY_COMBINATION = list(itertools.product(Status, Stage, Action))


@pytest.mark.parametrize(("status", "stage", "action"), list(ALLOWED))
def test_allowed_transition(status: Status, stage: Stage, action: Action) -> None:
    assert next_state(status, stage, action) == ALLOWED[(status, stage, action)]


@pytest.mark.parametrize(
    ("status", "stage", "action"), [c for c in EVERY_COMBINATION if c not in ALLOWED]
)
def test_everything_else_is_refused(status: Status, stage: Stage, action: Action) -> None:
    with pytest.raises(IllegalTransitionError) as refused:
        next_state(status, stage, action)
    message = str(refused.value)
    assert status.value in message
    assert f"stage {int(stage)}" in message


def test_refusal_names_what_is_allowed() -> None:
    with pytest.raises(IllegalTransitionError, match="allowed: acknowledge, refuse, withdraw"):
        next_state(Status.RECEIVED, S1, Action.RESPOND)


def test_no_stage_3_after_final_response() -> None:  # CHC-6.20
    with pytest.raises(IllegalTransitionError):
        next_state(Status.FINAL_RESPONSE_SENT, S2, Action.REQUEST_ESCALATION)
    with pytest.raises(IllegalTransitionError):
        next_state(Status.CLOSED, S2, Action.REQUEST_ESCALATION)


def test_terminal_statuses_allow_nothing_but_a_late_stage_1_escalation() -> None:
    for status in (Status.REFUSED, Status.WITHDRAWN):
        for stage in Stage:
            assert allowed_actions(status, stage) == []
    assert allowed_actions(Status.CLOSED, S1) == [Action.REQUEST_ESCALATION]
    assert allowed_actions(Status.CLOSED, S2) == []


def test_table_and_open_statuses_agree() -> None:
    # Every open status can still move on; no closed one can except as tested above.
    for status in OPEN_STATUSES:
        assert any(s == status for s, _ in TRANSITIONS)
    assert len(ALLOWED) == sum(len(t.stages) for t in TRANSITIONS.values())
