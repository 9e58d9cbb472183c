"""Indicators for recruiting tutors (issue 17 item 7): the tutors' pipeline and supply vs demand.

- **The pipeline**: applied → vetted (checklist complete) → validated → active (a binôme running)
  → resting (rest after a binôme, or « indisponible jusqu'au ») → left (account closed), with the
  median delay between steps.
- **Supply and demand** by canton and by EPCI: the free places of the tutors who may be proposed
  today (by the tutor's commune) against the demandes without a tutor (by the mentee's commune);
  the territories where demandes wait for lack of tutors come first.

Four queries whatever the number of people (rows per application and per tutor, read once; two
GROUP BY communes), for the administration only: the applications are seen by no one else. No
name is returned, only counts and delays.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import case, func, select

from tutorat.extensions import db
from tutorat.models import (
    ApplicationStatus,
    Commune,
    MenteeProfile,
    Pair,
    Role,
    TutorApplication,
    TutoringRequest,
    TutorProfile,
    User,
)
from tutorat.models.pairs import RUNNING_PAIR_STATUSES
from tutorat.models.requests import UNMATCHED_REQUEST_STATUSES, TutoringRequestStatus
from tutorat.services.indicators.export import Column, Table
from tutorat.services.profiles import local_today

TABLE_TITLES = {
    "recrutement-etapes": "Le parcours des tuteurs, de la candidature au départ",
    "recrutement-delais": "Délais entre les étapes (médiane, en jours)",
    "recrutement-cantons": "Places de tuteurs et demandes sans tuteur, par canton",
    "recrutement-epci": "Places de tuteurs et demandes sans tuteur, par intercommunalité",
}
TABLES = tuple(TABLE_TITLES)


@dataclass(frozen=True)
class Stage:
    key: str
    label: str
    count: int
    note: str


@dataclass(frozen=True)
class Delay:
    label: str
    median_days: float | None
    count: int


@dataclass(frozen=True)
class Territory:
    """Supply and demand in one canton or EPCI."""

    code: str
    name: str
    free_places: int
    tutors: int
    demandes: int
    waiting: int
    oldest_days: int | None

    @property
    def gap(self) -> int:
        return self.free_places - self.demandes

    @property
    def lacks_tutors(self) -> bool:
        """Demandes wait here for lack of tutors: on the waiting list, or more than the places."""
        return self.waiting > 0 or self.demandes > self.free_places


@dataclass(frozen=True)
class Recruitment:
    stages: list[Stage]
    delays: list[Delay]
    cantons: list[Territory]
    epcis: list[Territory]

    @property
    def short_cantons(self) -> list[Territory]:
        return [t for t in self.cantons if t.lacks_tutors]

    def table(self, key: str) -> Table:
        if key == "recrutement-etapes":
            return Table(
                key,
                TABLE_TITLES[key],
                (
                    Column("Étape", numeric=False),
                    Column("Nombre"),
                    Column("Ce qui est compté", False),
                ),
                [(s.label, s.count, s.note) for s in self.stages],
            )
        if key == "recrutement-delais":
            return Table(
                key,
                TABLE_TITLES[key],
                (
                    Column("Entre", numeric=False),
                    Column("Médiane (jours)"),
                    Column("Personnes comptées"),
                ),
                [(d.label, d.median_days, d.count) for d in self.delays],
            )
        if key in ("recrutement-cantons", "recrutement-epci"):
            rows = self.cantons if key == "recrutement-cantons" else self.epcis
            return Table(
                key,
                TABLE_TITLES[key],
                (
                    Column("Canton" if key == "recrutement-cantons" else "Intercommunalité", False),
                    Column("Places libres"),
                    Column("Tuteurs disponibles"),
                    Column("Demandes sans tuteur"),
                    Column("dont en liste d'attente"),
                    Column("La plus ancienne (jours)"),
                    Column("Places − demandes"),
                    Column("Manque de tuteurs", numeric=False),
                ),
                [
                    (
                        t.name,
                        t.free_places,
                        t.tutors,
                        t.demandes,
                        t.waiting,
                        t.oldest_days,
                        t.gap,
                        t.lacks_tutors,
                    )
                    for t in rows
                ],
                note="Places libres : celles des tuteurs validés, au profil complet, qui ne sont ni "
                "en repos ni indisponibles aujourd'hui, comptées dans la commune du tuteur. "
                "Demandes : ouvertes ou en liste d'attente, comptées dans la commune du "
                "bénéficiaire.",
            )
        raise KeyError(key)


def _days(start: datetime | date | None, end: datetime | date | None) -> int | None:
    if start is None or end is None:
        return None
    if isinstance(start, datetime):
        start = start.astimezone(UTC).date()
    if isinstance(end, datetime):
        end = end.astimezone(UTC).date()
    days = (end - start).days
    return days if days >= 0 else None


def _median(values: Iterable[int | None]) -> tuple[float | None, int]:
    kept = [v for v in values if v is not None]
    return (float(statistics.median(kept)) if kept else None), len(kept)


def _applications() -> list:
    return list(
        db.session.execute(
            select(
                TutorApplication.status,
                TutorApplication.submitted_at,
                TutorApplication.identity_checked_on,
                TutorApplication.criminal_record_seen_on,
                TutorApplication.info_meeting_on,
                TutorApplication.charter_accepted_at,
                TutorApplication.decided_at,
            ).where(TutorApplication.submitted_at.is_not(None))
        ).all()
    )


def _tutors() -> list:
    running = (
        select(func.count())
        .where(Pair.tutor_id == TutorProfile.user_id, Pair.status.in_(RUNNING_PAIR_STATUSES))
        .correlate(TutorProfile)
        .scalar_subquery()
    )
    first_confirmed = (
        select(func.min(Pair.confirmed_at))
        .where(Pair.tutor_id == TutorProfile.user_id)
        .correlate(TutorProfile)
        .scalar_subquery()
    )
    return list(
        db.session.execute(
            select(
                User.active,
                TutorProfile.validated_at,
                TutorProfile.rest_until,
                TutorProfile.unavailable_until,
                running.label("running"),
                first_confirmed.label("first_confirmed"),
            )
            .join(User, User.id == TutorProfile.user_id)
            .where(User.role == Role.TUTOR)
        ).all()
    )


def _stages_and_delays(applications: list, tutors: list, now: datetime) -> tuple[list, list]:
    today = local_today(now)
    vetted_on: list[date | None] = []
    for a in applications:
        checks = (a.identity_checked_on, a.criminal_record_seen_on, a.info_meeting_on)
        complete = all(checks) and a.charter_accepted_at is not None
        vetted_on.append(max(c for c in checks if c is not None) if complete else None)
    validated = [a for a in applications if a.status == ApplicationStatus.VALIDATED]
    active = resting = waiting = left = 0
    for t in tutors:
        if not t.active:
            left += 1
        elif t.validated_at is None:
            continue
        elif t.running:
            active += 1
        elif (t.rest_until is not None and t.rest_until > now) or (
            t.unavailable_until is not None and t.unavailable_until >= today
        ):
            resting += 1
        else:
            waiting += 1
    stages = [
        Stage(
            "applied",
            "Candidatures reçues",
            len(applications),
            "candidatures envoyées (en ligne, sur invitation, ou comptes créés par "
            "l'administration), depuis le début",
        ),
        Stage(
            "vetted",
            "Vérifiées",
            sum(1 for v in vetted_on if v is not None),
            "liste de vérification complète : identité, charte, casier judiciaire, réunion "
            "d'information",
        ),
        Stage("validated", "Validées", len(validated), "candidatures validées, depuis le début"),
        Stage("tutoring", "Tuteurs actifs", active, "aujourd'hui : au moins un binôme en cours"),
        Stage(
            "resting",
            "Tuteurs en repos",
            resting,
            "aujourd'hui : en repos après un binôme, ou indisponibles jusqu'à une date",
        ),
        Stage(
            "available",
            "Tuteurs validés disponibles",
            waiting,
            "aujourd'hui : validés, sans binôme en cours ni repos (prêts pour une proposition)",
        ),
        Stage("left", "Tuteurs partis", left, "comptes de tuteur désactivés, depuis le début"),
    ]
    delays = []
    for label, values in (
        (
            "la candidature et la vérification complète",
            [_days(a.submitted_at, v) for a, v in zip(applications, vetted_on, strict=True)],
        ),
        (
            "la vérification complète et la validation",
            [
                _days(v, a.decided_at)
                for a, v in zip(applications, vetted_on, strict=True)
                if a.status == ApplicationStatus.VALIDATED
            ],
        ),
        (
            "la candidature et la validation",
            [_days(a.submitted_at, a.decided_at) for a in validated],
        ),
        (
            "la validation et le premier binôme",
            [_days(t.validated_at, t.first_confirmed) for t in tutors],
        ),
    ):
        median, count = _median(values)
        delays.append(Delay(label, median, count))
    return stages, delays


_TERRITORY = (
    Commune.canton_code.label("canton_code"),
    Commune.canton_nom.label("canton_name"),
    Commune.epci_siren.label("epci_code"),
    Commune.epci_nom.label("epci_name"),
)


def _supply_and_demand(now: datetime) -> tuple[list[Territory], list[Territory]]:
    today = local_today(now)
    free = func.sum(TutorProfile.capacity - TutorProfile.places_used)
    supply = db.session.execute(
        select(
            *_TERRITORY,
            free.label("places"),
            func.count().label("tutors"),
        )
        .select_from(TutorProfile)
        .join(User, User.id == TutorProfile.user_id)
        .join(Commune, Commune.code_insee == TutorProfile.commune_code)
        .where(
            User.active.is_(True),
            TutorProfile.validated_at.is_not(None),
            TutorProfile.metier_code.is_not(None),
            TutorProfile.availability > 0,
            TutorProfile.places_used < TutorProfile.capacity,
            (TutorProfile.rest_until.is_(None)) | (TutorProfile.rest_until <= now),
            (TutorProfile.unavailable_until.is_(None)) | (TutorProfile.unavailable_until < today),
        )
        .group_by(Commune.canton_code, Commune.canton_nom, Commune.epci_siren, Commune.epci_nom)
    ).all()
    on_list = func.sum(case((TutoringRequest.status == TutoringRequestStatus.WAITING, 1), else_=0))
    demand = db.session.execute(
        select(
            *_TERRITORY,
            func.count().label("demandes"),
            on_list.label("on_list"),
            func.min(TutoringRequest.created_at).label("oldest"),
        )
        .select_from(TutoringRequest)
        .join(MenteeProfile, MenteeProfile.user_id == TutoringRequest.mentee_id)
        .join(Commune, Commune.code_insee == MenteeProfile.commune_code)
        .where(TutoringRequest.status.in_(UNMATCHED_REQUEST_STATUSES))
        .group_by(Commune.canton_code, Commune.canton_nom, Commune.epci_siren, Commune.epci_nom)
    ).all()

    def by(level: str) -> list[Territory]:
        code_of, name_of = f"{level}_code", f"{level}_name"
        acc: dict[str, dict] = defaultdict(
            lambda: {
                "name": "",
                "places": 0,
                "tutors": 0,
                "demandes": 0,
                "on_list": 0,
                "oldest": None,
            }
        )
        for row in supply:
            slot = acc[getattr(row, code_of)]
            slot["name"] = getattr(row, name_of)
            slot["places"] += int(row.places or 0)
            slot["tutors"] += int(row.tutors or 0)
        for row in demand:
            slot = acc[getattr(row, code_of)]
            slot["name"] = getattr(row, name_of)
            slot["demandes"] += int(row.demandes or 0)
            slot["on_list"] += int(row.on_list or 0)
            oldest = row.oldest
            if oldest is not None and (slot["oldest"] is None or oldest < slot["oldest"]):
                slot["oldest"] = oldest
        territories = [
            Territory(
                code=code,
                name=v["name"],
                free_places=v["places"],
                tutors=v["tutors"],
                demandes=v["demandes"],
                waiting=v["on_list"],
                oldest_days=_days(v["oldest"], now),
            )
            for code, v in acc.items()
        ]
        # Where demandes wait for lack of tutors first, the largest shortfall first.
        return sorted(territories, key=lambda t: (not t.lacks_tutors, t.gap, t.name))

    return by("canton"), by("epci")


def recruitment(now: datetime | None = None) -> Recruitment:
    """The figures of the recruitment page (four queries)."""
    now = now or datetime.now(UTC)
    stages, delays = _stages_and_delays(_applications(), _tutors(), now)
    cantons, epcis = _supply_and_demand(now)
    return Recruitment(stages=stages, delays=delays, cantons=cantons, epcis=epcis)


__all__ = ["TABLES", "Delay", "Recruitment", "Stage", "Territory", "recruitment"]
