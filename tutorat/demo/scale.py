"""A Gers-sized population for measurements: `flask seed-demo --scale gers`.

10,000 bénéficiaires, 3,000 tuteurs, 60 référents, 8,000 binômes in every status and 40,000
meetings, on the real communes and ROME codes, on top of the demo population (whose four demo
accounts keep working). Everything is planned in memory first, then written with bulk inserts
(`session.execute(insert(Model), rows)` in batches) in one transaction: interrupted, it leaves
nothing. All generated accounts share the demo password, hashed once.

The invariants of the application hold: places used never exceed capacity and equal each tutor's
live binômes, one live binôme and one open demande per mentee, and every demande and binôme has
the status events that lead to its status (a creation event, then each change).
"""

from __future__ import annotations

import itertools
import math
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import click
from sqlalchemy import and_, exists, func, insert, not_, select, text, update

import matching
from tutorat import vocab
from tutorat.demo import COMMON_METIERS, DEMO_PASSWORD, FIRST_NAMES, LAST_NAMES, MESSAGES, seed_demo
from tutorat.demo.story import DEMO_CHOICE_NOISE, DEMO_PREFERENCE, VOICE_STATUSES, pair_paths
from tutorat.extensions import db
from tutorat.models import (
    Commune,
    EventEntity,
    Meeting,
    MenteeProfile,
    Pair,
    PairAnswer,
    PairOutcome,
    PairStatus,
    Role,
    RomeMetier,
    StatusEvent,
    TutoringRequest,
    TutoringRequestStatus,
    TutorProfile,
    User,
)
from tutorat.models.pairs import FAILED_PROPOSAL_STATUSES, LIVE_PAIR_STATUSES, PENDING_PAIR_STATUSES
from tutorat.models.requests import LIVE_REQUEST_STATUSES
from tutorat.services import accounts, suggestions
from tutorat.services.workflow import REQUEST_AFTER_PAIR, REQUEST_TRANSITIONS


@dataclass(frozen=True)
class Targets:
    """Totals in the database once generated (the demo population included)."""

    mentees: int = 10_000
    tutors: int = 3_000
    referents: int = 60
    pairs: int = 8_000
    meetings: int = 40_000


GERS = Targets()
SCALES = {"gers": GERS}
BATCH = 2_000
EMAIL_DOMAIN = "example.org"

_R, _P = TutoringRequestStatus, PairStatus
# What a story or a failed binôme comes to: a status, or one of these two.
NO_REQUEST = "none"  # the mentee has no demande
ENDED_FAILED = "ended_failed"  # a binôme ended without result (its demande reopened)
Kind = TutoringRequestStatus | PairStatus | str
# What happens to a generated mentee's demande, in percent (the last binôme's status).
STORIES: dict[Kind, float] = {
    NO_REQUEST: 14, _R.CANCELLED: 5, _R.OPEN: 28, _P.PROPOSED: 5, _P.TUTOR_ACCEPTED: 2,
    _P.MENTEE_ACCEPTED: 2, _P.ACCEPTED: 1.5, _P.ACTIVE: 24, _P.ENDED: 18.5,
}  # fmt: skip
# Binômes that failed before the last one: how many, and how each ended.
HISTORY_COUNTS = {0: 70, 1: 22, 2: 8}
HISTORY_KINDS: dict[Kind, float] = {
    _P.DECLINED: 40, _P.EXPIRED: 20, _P.WITHDRAWN: 15, ENDED_FAILED: 25,
}  # fmt: skip
SUCCESS_OUTCOMES = [o for o in vocab.OUTCOMES if o not in vocab.FAILED_OUTCOMES]


RequestEvent = tuple[datetime, str, TutoringRequestStatus | None, TutoringRequestStatus, str]


def _follow(
    events: list[RequestEvent], at: datetime, actor: str, pair_status: PairStatus, reason: str
) -> None:
    """The demande's event that a binôme's change to `pair_status` brings, as the services make it
    (workflow.REQUEST_AFTER_PAIR), from the demande's current status, checked against the table."""
    current = events[-1][3]
    to = REQUEST_AFTER_PAIR[pair_status]
    if to not in REQUEST_TRANSITIONS[current]:  # pragma: no cover - the tables disagree
        raise ValueError(f"demande : {current} → {to} refusé par REQUEST_TRANSITIONS")
    events.append((at, actor, current, to, reason))


def _choice(rng: random.Random, weights: dict) -> Any:
    return rng.choices(list(weights), list(weights.values()))[0]


def _days(rng: random.Random, lo: float, hi: float) -> timedelta:
    return timedelta(days=rng.uniform(lo, hi))


@dataclass
class _Person:
    key: int  # position in its list, until the database gives an id
    email: str | None
    first_name: str
    last_name: str
    created_at: datetime
    profile: dict[str, Any] = field(default_factory=dict)
    referent: int | None = None  # mentees: index in the référents list
    id: int | None = None


@dataclass
class _PairPlan:
    tutor: int  # index in the tutors list
    kind: Kind  # a story status, or a history kind
    proposed_at: datetime
    explanation: Any
    rank: int | None
    place: str
    events: list[tuple[datetime, str, PairStatus | None, PairStatus, str]] = field(
        default_factory=list
    )
    # (at, actor: "mentee" | "referent" | "tutor" | "system", from, to, reason)
    values: dict[str, Any] = field(default_factory=dict)
    outcomes: list[str] = field(default_factory=list)  # rows of pair_outcome, once ended
    stop_reason: str | None = None
    id: int | None = None


