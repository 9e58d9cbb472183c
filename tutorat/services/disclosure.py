"""What a viewer may see of a binôme: decided here, once, for every page, export and email.

A tutor sees of the mentee only what the mentee agreed to share, field by field. What follows
from a hidden value is hidden too: the explanation's part that uses it, its sentence, the total
score (total minus the visible parts would give the hidden part), a figure quoted in the status
history, and the suggested meeting place (often the mentee's own commune).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import matching
from tutorat import vocab
from tutorat.models import Pair, User
from tutorat.services.profiles import metiers_shown, shared_with_tutor

PARIS = ZoneInfo("Europe/Paris")
PLACE_TO_AGREE = "Lieu à convenir avec le référent"
MOTIVE_HIDDEN = "(motif non communiqué)"

# The mentee's sharing choice each part of the score depends on (the part reveals that field).
PART_NEEDS = {"distance": "commune", "sector": "metier", "experience": "obstacles"}
# Figures with decimals (a score, a part) in a free sentence of the status history.
_FIGURE = re.compile(r"\d+[.,]\d+")


@dataclass(frozen=True)
class PartView:
    """One part of the score as this viewer may see it (value and contribution None if hidden)."""

    name: str
    label: str
    weight: float
    value: float | None
    contribution: float | None

    @property
    def hidden(self) -> bool:
        return self.value is None


class Audience(enum.StrEnum):
    """Who looks at a binôme, for what they may see of it."""

    STAFF = "staff"  # the mentee's référent, or an administrator
    MENTEE = "mentee"
    TUTOR = "tutor"
    NONE = "none"  # anybody else: sees nothing of the mentee


@dataclass(frozen=True)
class PairView:
    """What one viewer may see of one binôme: a plain object, no ORM, safe to hand to templates."""

    audience: Audience
    mentee_fields: dict[str, Any]
    mentee_label: str
    parts: tuple[PartView, ...]
    reasons: tuple[str, ...]
    show_total: bool
    score: float | None
    meeting_place: str
    meeting_place_shown: bool
    mentee_id: int = 0
    tutor_id: int = 0
    tutor_label: str = ""
    # Free texts and details about the mentee's situation (refusal detail, outcome, rights).
    details_shown: bool = False
    # How a document addressed to this viewer names both people (the explanation, a letter):
    # in full for the référent and for each person about themself; else as in `person`.
    mentee_name: str = ""
    tutor_name: str = ""

    @property
    def hidden_parts(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parts if p.hidden)

    @property
    def restricted(self) -> bool:
        return self.audience in (Audience.TUTOR, Audience.NONE)

    def person(self, user: User | None) -> str:
        """How to name `user` (an actor of the history) for this viewer."""
        if user is None:
            return "Tutorat (opération automatique)"
        if user.id == self.mentee_id:
            return self.mentee_label
        if user.id == self.tutor_id and self.audience == Audience.MENTEE:
            return self.tutor_label
        return f"{user.full_name} ({user.role_label.lower()})"

    def text(self, value: str) -> str:
        """A sentence of the status history, without a figure when the total is hidden."""
        if self.show_total:
            return value
        return _FIGURE.sub("(non communiqué)", value)

    def event_reason(self, reason: str, actor_id: int | None) -> str:
        """Why a status changed, as this viewer may read it.

        A tutor reads the reasons of their own answers only: the others are written by the mentee
        (her refusal, in her words) or by the référent (an outcome that tells her situation).
        """
        if self.restricted and not (self.audience == Audience.TUTOR and actor_id == self.tutor_id):
            return MOTIVE_HIDDEN if reason else ""
        return self.text(reason)


def _audience(pair: Pair, viewer: User | None) -> Audience:
    if viewer is None:
        return Audience.NONE
    if viewer.id == pair.tutor_id:
        return Audience.TUTOR
    if viewer.id == pair.mentee_id:
        return Audience.MENTEE
    profile = pair.mentee.mentee_profile
    if viewer.is_admin or (
        viewer.is_referent and profile is not None and profile.referent_id == viewer.id
    ):
        return Audience.STAFF
    return Audience.NONE


def _full_fields(pair: Pair) -> dict[str, Any]:
    mentee = pair.mentee
    profile = mentee.mentee_profile
    out: dict[str, Any] = {"first_name": mentee.first_name}
    if profile is None:
        return out
    if profile.commune is not None:
        out["commune"] = profile.commune.nom
    if mentee.phone:
        out["phone"] = mentee.phone
    if mentee.email:
        out["email"] = mentee.email
    out["metiers"] = metiers_shown(profile)
    out["obstacles"] = [vocab.OBSTACLES.get(o, o) for o in profile.obstacle_codes]
    return out


def pair_view(pair: Pair, viewer: User | None) -> PairView:
    """Decide what `viewer` may see of `pair` (deny by default: a stranger sees nothing of it)."""
    audience = _audience(pair, viewer)
    profile = pair.mentee.mentee_profile
    hidden: set[str] = set()
    if audience == Audience.TUTOR:
        fields = shared_with_tutor(profile, contact=pair.is_running) if profile is not None else {}
        for part, share in PART_NEEDS.items():
            if profile is None or not getattr(profile, f"share_{share}", False):
                hidden.add(part)
    elif audience == Audience.NONE:
        fields = {}
        hidden = set(matching.Weights.PARTS)
    else:
        fields = _full_fields(pair)

    ex = pair.explanation or {}
    parts = []
    for name, part in (ex.get("parts") or {}).items():
        shown = name not in hidden
        parts.append(
            PartView(
                name=name,
                label=part.get("label") or matching.PART_LABELS.get(name, name),
                weight=float(part.get("weight") or 0),
                value=float(part.get("value") or 0) if shown else None,
                contribution=float(part.get("contribution") or 0) if shown else None,
            )
        )
    reasons = list(ex.get("reasons") or [])
    kinds = list(ex.get("reason_parts") or [])
    if len(kinds) != len(reasons):  # stored before the kinds were kept
        kinds = [matching.reason_part(r) for r in reasons]
    # A sentence of unknown kind is shown only to a viewer from whom nothing is hidden.
    visible = (
        [r for r, k in zip(reasons, kinds, strict=True) if k is not None and k not in hidden]
        if hidden
        else reasons
    )
    show_total = not hidden
    place_shown = bool(pair.meeting_place) and (
        audience in (Audience.STAFF, Audience.MENTEE)
        or (audience == Audience.TUTOR and "commune" in fields)
    )
    if fields.get("first_name"):
        label = str(fields["first_name"])
    else:
        label = f"la personne accompagnée (binôme n° {pair.id})"
    return PairView(
        audience=audience,
        mentee_fields=fields,
        mentee_label=label,
        parts=tuple(parts),
        reasons=tuple(visible),
        show_total=show_total,
        score=pair.score if show_total else None,
        meeting_place=pair.meeting_place if place_shown else PLACE_TO_AGREE,
        meeting_place_shown=place_shown,
        mentee_id=pair.mentee_id,
        tutor_id=pair.tutor_id,
        tutor_label=f"{pair.tutor.first_name} (tuteur)",
        details_shown=audience in (Audience.STAFF, Audience.MENTEE),
        mentee_name=(
            pair.mentee.full_name if audience in (Audience.STAFF, Audience.MENTEE) else label
        ),
        tutor_name=(
            pair.tutor.full_name
            if audience in (Audience.STAFF, Audience.TUTOR)
            else pair.tutor.first_name
            if audience == Audience.MENTEE
            else "le tuteur"
        ),
    )


@dataclass(frozen=True)
class ProposalBrief:
    """What a tutor needs to answer a proposal knowingly (issue 15 item 1): what the person asks
    for (the demande's topics), how she wishes to meet, the free moments they have in common,
    and the date by which to answer. No free text of hers: her own words stay with her référent."""

    topics: tuple[str, ...]
    modes: tuple[str, ...]
    common_slots: tuple[str, ...]
    answer_by: date | None


def proposal_brief(pair: Pair, viewer: User | None, *, expiry_days: int) -> ProposalBrief:
    """The brief of `pair` for `viewer` (nothing for a stranger)."""
    if _audience(pair, viewer) == Audience.NONE:
        return ProposalBrief((), (), (), None)
    request = pair.request
    mentee_profile = pair.mentee.mentee_profile
    tutor_profile = pair.tutor.tutor_profile
    common = (
        mentee_profile.availability & tutor_profile.availability
        if mentee_profile is not None and tutor_profile is not None
        else 0
    )
    answer_by = (
        (pair.proposed_at + timedelta(days=expiry_days)).astimezone(PARIS).date()
        if pair.is_unanswered
        else None
    )
    return ProposalBrief(
        topics=tuple(vocab.labels(request.topic_codes, vocab.TOPICS)),
        modes=tuple(vocab.labels(request.mode_codes, vocab.MEETING_MODES)),
        common_slots=tuple(vocab.slots_labels(common)),
        answer_by=answer_by,
    )


__all__ = [
    "MOTIVE_HIDDEN",
    "PLACE_TO_AGREE",
    "PairView",
    "PartView",
    "ProposalBrief",
    "pair_view",
    "proposal_brief",
]
