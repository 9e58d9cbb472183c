"""Batch matching: every open demande at once, through `matching`'s public API only.

The plan maximises first the number of people matched, then the total score, within every
tutor's free places (`matching.assign_batch`, with proven bounds). It is compared with a greedy
baseline (best pair first, over the same candidate graph). Nothing is written by `plan`: making
the proposals is a separate, explicit step (`propose_all`), and each one still goes through the
usual workflow — the tutor and the mentee answer, and the référent confirms (RGPD art. 22).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
from sqlalchemy import and_, or_, select

import matching
from tutorat.extensions import db
from tutorat.models import (
    Commune,
    EventEntity,
    MenteeProfile,
    StatusEvent,
    TutoringRequest,
    TutoringRequestStatus,
    TutorProfile,
    User,
)
from tutorat.services import pairs as pair_service
from tutorat.services import reference, suggestions
from tutorat.services.errors import DomainError

#: What the status events of a proposal made by `propose_all` say, before the usual reason.
SYSTEM_REASON = "Proposé par l'affectation groupée (flask match --create) au nom du référent"


@dataclass(frozen=True)
class Proposal:
    request_id: int
    mentee_id: int
    referent_id: int
    tutor_id: int
    score: float
    mentee_commune: str
    tutor_commune: str


@dataclass
class Plan:
    """What batch matching would propose, and how good that is."""

    proposals: list[Proposal]
    open_requests: int  # open demandes of active mentees
    incomplete: int  # of which the profile cannot be scored (no commune, métier or free slot)
    tutors: int  # tutors who may be proposed now
    places: int  # their free places
    total_score: float
    max_pairs: int  # proven: no assignment matches more mentees
    score_bound: float | None  # proven: no assignment of as many mentees scores more
    proven_optimal: bool
    greedy_pairs: int
    greedy_score: float
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def matched(self) -> int:
        return len(self.proposals)

    @property
    def gap(self) -> float | None:
        """What is left to gain at most, as a share of the proven bound (0 when proven optimal)."""
        if self.proven_optimal:
            return 0.0
        if self.score_bound is None or self.score_bound <= 0:
            return None
        return max(0.0, (self.score_bound - self.total_score) / self.score_bound)

    @property
    def optimality(self) -> str:
        """« optimum prouvé », or the gap left at most, in French."""
        if self.proven_optimal:
            return "optimum prouvé"
        if self.gap is None:
            return (
                f"optimum non prouvé : jusqu'à {self.max_pairs - self.matched} "
                "bénéficiaire(s) de plus pourrai(en)t être apparié(s)"
            )
        return f"optimum non prouvé : écart au plus {self.gap * 100:.2f} %".replace(".", ",")


def _mentees() -> tuple[list[tuple[int, int, int, str]], list[matching.Mentee], int, int]:
    rows = db.session.execute(
        select(
            TutoringRequest.id,
            TutoringRequest.mentee_id,
            MenteeProfile.referent_id,
            MenteeProfile.target_metiers,
            MenteeProfile.availability,
            MenteeProfile.max_km,
            MenteeProfile.has_car,
            MenteeProfile.remote_ok,
            MenteeProfile.obstacles,
            Commune.code_insee,
            Commune.latitude,
            Commune.longitude,
        )
        .join(MenteeProfile, MenteeProfile.user_id == TutoringRequest.mentee_id)
        .join(User, User.id == TutoringRequest.mentee_id)
        .outerjoin(Commune, Commune.code_insee == MenteeProfile.commune_code)
        .where(TutoringRequest.status == TutoringRequestStatus.OPEN, User.active.is_(True))
        # The oldest demandes first: the order of the output, and of the greedy baseline's ties.
        .order_by(TutoringRequest.created_at, TutoringRequest.id)
    ).all()
    keys, mentees = [], []
    incomplete = 0
    # A code unknown to the ROME repertory is refused before scoring: the profile is incomplete.
    unknown = set(
        reference.unknown_rome_codes(
            sorted({c for row in rows for c in (row.target_metiers or "").split(",") if c})
        )
    )
    for rid, uid, referent, metiers, slots, max_km, car, remote, obstacles, code, lat, lon in rows:
        sectors = tuple(c for c in (metiers or "").split(",") if c)
        if code is None or not sectors or not slots or unknown.intersection(sectors):
            incomplete += 1
            continue
        keys.append((rid, uid, referent, code))
        mentees.append(
            matching.Mentee(
                id=uid,
                lat=lat,
                lon=lon,
                sectors=sectors,
                availability=slots,
                max_km=float(max_km),
                has_car=car,
                remote_ok=remote,
                obstacles=frozenset(c for c in (obstacles or "").split(",") if c),
            )
        )
    return keys, mentees, len(rows), incomplete


def greedy(graph: matching.CandidateGraph, capacity: np.ndarray) -> list[tuple[int, int]]:
    """The baseline: best pair of the candidate graph first, if the mentee is free and the tutor has a place."""
    order = np.lexsort((graph.cols, graph.rows, -graph.scores))
    left = capacity.astype(np.int64).copy()
    taken = np.zeros(graph.n_mentees, dtype=bool)
    pairs = []
    for i, j in zip(graph.rows[order].tolist(), graph.cols[order].tolist(), strict=True):
        if not taken[i] and left[j] > 0:
            taken[i] = True
            left[j] -= 1
            pairs.append((i, j))
    return pairs


def plan(
    *,
    k: int = 10,
    progress: Callable[[str, int, int], None] | None = None,
    weights: matching.Weights | None = None,
) -> Plan:
    """The proposals batch matching would make now (nothing is written); `weights`: the current ones
    by default, or others to simulate their effect (« Ce que montrent les décisions »)."""
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    pool = suggestions.tutor_pool()
    weights = weights or suggestions.current_weights()
    keys, mentees, n_open, incomplete = _mentees()
    tutor_communes = _tutor_communes(pool.ids)
    seconds["chargement"] = time.perf_counter() - start
    places = int(sum(t.capacity for t in pool.values))
    empty = Plan([], n_open, incomplete, len(pool.ids), places, 0.0, 0, 0.0, True, 0, 0.0, seconds)
    if pool.index is None or not mentees:
        return empty

    start = time.perf_counter()
    min_score = suggestions.current_min_score()
    result = matching.assign_batch(
        mentees, pool.index, weights, k=k, exact=True, progress=progress, min_score=min_score
    )
    seconds["affectation"] = time.perf_counter() - start

    start = time.perf_counter()
    graph = matching.candidate_graph(mentees, pool.index, k=k, weights=weights)
    capacity = np.array([t.capacity for t in pool.values], dtype=np.int64)
    if min_score:  # the baseline makes no pair under the minimum either
        keep = graph.scores >= min_score
        graph = replace(
            graph, rows=graph.rows[keep], cols=graph.cols[keep], scores=graph.scores[keep]
        )
    baseline = greedy(graph, capacity)
    lookup = dict(
        zip((graph.rows * len(pool.ids) + graph.cols).tolist(), graph.scores.tolist(), strict=True)
    )
    greedy_score = float(sum(lookup[i * len(pool.ids) + j] for i, j in baseline))
    seconds["glouton"] = time.perf_counter() - start

    proposals = []
    for i, j in sorted(result.pairs):
        score = float(pool.index.scores(mentees[i], np.array([j]), weights)[0])
        rid, uid, referent, code = keys[i]
        proposals.append(
            Proposal(
                rid, uid, referent, pool.ids[j], score, code, tutor_communes.get(pool.ids[j], "")
            )
        )
    return Plan(
        proposals,
        n_open,
        incomplete,
        len(pool.ids),
        places,
        result.total_score,
        result.max_pairs,
        result.score_bound,
        result.proven_optimal,
        len(baseline),
        greedy_score,
        seconds,
    )


def _tutor_communes(ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = db.session.execute(select(TutorProfile.user_id, TutorProfile.commune_code))
    return {user_id: code for user_id, code in rows if code is not None}


def propose_all(
    proposals: list[Proposal], *, on_each: Callable[[Proposal, str | None], None] | None = None
) -> tuple[int, int]:
    """Make each proposal through the usual service, one transaction each; (made, refused).

    Each is recorded as made by the system (no person as actor) on behalf of the mentee's
    référent, who still confirms the binôme once both people have accepted.
    """
    made = refused = 0
    for proposal in proposals:
        error = None
        try:
            request = db.session.get(TutoringRequest, proposal.request_id)
            referent = db.session.get(User, proposal.referent_id)
            if request is None or referent is None:
                raise DomainError("Demande ou référent introuvable.")
            pair = pair_service.propose(
                request, proposal.tutor_id, actor=referent, record_shown=False
            )
            db.session.flush()
            events = db.session.scalars(
                select(StatusEvent).where(
                    or_(
                        and_(
                            StatusEvent.entity == EventEntity.PAIR, StatusEvent.entity_id == pair.id
                        ),
                        and_(
                            StatusEvent.entity == EventEntity.REQUEST,
                            StatusEvent.entity_id == request.id,
                            StatusEvent.to_status == TutoringRequestStatus.PROPOSED,
                            StatusEvent.reason == f"Binôme n° {pair.id} proposé",
                        ),
                    )
                )
            )
            for event in events:
                event.actor_id = None
                event.on_behalf_of_id = referent.id
                event.reason = f"{SYSTEM_REASON} : {event.reason}"
            db.session.commit()
            made += 1
        except DomainError as exc:
            db.session.rollback()
            error = exc.message
            refused += 1
        if on_each is not None:
            on_each(proposal, error)
    return made, refused


__all__ = ["SYSTEM_REASON", "Plan", "Proposal", "greedy", "plan", "propose_all"]