@dataclass
class _Story:
    mentee: int
    kind: Kind
    history: list[Kind]
    final_tutor: int | None = None
    # The candidates the référent chose the final tutor from: (tutor index, rank, parts).
    shown: list[tuple[int, int, dict[str, float]]] = field(default_factory=list)
    created_at: datetime | None = None
    request_events: list[RequestEvent] = field(default_factory=list)
    status: TutoringRequestStatus = TutoringRequestStatus.OPEN
    pairs: list[_PairPlan] = field(default_factory=list)
    request_id: int | None = None


class Progress:
    """A click progress bar per phase, labelled in French."""

    def __init__(self, echo: bool = True) -> None:
        self.echo = echo

    def over(self, items: Sequence, label: str) -> Iterator:
        if not self.echo:
            yield from items
            return
        with click.progressbar(items, label=label.ljust(24), show_pos=True) as bar:
            yield from bar


def _batches(rows: list[dict], size: int = BATCH) -> list[list[dict]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]


class _Generator:
    def __init__(
        self, targets: Targets, seed: int, progress: Progress, choices: str = "preference"
    ) -> None:
        self.t = targets
        self.choices = choices
        self.rng = random.Random(seed * 7919 + 1)
        self.progress = progress
        self.now = datetime.now(UTC)
        self.weights = suggestions.current_weights()
        self._places: dict[tuple[str, str], str] = {}

    # ---- reference data and what is already there ----

    def load(self) -> None:
        s = db.session
        self.communes = list(s.scalars(select(Commune).order_by(Commune.code_insee)))
        self.commune_weights = [c.population**0.6 for c in self.communes]
        known = set(s.scalars(select(RomeMetier.code)))
        self.metiers = [m for m in COMMON_METIERS if m in known]
        self.all_metiers = sorted(known)
        count = {
            role: n for role, n in s.execute(select(User.role, func.count()).group_by(User.role))
        }
        self.existing = {
            "referent": count.get(Role.REFERENT, 0),
            "tutor": count.get(Role.TUTOR, 0),
            "mentee": count.get(Role.MENTEE, 0),
            "pair": s.scalar(select(func.count()).select_from(Pair)) or 0,
            "meeting": s.scalar(select(func.count()).select_from(Meeting)) or 0,
        }
        self.old_referents = list(
            s.scalars(select(User.id).where(User.role == Role.REFERENT).order_by(User.id))
        )

    def commune(self) -> Commune:
        return self.rng.choices(self.communes, self.commune_weights)[0]

    def metier(self) -> str:
        rng = self.rng
        return rng.choice(self.metiers) if rng.random() < 0.8 else rng.choice(self.all_metiers)

    def slots(self, lo: int, hi: int) -> int:
        return sum(1 << b for b in self.rng.sample(range(21), self.rng.randint(lo, hi)))

    def person(self, key: int, email: str | None) -> _Person:
        rng = self.rng
        created = self.now - _days(rng, 400, 900)
        return _Person(key, email, rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES), created)

    # ---- people ----

    def plan_people(self) -> None:
        rng = self.rng
        n_ref = max(self.t.referents - self.existing["referent"], 0)
        n_tut = max(self.t.tutors - self.existing["tutor"], 0)
        n_men = max(self.t.mentees - self.existing["mentee"], 0)

        # Référents work by canton (a Maison des Solidarités): at least one per canton.
        cantons: dict[str, list[Commune]] = defaultdict(list)
        for c in self.communes:
            cantons[c.canton_code].append(c)
        canton_codes = sorted(cantons)
        canton_weight = {k: sum(c.population for c in cantons[k]) for k in canton_codes}
        total_ref = len(self.old_referents) + n_ref
        assignment = list(canton_codes)[:total_ref]
        while len(assignment) < total_ref:
            assignment.append(
                rng.choices(canton_codes, [canton_weight[k] for k in canton_codes])[0]
            )
        rng.shuffle(assignment)
        self.referents = [
            self.person(i, f"referent.g{i + 1:03d}@{EMAIL_DOMAIN}") for i in range(n_ref)
        ]
        # All référents, old and new, as ("old", id) or ("new", index), with their canton.
        everyone = [("old", rid) for rid in self.old_referents] + [("new", i) for i in range(n_ref)]
        self.referent_slots = everyone
        by_canton: dict[str, list[int]] = defaultdict(list)
        for slot, canton in enumerate(assignment):
            by_canton[canton].append(slot)
            if everyone[slot][0] == "new":
                person = self.referents[everyone[slot][1]]
                person.profile["organisation"] = (
                    f"Maison départementale des Solidarités, canton de {cantons[canton][0].canton_nom}"
                )

        self.tutors = []
        for i in range(n_tut):
            p = self.person(i, f"tuteur.g{i + 1:04d}@{EMAIL_DOMAIN}")
            place = self.commune()
            has_car = rng.random() < 0.75
            p.profile = {
                "commune": place,
                "metier_code": self.metier(),
                "availability": self.slots(2, 7),
                "has_car": has_car,
                "max_km": rng.choice([15, 20, 30, 40]) if has_car else 10,
                "remote_ok": rng.random() < 0.5,
                "obstacles": ",".join(rng.sample(list(vocab.OBSTACLES), rng.randint(0, 2))),
                "capacity": rng.choice([1, 1, 2, 2, 3]),
                "validated": rng.random() >= 0.08,
            }
            self.tutors.append(p)

        self.mentees = []
        for i in range(n_men):
            has_email = rng.random() < 0.7
            p = self.person(i, f"beneficiaire.g{i + 1:05d}@{EMAIL_DOMAIN}" if has_email else None)
            place = self.commune()
            has_car = rng.random() < 0.45
            p.referent = rng.choice(by_canton.get(place.canton_code) or list(range(total_ref)))
            p.profile = {
                "commune": place,
                "target_metiers": ",".join(
                    dict.fromkeys(self.metier() for _ in range(rng.randint(1, 2)))
                ),
                "availability": self.slots(2, 8),
                "has_car": has_car,
                "max_km": rng.choice([15, 20, 30]) if has_car else rng.choice([5, 10, 15]),
                "remote_ok": rng.random() < 0.55,
                "obstacles": ",".join(rng.sample(list(vocab.OBSTACLES), rng.randint(0, 3))),
            }
            self.mentees.append(p)

    def mentee_value(self, i: int) -> matching.Mentee:
        p = self.mentees[i].profile
        c = p["commune"]
        return matching.Mentee(
            id=i,
            lat=c.latitude,
            lon=c.longitude,
            sectors=tuple(p["target_metiers"].split(",")),
            availability=p["availability"],
            max_km=float(p["max_km"]),
            has_car=p["has_car"],
            remote_ok=p["remote_ok"],
            obstacles=frozenset(o for o in p["obstacles"].split(",") if o),
        )

    def tutor_value(self, j: int) -> matching.Tutor:
        p = self.tutors[j].profile
        c = p["commune"]
        return matching.Tutor(
            id=j,
            lat=c.latitude,
            lon=c.longitude,
            sectors=(p["metier_code"],),
            availability=p["availability"],
            max_km=float(p["max_km"]),
            has_car=p["has_car"],
            remote_ok=p["remote_ok"],
            obstacles=frozenset(o for o in p["obstacles"].split(",") if o),
            capacity=p["capacity"],
        )

    # ---- demandes and binômes ----

    def plan_stories(self) -> None:
        rng = self.rng
        self.stories = []
        for i in range(len(self.mentees)):
            kind = _choice(rng, STORIES)
            history = (
                []
                if kind in (NO_REQUEST, _R.CANCELLED)
                else [_choice(rng, HISTORY_KINDS) for _ in range(_choice(rng, HISTORY_COUNTS))]
            )
            self.stories.append(_Story(i, kind, history))

        validated = [j for j, t in enumerate(self.tutors) if t.profile["validated"]]
        self.tutor_values = {j: self.tutor_value(j) for j in validated}
        index = (
            matching.TutorIndex([self.tutor_values[j] for j in validated]) if validated else None
        )
        free = {j: self.tutors[j].profile["capacity"] for j in validated}
        self.tops: dict[int, list[tuple[int, float]]] = {}

        def top(i: int) -> list[tuple[int, float]]:
            if i not in self.tops:
                found = (
                    index.top_candidates(self.mentee_value(i), k=10, weights=self.weights)
                    if index
                    else []
                )
                self.tops[i] = [(validated[c], s) for c, s in found]
            return self.tops[i]

        # Live binômes first, within the tutors' places; without a place, the demande stays open.
        order = list(range(len(self.stories)))
        rng.shuffle(order)
        for i in self.progress.over(order, "Choix des tuteurs"):
            story = self.stories[i]
            if story.kind in LIVE_PAIR_STATUSES or story.kind == _P.ENDED:
                candidates = top(i)
                usable = [
                    (rank, j)
                    for rank, (j, _) in enumerate(candidates, start=1)
                    if story.kind == _P.ENDED or free[j] > 0
                ]
                # The référent chooses among the five best who can take her (the small demo's
                # rule: DEMO_PREFERENCE, distance weighed more, with a little noise), or takes the
                # first free one further down.
                options = [(rank, j) for rank, j in usable if rank <= 5] or usable[:1]
                chosen = self._choose(i, options) if options else None
                if chosen is None:
                    story.kind = _R.OPEN
                else:
                    story.final_tutor = chosen
                    story.shown = [(j, rank, self._parts(i, j)) for rank, j in options]
                    if story.kind in LIVE_PAIR_STATUSES:
                        free[chosen] -= 1

        # Exactly the number of binômes asked for: trim or extend the failed ones before the last.
        want = max(self.t.pairs - self.existing["pair"], 0)
        finals = sum(s.final_tutor is not None for s in self.stories)
        with_request = [s for s in self.stories if s.kind not in (NO_REQUEST, _R.CANCELLED)]
        total = finals + sum(len(s.history) for s in self.stories)
        while total > want:
            having = [s for s in with_request if s.history]
            if having:
                rng.choice(having).history.pop()
            else:
                ended = [s for s in self.stories if s.kind == _P.ENDED]
                if not ended:
                    break
                story = rng.choice(ended)
                story.kind, story.final_tutor = _R.OPEN, None
            total -= 1
        room = [s for s in with_request if len(s.history) < 3]
        while total < want and room:
            story = rng.choice(room)
            story.history.append(_choice(rng, HISTORY_KINDS))
            total += 1
            if len(story.history) >= 3:
                room.remove(story)

        for story in self.progress.over(self.stories, "Demandes et binômes"):
            self._timeline(story, top)

    def _parts(self, i: int, j: int) -> dict[str, float]:
        """The four parts of the score of mentee i with tutor j."""
        explanation = matching.explain(self.mentee_value(i), self.tutor_values[j], self.weights)
        return {p: float(explanation.parts[p].value) for p in matching.Weights.PARTS}

    def _choose(self, i: int, options: list[tuple[int, int]]) -> int:
        """The tutor the référent picks among `options` ((rank, tutor index)): the one that
        maximises DEMO_PREFERENCE's shares of the parts plus Gumbel noise, as in the small demo
        (conditional logit: what « Ce que montrent les décisions » fits); any of them, at random,
        with ``choices="random"``."""
        if self.choices == "random":
            return self.rng.choice(options)[1]

        def utility(j: int) -> float:
            parts = self._parts(i, j)
            noise = -DEMO_CHOICE_NOISE * math.log(-math.log(self.rng.random() or 1e-12))
            return sum(w * parts[p] for p, w in DEMO_PREFERENCE.items()) + noise

        return max((j for _, j in options), key=utility)

    def _pair(self, story: _Story, tutor: int, kind: str, proposed_at: datetime, top) -> _PairPlan:
        candidates = top(story.mentee)
        rank = next((r for r, (j, _) in enumerate(candidates, start=1) if j == tutor), None)
        tutor_value = self.tutor_values.get(tutor) or self.tutor_value(tutor)
        explanation = matching.explain(self.mentee_value(story.mentee), tutor_value, self.weights)
        key = (
            self.mentees[story.mentee].profile["commune"].code_insee,
            self.tutors[tutor].profile["commune"].code_insee,
        )
        if key not in self._places:
            self._places[key] = suggestions.meeting_place(
                self.mentees[story.mentee].profile["commune"], self.tutors[tutor].profile["commune"]
            )
        return _PairPlan(tutor, kind, proposed_at, explanation, rank, self._places[key])

    def _history_tutor(self, story: _Story, top) -> int:
        others = [j for j, _ in top(story.mentee) if j != story.final_tutor]
        if others:
            return self.rng.choice(others)
        pool = list(self.tutor_values) or list(range(len(self.tutors)))
        return self.rng.choice(pool)

    def _timeline(self, story: _Story, top) -> None:
        """Dates and status events of one mentee's demande and binômes, ending before now."""
        rng, now = self.rng, self.now
        kind = story.kind
        if kind == NO_REQUEST:
            return
        # When the last step happens (or the demande was last reopened, for an open one).
        if kind == _R.CANCELLED:
            anchor = now - _days(rng, 1, 300)
        elif kind == _R.OPEN:
            anchor = now - _days(rng, 0, 60)
        elif kind in PENDING_PAIR_STATUSES:
            anchor = now - _days(rng, 0.2, 9)
        elif kind == _P.ACTIVE:
            anchor = now - _days(rng, 35, 360)  # the proposal; confirmed a few days later
        else:  # ended
            anchor = now - _days(rng, 60, 500)
        # Lay the failed binômes out before the anchor, the earliest first.
        t = anchor
        spans = []
        for hist in reversed(story.history):
            closed = t - _days(rng, 1, 12)
            length = {
                _P.DECLINED: _days(rng, 1, 7), _P.EXPIRED: timedelta(days=10, hours=rng.randint(1, 20)),
                _P.WITHDRAWN: _days(rng, 1, 8), ENDED_FAILED: _days(rng, 30, 150),
            }[hist]  # fmt: skip
            spans.append((hist, closed - length, closed))
            t = closed - length
        spans.reverse()
        created = t - _days(rng, 1, 25) if (spans or kind != _R.OPEN) else anchor
        if kind == _R.CANCELLED:
            created = anchor - _days(rng, 1, 60)
        story.created_at = created
        mentee = self.mentees[story.mentee]
        mentee.created_at = min(mentee.created_at, created - _days(rng, 1, 60))
        creator = "mentee" if mentee.email else "referent"
        ev = story.request_events
        ev.append((created, creator, None, _R.OPEN, ""))
        if kind == _R.CANCELLED:
            ev.append(
                (
                    anchor,
                    "referent",
                    _R.OPEN,
                    _R.CANCELLED,
                    "La personne a trouvé une solution seule.",
                )
            )
            story.status = _R.CANCELLED
            return

        for hist, start, end in spans:
            pair = self._pair(story, self._history_tutor(story, top), hist, start, top)
            self._events(story, pair, end)
            story.pairs.append(pair)
        if story.final_tutor is not None:
            pair = self._pair(story, story.final_tutor, kind, anchor, top)
            self._events(story, pair, None)
            story.pairs.append(pair)
        story.status = ev[-1][3]
        # Nothing may be dated in the future.
        assert ev[-1][0] <= now, (kind, ev[-1][0], now)

    def _events(self, story: _Story, pair: _PairPlan, closed: datetime | None) -> None:
        """Events of one binôme from its proposal; `closed`: when a failed one ended."""
        rng, now = self.rng, self.now
        kind = pair.kind
        ev, rev = pair.events, story.request_events
        t = pair.proposed_at
        v = pair.values
        v.update(
            tutor_answer=None,
            mentee_answer=None,
            decline_reason=None,
            outcome_contract=None,
            outcome_rights="",
            tutor_wants_again=None,
            confirmed_at=None,
            ended_at=None,
        )
        ev.append(
            (
                t,
                "referent",
                None,
                _P.PROPOSED,
                f"Score {pair.explanation.score:.2f}"
                if pair.explanation.feasible
                else "Proposé hors classement",
            )
        )
        _follow(rev, t, "referent", _P.PROPOSED, "Binôme n° {pair} proposé")
        status = _P.PROPOSED

        def step(to: PairStatus, actor: str, when: datetime, reason: str = "") -> None:
            nonlocal status
            ev.append((when, actor, status, to, reason))
            status = to

        mentee_actor = "mentee" if self.mentees[story.mentee].email else "referent_for_mentee"
        # The way to the final status, drawn from the workflow's transition table.
        # (Without pauses nor stop requests: the generator writes the plain ways only.)
        path = rng.choice(
            [
                p
                for p in pair_paths(_P.ENDED if kind == ENDED_FAILED else PairStatus(kind))
                if not set(p) & VOICE_STATUSES
            ]
        )
        steps = list(itertools.pairwise(path))

        def answer(before: PairStatus, after: PairStatus, when: datetime) -> None:
            tutor_side = after == _P.TUTOR_ACCEPTED or before == _P.MENTEE_ACCEPTED
            v["tutor_answer" if tutor_side else "mentee_answer"] = PairAnswer.ACCEPTED
            step(
                after,
                "tutor" if tutor_side else mentee_actor,
                when,
                "Accepté par le tuteur" if tutor_side else "Accepté par le bénéficiaire",
            )

        if kind in FAILED_PROPOSAL_STATUSES:
            end = closed or now
            # Any answers come before the end, in order; expiry is the system's, at the delay.
            for n, (before, after) in enumerate(steps[:-1], start=1):
                answer(before, after, t + (end - t) * n / len(steps))
            if kind == _P.DECLINED:
                if v["tutor_answer"] is None:
                    v["tutor_answer"] = PairAnswer.DECLINED
                    actor = "tutor"
                else:
                    v["mentee_answer"] = PairAnswer.DECLINED
                    actor = mentee_actor
                reason = rng.choice(list(vocab.DECLINE_REASONS)[:4])
                v["decline_reason"] = reason
                step(_P.DECLINED, actor, end, vocab.DECLINE_REASONS[reason])
                _follow(rev, end, actor, _P.DECLINED, "Binôme n° {pair} refusé")
            elif kind == _P.EXPIRED:
                v["decline_reason"] = vocab.EXPIRY_REASON[0]
                step(_P.EXPIRED, "system", end, f"{vocab.EXPIRY_REASON[1]} (10 jours)")
                _follow(rev, end, "system", _P.EXPIRED, "Binôme n° {pair} expiré sans réponse")
            else:
                step(_P.WITHDRAWN, "referent", end, "Retiré par le référent")
                _follow(rev, end, "referent", _P.WITHDRAWN, "Binôme n° {pair} retiré")
            pair.values["updated_at"] = end
            return

        # Answers a day or so apart (before now for pending proposals), then the confirmation.
        horizon = (closed or now) if kind in (ENDED_FAILED, _P.ENDED, _P.ACTIVE) else now
        gap = min(timedelta(days=2), (horizon - t) / 4)
        for before, after in steps:
            if after in (_P.TUTOR_ACCEPTED, _P.MENTEE_ACCEPTED, _P.ACCEPTED):
                t = t + gap * rng.uniform(0.3, 1.0)
                answer(before, after, t)
            elif after == _P.ACTIVE:
                t = t + gap * rng.uniform(0.3, 1.0)
                step(_P.ACTIVE, "referent", t, "Binôme confirmé par le référent")
                _follow(rev, t, "referent", _P.ACTIVE, "Binôme n° {pair} actif")
                v["confirmed_at"] = t
            elif after == _P.ENDED:
                end = (
                    closed
                    if closed is not None
                    else min(now - _days(rng, 1, 30), t + _days(rng, 30, 200))
                )
                end = max(end, t + timedelta(hours=1))
                outcome = "stopped" if kind == ENDED_FAILED else rng.choice(SUCCESS_OUTCOMES)
                pair.outcomes = [outcome]
                if outcome == "job" and rng.random() < 0.5:  # a job, and leaving the RSA
                    pair.outcomes.append("left_rsa")
                if outcome == vocab.STOPPED_OUTCOME:
                    pair.stop_reason = rng.choice(list(vocab.STOP_REASONS))
                if outcome == "job":
                    v["outcome_contract"] = rng.choice(list(vocab.CONTRACT_TYPES))
                if outcome == "rights":
                    v["outcome_rights"] = rng.choice(list(vocab.RIGHTS))
                v["tutor_wants_again"] = rng.choice([True, True, False, None])
                step(
                    _P.ENDED,
                    "referent",
                    end,
                    ", ".join(vocab.OUTCOMES[code] for code in pair.outcomes),
                )
                v["ended_at"] = end
                if outcome in vocab.FAILED_OUTCOMES:
                    _follow(
                        rev,
                        end,
                        "referent",
                        _P.ENDED,
                        "Binôme n° {pair} arrêté : nouvelle proposition",
                    )
                t = end
            else:  # pragma: no cover - a status added to the table without a way here
                raise ValueError(f"no generated step leads to {after!r}")
        pair.values["updated_at"] = max(e[0] for e in ev)

    # ---- meetings ----

    def plan_meetings(self) -> None:
        rng, now = self.rng, self.now
        want = max(self.t.meetings - self.existing["meeting"], 0)
        windows: list[tuple[_PairPlan, date, date]] = []
        for story in self.stories:
            for pair in story.pairs:
                start = pair.values.get("confirmed_at")
                if start is None:
                    continue
                end = pair.values.get("ended_at") or now
                if pair.kind == _P.ACTIVE and rng.random() < 0.12:
                    end = max(
                        start + timedelta(days=2), now - _days(rng, 22, 60)
                    )  # no news: an alert
                first, last = (start + timedelta(days=1)).date(), min(end, now).date()
                if last >= first:
                    windows.append((pair, first, last))
        weights = [(last - first).days + 1 for _, first, last in windows]
        total = sum(weights) or 1
        counts = [min(w // 2 + 1, int(want * w / total)) for w in weights]
        room = [i for i, w in enumerate(weights) if counts[i] < w // 2 + 1]
        while sum(counts) < want and room:
            i = rng.choice(room)
            counts[i] += 1
            if counts[i] >= weights[i] // 2 + 1:
                room.remove(i)
        self.meetings: list[tuple[_PairPlan, date]] = []
        for (pair, first, _last), n, span in zip(windows, counts, weights, strict=True):
            for offset in sorted(rng.randrange(span) for _ in range(n)):
                self.meetings.append((pair, first + timedelta(days=offset)))

    # ---- writing ----

    def _insert_users(
        self,
        people: list[_Person],
        role: str,
        password_hash: str,
        label: str,
        extra: Callable[[_Person], dict],
    ) -> None:
        rng = self.rng
        rows = [
            {
                "role": role,
                "email": p.email,
                "first_name": p.first_name,
                "last_name": p.last_name,
                "phone": "06 " + " ".join(f"{rng.randrange(100):02d}" for _ in range(4)),
                "password_hash": password_hash if p.email else None,
                "active": True,
                "session_version": 1,
                "created_at": p.created_at,
                "consent_at": p.created_at,
                **extra(p),
            }
            for p in people
        ]
        stmt = insert(User).returning(User.id, sort_by_parameter_order=True)
        ids: list[int] = []
        for batch in self.progress.over(_batches(rows), label):
            ids.extend(db.session.scalars(stmt, batch).all())
        for p, uid in zip(people, ids, strict=True):
            p.id = uid
        # Consent is recorded by someone: the référent who registered the person, or themselves.
        db.session.execute(
            update(User)
            .where(User.consent_at.is_not(None), User.consent_by_id.is_(None))
            .values(consent_by_id=func.coalesce(User.created_by_id, User.id))
            .execution_options(synchronize_session=False)
        )

    def referent_id(self, mentee: _Person) -> int:
        """The id of the référent of `mentee` (référents are written first)."""
        assert mentee.referent is not None, "every mentee is given a référent"
        kind, value = self.referent_slots[mentee.referent]
        if kind == "old":
            return value
        referent_id = self.referents[value].id
        assert referent_id is not None, "référents are written before their mentees"
        return referent_id

    def write(self) -> dict[str, int]:
        s, rng, now = db.session, self.rng, self.now
        password_hash = accounts.hash_password(DEMO_PASSWORD)
        self._insert_users(
            self.referents,
            "referent",
            password_hash,
            "Référents",
            lambda p: {"organisation": p.profile.get("organisation")},
        )
        self._insert_users(self.tutors, "tutor", password_hash, "Tuteurs", lambda p: {})
        self._insert_users(
            self.mentees,
            "mentee",
            password_hash,
            "Bénéficiaires",
            lambda p: {"created_by_id": self.referent_id(p)},
        )

        # Places taken, last proposal and rest period of each tutor, from the planned binômes.
        used: Counter[int] = Counter()
        last_asked: dict[int, datetime] = {}
        rest: dict[int, datetime] = {}
        for story in self.stories:
            for pair in story.pairs:
                if pair.kind in LIVE_PAIR_STATUSES:
                    used[pair.tutor] += 1
                last_asked[pair.tutor] = max(
                    last_asked.get(pair.tutor, pair.proposed_at), pair.proposed_at
                )
                ended = pair.values.get("ended_at")
                if ended is not None and ended + timedelta(days=14) > now:
                    rest[pair.tutor] = max(rest.get(pair.tutor, ended), ended + timedelta(days=14))
        tutor_rows = []
        for j, p in enumerate(self.tutors):
            pr = p.profile
            assert used[j] <= pr["capacity"], "places"
            tutor_rows.append(
                {
                    "user_id": p.id,
                    "commune_code": pr["commune"].code_insee,
                    "metier_code": pr["metier_code"],
                    "availability": pr["availability"],
                    "has_car": pr["has_car"],
                    "max_km": pr["max_km"],
                    "remote_ok": pr["remote_ok"],
                    "obstacles": pr["obstacles"],
                    "capacity": pr["capacity"],
                    "places_used": used[j],
                    "experience_note": "",
                    "validated_at": p.created_at + timedelta(days=3) if pr["validated"] else None,
                    "completed_at": p.created_at + timedelta(days=1),
                    "last_asked_at": last_asked.get(j),
                    "rest_until": rest.get(j),
                }
            )
        for batch in self.progress.over(_batches(tutor_rows), "Profils des tuteurs"):
            s.execute(insert(TutorProfile), batch)
        mentee_rows = []
        for p in self.mentees:
            pr = p.profile
            mentee_rows.append(
                {
                    "user_id": p.id,
                    "referent_id": self.referent_id(p),
                    "commune_code": pr["commune"].code_insee,
                    "target_metiers": pr["target_metiers"],
                    "availability": pr["availability"],
                    "has_car": pr["has_car"],
                    "max_km": pr["max_km"],
                    "remote_ok": pr["remote_ok"],
                    "obstacles": pr["obstacles"],
                    "share_first_name": True,
                    "share_commune": True,
                    "share_metier": True,
                    "share_phone": rng.random() < 0.6,
                    "share_email": rng.random() < 0.4,
                    "share_obstacles": rng.random() < 0.3,
                    "social_note": "",
                    "completed_at": p.created_at + timedelta(days=1),
                }
            )
        for batch in self.progress.over(_batches(mentee_rows), "Profils des bénéficiaires"):
            s.execute(insert(MenteeProfile), batch)

        # Demandes.
        stories = [st for st in self.stories if st.created_at is not None]
        request_rows = []
        for st in stories:
            request_rows.append(
                {
                    "mentee_id": self.mentees[st.mentee].id,
                    "created_by_id": self.mentees[st.mentee].id
                    if self.mentees[st.mentee].email
                    else self.referent_id(self.mentees[st.mentee]),
                    "status": st.status,
                    "topics": ",".join(rng.sample(list(vocab.TOPICS), rng.randint(1, 3))),
                    "meeting_modes": ",".join(
                        rng.sample(list(vocab.MEETING_MODES), rng.randint(1, 3))
                    ),
                    "message": rng.choice(MESSAGES),
                    "constraints": "",
                    "created_at": st.created_at,
                    "updated_at": st.request_events[-1][0],
                }
            )
        stmt = insert(TutoringRequest).returning(TutoringRequest.id, sort_by_parameter_order=True)
        ids: list[int] = []
        for batch in self.progress.over(_batches(request_rows), "Demandes"):
            ids.extend(s.scalars(stmt, batch).all())
        for st, rid in zip(stories, ids, strict=True):
            st.request_id = rid

        # Binômes.
        weights = self.weights.to_dict()
        pairs: list[tuple[_Story, _PairPlan]] = [(st, pair) for st in stories for pair in st.pairs]
        pair_rows = []
        for st, pair in pairs:
            mentee = self.mentees[st.mentee]
            feasible = bool(pair.explanation.feasible)
            kind = pair.kind if pair.kind != ENDED_FAILED else _P.ENDED
            pair_rows.append(
                {
                    "request_id": st.request_id,
                    "mentee_id": mentee.id,
                    "tutor_id": self.tutors[pair.tutor].id,
                    "proposed_by_id": self.referent_id(mentee),
                    "status": kind,
                    "score": float(pair.explanation.score) if feasible else None,
                    "rank": pair.rank,
                    "candidates_count": None,
                    "explanation": suggestions.explanation_dict(pair.explanation),
                    "shown_candidates": [
                        {"tutor_id": self.tutors[j].id, "rank": rank, "parts": parts}
                        for j, rank, parts in st.shown
                    ]
                    if st.shown and pair.tutor == st.final_tutor and pair.kind == st.kind
                    else None,
                    "weights": weights,
                    "algorithm_version": suggestions.ALGORITHM_VERSION,
                    "meeting_place": pair.place,
                    "decline_detail": "",
                    "outcome_detail": "",
                    "reminders_sent": 0,
                    "proposed_at": pair.proposed_at,
                    **pair.values,
                }
            )
        stmt = insert(Pair).returning(Pair.id, sort_by_parameter_order=True)
        ids = []
        for batch in self.progress.over(_batches(pair_rows), "Binômes"):
            ids.extend(s.scalars(stmt, batch).all())
        for (_st, pair), pid in zip(pairs, ids, strict=True):
            pair.id = pid
        outcome_rows = [
            {
                "pair_id": pair.id,
                "outcome": code,
                "reason": pair.stop_reason if code == vocab.STOPPED_OUTCOME else None,
            }
            for _st, pair in pairs
            for code in pair.outcomes
        ]
        for batch in _batches(outcome_rows):
            s.execute(insert(PairOutcome), batch)

        # Status events: the demande's, then each binôme's.
        def actor(st: _Story, who: str, tutor: int | None) -> tuple[int | None, int | None]:
            mentee = self.mentees[st.mentee]
            referent = self.referent_id(mentee)
            return {
                "mentee": (mentee.id, None),
                "referent": (referent, None),
                "system": (None, None),
                "referent_for_mentee": (referent, mentee.id),
                "tutor": (self.tutors[tutor].id if tutor is not None else None, None),
            }[who]

        event_rows = []
        for st in stories:
            # The demande's events name the binôme they concern, in order.
            pair_iter = iter(st.pairs)
            current = None
            for at, who, frm, to, reason in st.request_events:
                if to == _R.PROPOSED:
                    current = next(pair_iter)
                actor_id, behalf = actor(st, who, current.tutor if current else None)
                event_rows.append(
                    {
                        "entity": EventEntity.REQUEST,
                        "entity_id": st.request_id,
                        "actor_id": actor_id,
                        "on_behalf_of_id": behalf,
                        "at": at,
                        "from_status": frm and str(frm),
                        "to_status": str(to),
                        "reason": reason.format(pair=current.id if current else ""),
                    }
                )
            for pair in st.pairs:
                for at, who, pair_from, pair_to, reason in pair.events:
                    actor_id, behalf = actor(st, who, pair.tutor)
                    event_rows.append(
                        {
                            "entity": EventEntity.PAIR,
                            "entity_id": pair.id,
                            "actor_id": actor_id,
                            "on_behalf_of_id": behalf,
                            "at": at,
                            "from_status": pair_from and str(pair_from),
                            "to_status": str(pair_to),
                            "reason": reason,
                        }
                    )
        for batch in self.progress.over(_batches(event_rows, 5_000), "Historique des statuts"):
            s.execute(insert(StatusEvent), batch)

        meeting_rows = []
        modes = list(vocab.MEETING_MODES)
        topics = list(vocab.TOPICS)
        for pair, day in self.meetings:
            mode = rng.choice(modes)
            created = min(now, datetime(day.year, day.month, day.day, 18, tzinfo=UTC))
            meeting_rows.append(
                {
                    "pair_id": pair.id,
                    "logged_by_id": self.tutors[pair.tutor].id,
                    "date": day,
                    "duration_minutes": rng.choice([30, 45, 60, 60, 90]),
                    "mode": mode,
                    "place": pair.place if mode == "in_person" else "",
                    "topics": ",".join(rng.sample(topics, rng.randint(1, 2))),
                    "note": "",
                    "mentee_confirmation": rng.choice(
                        [None, "confirmed", "confirmed", "confirmed", "contested"]
                        if rng.random() < 0.05
                        else [None, "confirmed"]
                    ),
                    "created_at": created,
                }
            )
        for batch in self.progress.over(_batches(meeting_rows, 5_000), "Rencontres"):
            s.execute(insert(Meeting), batch)

        return {
            "référents": len(self.referents),
            "tuteurs": len(self.tutors),
            "bénéficiaires": len(self.mentees),
            "demandes": len(request_rows),
            "binômes": len(pair_rows),
            "rencontres": len(meeting_rows),
            "événements": len(event_rows),
        }


def seed_scale(
    targets: Targets = GERS, *, seed: int = 32, echo: bool = True, choices: str = "preference"
) -> dict[str, float] | None:
    """Complete the demo population up to `targets` (rows added, and "secondes"); None if it is
    already that large. The référents choose tutors as in the small demo (`choices="preference"`:
    DEMO_PREFERENCE, distance weighed more), or at random among the five best (`"random"`)."""
    seed_demo(seed=seed)
    gen = _Generator(targets, seed, Progress(echo), choices)
    gen.load()
    if gen.existing["mentee"] >= targets.mentees:
        return None
    started = time.perf_counter()
    gen.plan_people()
    gen.plan_stories()
    gen.plan_meetings()
    report: dict[str, float] = dict(gen.write())
    db.session.commit()
    # Fresh statistics for the query planners (PostgreSQL's autovacuum would come later; SQLite
    # has none until asked).
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    report["secondes"] = round(time.perf_counter() - started, 1)
    return report


def totals() -> dict[str, int]:
    """What the database holds, by kind (for the report of the command and the benchmarks)."""
    s = db.session
    roles = dict(s.execute(select(User.role, func.count()).group_by(User.role)).all())
    pairs = dict(s.execute(select(Pair.status, func.count()).group_by(Pair.status)).all())
    return {
        "bénéficiaires": roles.get(Role.MENTEE, 0),
        "tuteurs": roles.get(Role.TUTOR, 0),
        "référents": roles.get(Role.REFERENT, 0),
        "demandes": s.scalar(select(func.count()).select_from(TutoringRequest)) or 0,
        "binômes": sum(pairs.values()),
        **{f"binômes {k}": v for k, v in sorted(pairs.items())},
        "rencontres": s.scalar(select(func.count()).select_from(Meeting)) or 0,
        "événements": s.scalar(select(func.count()).select_from(StatusEvent)) or 0,
    }


def invariant_violations() -> dict[str, int]:
    """Rows breaking an invariant of the application, by rule (all zero when the data is sound)."""
    s = db.session
    live = (
        select(Pair.tutor_id, func.count().label("n"))
        .where(Pair.status.in_(LIVE_PAIR_STATUSES))
        .group_by(Pair.tutor_id)
        .subquery()
    )
    last_event = (
        select(StatusEvent.entity, StatusEvent.entity_id, func.max(StatusEvent.id).label("last"))
        .group_by(StatusEvent.entity, StatusEvent.entity_id)
        .subquery()
    )

    def count(stmt) -> int:
        return s.scalar(select(func.count()).select_from(stmt.subquery())) or 0

    def without_creation(model, entity: str) -> int:
        return count(
            select(model.id).where(
                not_(
                    exists().where(
                        StatusEvent.entity == entity,
                        StatusEvent.entity_id == model.id,
                        StatusEvent.from_status.is_(None),
                    )
                )
            )
        )

    def status_mismatch(model, entity: str) -> int:
        return count(
            select(model.id)
            .join(
                last_event, and_(last_event.c.entity == entity, last_event.c.entity_id == model.id)
            )
            .join(StatusEvent, StatusEvent.id == last_event.c.last)
            .where(StatusEvent.to_status != model.status)
        )

    return {
        "places utilisées au-delà de la capacité": count(
            select(TutorProfile.user_id).where(TutorProfile.places_used > TutorProfile.capacity)
        ),
        "places utilisées différentes des binômes vivants": count(
            select(TutorProfile.user_id)
            .outerjoin(live, live.c.tutor_id == TutorProfile.user_id)
            .where(TutorProfile.places_used != func.coalesce(live.c.n, 0))
        ),
        "bénéficiaires avec plusieurs binômes vivants": count(
            select(Pair.mentee_id)
            .where(Pair.status.in_(LIVE_PAIR_STATUSES))
            .group_by(Pair.mentee_id)
            .having(func.count() > 1)
        ),
        "bénéficiaires avec plusieurs demandes ouvertes": count(
            select(TutoringRequest.mentee_id)
            .where(TutoringRequest.status.in_(LIVE_REQUEST_STATUSES))
            .group_by(TutoringRequest.mentee_id)
            .having(func.count() > 1)
        ),
        "binômes sans événement de création": without_creation(Pair, EventEntity.PAIR),
        "demandes sans événement de création": without_creation(
            TutoringRequest, EventEntity.REQUEST
        ),
        "binômes dont le statut n'est pas celui du dernier événement": status_mismatch(
            Pair, EventEntity.PAIR
        ),
        "demandes dont le statut n'est pas celui du dernier événement": status_mismatch(
            TutoringRequest, EventEntity.REQUEST
        ),
    }


__all__ = ["GERS", "SCALES", "Targets", "invariant_violations", "seed_scale", "totals"]
