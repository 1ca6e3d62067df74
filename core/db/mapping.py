"""Translation between table rows and the domain's pydantic models."""

from __future__ import annotations

from typing import Any

from core.complaints.enums import Stage
from core.complaints.models import Complaint, Representative, StageRecord
from core.db.tables import ComplaintRow

_STAGE_FIELDS = tuple(StageRecord.model_fields)
_LIST_FIELDS = (
    "outcomes_sought",
    "adjustments",
    "vulnerabilities",
    "hazards",
    "exclusions_flagged",
)
_CHILDREN = ("elements", "decisions", "remedies", "actions", "extensions")
_NESTED = ("stage1", "stage2", "representative", "id")


def complaint_columns(complaint: Complaint) -> dict[str, Any]:
    """Return the column values of ``complaint``'s own row (children are stored separately)."""
    values = complaint.model_dump(mode="python", exclude={*_CHILDREN, *_NESTED})
    for name in _LIST_FIELDS:
        values[name] = [str(v) for v in values[name]]
    values["stage"] = int(complaint.stage)
    values["status"] = complaint.status.value
    values["representative"] = (
        complaint.representative.model_dump() if complaint.representative else None
    )
    for stage in Stage:
        record = complaint.stage_record(stage)
        for name in _STAGE_FIELDS:
            values[f"stage{int(stage)}_{name}"] = getattr(record, name)
    values["next_due_on"] = complaint.next_due_on
    return values


def complaint_from_row(row: ComplaintRow, children: dict[str, list[Any]]) -> Complaint:
    """Build a :class:`Complaint` from its row and its already-converted children."""
    stages = {
        stage: StageRecord(
            **{name: getattr(row, f"stage{int(stage)}_{name}") for name in _STAGE_FIELDS}
        )
        for stage in Stage
    }
    return Complaint(
        id=row.id,
        reference=row.reference,
        resident_id=row.resident_id,
        representative=Representative(**row.representative) if row.representative else None,
        channel=row.channel,
        received_at=row.received_at,
        received_on=row.received_on,
        stage=Stage(row.stage),
        status=row.status,  # type: ignore[arg-type]  # validated by pydantic
        category=row.category,
        location=row.location,
        since=row.since,
        aware_on=row.aware_on,
        outcomes_sought=tuple(row.outcomes_sought),
        adjustments=tuple(row.adjustments),
        vulnerabilities=tuple(row.vulnerabilities),
        urgent=row.urgent,
        hazards=tuple(row.hazards),
        exclusions_flagged=tuple(row.exclusions_flagged),  # type: ignore[arg-type]
        stage1=stages[Stage.ONE],
        stage2=stages[Stage.TWO],
        next_update_due_on=row.next_update_due_on,
        escalation_requested_at=row.escalation_requested_at,
        escalation_reason=row.escalation_reason,
        refusal_reason=row.refusal_reason,
        closed_at=row.closed_at,
        version=row.version,
        elements=tuple(children.get("elements", ())),
        decisions=tuple(children.get("decisions", ())),
        remedies=tuple(children.get("remedies", ())),
        actions=tuple(children.get("actions", ())),
        extensions=tuple(children.get("extensions", ())),
    )


def row_values(obj: Any, row_type: type[Any]) -> dict[str, Any]:
    """Return the attributes of a mapped row as a dict of its column values."""
    return {c.key: getattr(obj, c.key) for c in row_type.__table__.columns}
