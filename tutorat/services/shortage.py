"""Where tutors are missing: the demandes no tutor fits today, by canton and EPCI (issue 13).

Computed from the same pool as the demande pages (`suggestions`): first every waiting demande's
best feasible tutors at once (`matching.candidate_graph`, the tutors who declined that demande set
aside), then, for the few with none, who was left out and why (`matching.partition`), to name the
main blocking reason: distance, slots, métier or places.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import bindparam, select

import matching
from tutorat.extensions import db
from tutorat.models import (
    Commune,
    MenteeProfile,
    Pair,
    PairStatus,
    TutoringRequest,
    TutoringRequestStatus,
    User,
)
from tutorat.models.requests import UNMATCHED_REQUEST_STATUSES
from tutorat.services import suggestions

#: The main reason no tutor fits (code -> French), in the order they are looked for.
BLOCKING_REASONS = {
    "places": "Aucun tuteur disponible (tous complets, en repos ou pas encore validés)",
    "occupation": "Aucun tuteur disponible du même domaine professionnel dans le département",
    "distance": "Tuteurs trop loin",
    "slots": "Aucun moment libre en commun",
}


@dataclass
class Stranded:
    """A demande without a binôme that no tutor fits today."""

    request_id: int
    mentee_name: str
    referent_id: int
    created_at: datetime
    age_days: int
    commune: str
    canton: str
    epci: str
    reason: str
    waiting: bool

    @property
    def reason_label(self) -> str:
        return BLOCKING_REASONS[self.reason]


@dataclass
class Area:
    """A canton or an EPCI: its stranded demandes, the oldest, and what blocks most."""

    name: str
    count: int = 0
    oldest_days: int = 0
    reasons: Counter = field(default_factory=Counter)

    @property
    def main_reason(self) -> str:
        code = max(
            BLOCKING_REASONS, key=lambda c: (self.reasons[c], -list(BLOCKING_REASONS).index(c))
        )
        return BLOCKING_REASONS[code]


@dataclass
class Shortage:
    stranded: list[Stranded]
    cantons: list[Area]
    epcis: list[Area]
    unmatched: int  # demandes without a binôme nor a proposal, stranded or not


_UNMATCHED = (
    select(
        TutoringRequest.id,
        TutoringRequest.created_at,
        TutoringRequest.status,
        MenteeProfile,
        Commune.nom,
        Commune.canton_nom,
        Commune.epci_nom,
        User.first_name,
        User.last_name,
    )
    .join(MenteeProfile, MenteeProfile.user_id == TutoringRequest.mentee_id)
    .join(User, User.id == TutoringRequest.mentee_id)
    .join(Commune, Commune.code_insee == MenteeProfile.commune_code)
    .where(TutoringRequest.status.in_(list(UNMATCHED_REQUEST_STATUSES)), User.active.is_(True))
    .order_by(TutoringRequest.created_at, TutoringRequest.id)
)
_DECLINED = select(Pair.request_id, Pair.tutor_id).where(
    Pair.status == PairStatus.DECLINED,
    Pair.request_id.in_(bindparam("ids", expanding=True)),
)


def _reason(part: matching.Partition, roster: matching.Roster, mentee: matching.Mentee) -> str:
    codes = part.codes
    held = codes & ~(matching.REASON_BITS["too_far"] | matching.REASON_BITS["no_common_slot"])
    usable = np.flatnonzero(held == 0)  # no hold, a place left: only distance or slots block
    if usable.size == 0:
        return "places"
    same = [
        i
        for i in usable.tolist()
        if any(
            (matching.rome_level(a, b) or "") in ("occupation", "domain")
            for a in mentee.sectors
            for b in roster.tutors[i].sectors
        )
    ]
    if not same:
        return "occupation"
    far = int(np.count_nonzero(codes[same] & matching.REASON_BITS["too_far"]))
    return "distance" if far * 2 >= len(same) else "slots"


def shortage(referent_id: int | None = None, now: datetime | None = None) -> Shortage:
    """The demandes no tutor fits (the whole département, or one référent's caseload)."""
    now = now or datetime.now(UTC)
    stmt = _UNMATCHED
    if referent_id is not None:
        stmt = stmt.where(MenteeProfile.referent_id == referent_id)
    rows = [r for r in db.session.execute(stmt).all() if r.MenteeProfile.is_complete]
    if not rows:
        return Shortage([], [], [], 0)
    declined: dict[int, set[int]] = {}
    for request_id, tutor_id in db.session.execute(_DECLINED, {"ids": [r.id for r in rows]}):
        declined.setdefault(request_id, set()).add(tutor_id)
    pool, roster_data, weights = suggestions.pools(now)
    communes = {r.MenteeProfile.commune_code: r.MenteeProfile.commune for r in rows}
    mentees = [
        suggestions.mentee_values(r.MenteeProfile, communes[r.MenteeProfile.commune_code])
        for r in rows
    ]
    fits = np.zeros(len(rows), dtype=np.bool_)
    if pool.index is not None:
        k = 1 + max((len(v) for v in declined.values()), default=0)
        graph = matching.candidate_graph(mentees, pool.index, k=k, weights=weights)
        for row, col in zip(graph.rows.tolist(), graph.cols.tolist(), strict=True):
            tutor_id = pool.ids[col]
            if (
                tutor_id not in declined.get(rows[row].id, ())
                and tutor_id != rows[row].MenteeProfile.user_id
            ):
                fits[row] = True
    stranded: list[Stranded] = []
    cantons: dict[str, Area] = {}
    epcis: dict[str, Area] = {}
    for i in np.flatnonzero(~fits).tolist():
        r, mentee = rows[i], mentees[i]
        holds = suggestions.roster_holds(roster_data, declined.get(r.id, set()), now)
        part = matching.partition(mentee, roster_data.roster, holds, closest=0)
        reason = _reason(part, roster_data.roster, mentee)
        age = max((now - r.created_at).days, 0)
        stranded.append(
            Stranded(
                r.id,
                f"{r.first_name} {r.last_name}",
                r.MenteeProfile.referent_id,
                r.created_at,
                age,
                r.nom,
                r.canton_nom,
                r.epci_nom,
                reason,
                r.status == TutoringRequestStatus.WAITING,
            )
        )
        for areas, name in ((cantons, r.canton_nom), (epcis, r.epci_nom)):
            area = areas.setdefault(name, Area(name))
            area.count += 1
            area.oldest_days = max(area.oldest_days, age)
            area.reasons[reason] += 1

    def ordered(areas: dict[str, Area]) -> list[Area]:
        return sorted(areas.values(), key=lambda a: (-a.count, -a.oldest_days, a.name))

    stranded.sort(key=lambda s: (-s.age_days, s.request_id))
    return Shortage(stranded, ordered(cantons), ordered(epcis), len(rows))
