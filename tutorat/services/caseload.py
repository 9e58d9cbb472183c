"""Caseloads: the list of beneficiaries (search, filters, sort, counts per status) and transfers.

The list reads columns, a page at a time, with the status of each person computed in SQL from
their profile, demandes and binômes; its counts per status are one grouped query. A transfer moves
beneficiaries to another référent: their open demandes and binômes follow (they are reached
through the profile's référent), each move is a `ReferentChange` (who, when, from, to, why) and an
access-log line, and both référents and the person are told.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, case, exists, func, or_, select, update
from sqlalchemy.orm import aliased, selectinload

from tutorat.extensions import db
from tutorat.models import (
    AccessAction,
    CaseloadStatus,
    Commune,
    MenteeProfile,
    OutboxEmailPerson,
    Pair,
    PairStatus,
    ReferentChange,
    Role,
    TutoringRequest,
    User,
)
from tutorat.models.requests import LIVE_REQUEST_STATUSES
from tutorat.services import audit
from tutorat.services.db import changed_rows
from tutorat.services.errors import Conflict, DomainError
from tutorat.services.notifications import queue_email
from tutorat.services.reference import normalize

PAGE_SIZE = 50
SORTS = {"nom": "Nom", "commune": "Commune", "statut": "Statut"}


def _status_expression() -> ColumnElement[str]:
    mentee = MenteeProfile.user_id
    active = exists().where(Pair.mentee_id == mentee, Pair.status == PairStatus.ACTIVE)
    waiting = exists().where(
        TutoringRequest.mentee_id == mentee, TutoringRequest.status.in_(LIVE_REQUEST_STATUSES)
    )
    ended = exists().where(Pair.mentee_id == mentee, Pair.status == PairStatus.ENDED)
    incomplete = or_(
        MenteeProfile.commune_code.is_(None),
        MenteeProfile.target_metiers == "",
        MenteeProfile.availability == 0,
    )
    return case(
        (active, CaseloadStatus.IN_PAIR.value),
        (waiting, CaseloadStatus.WAITING.value),
        (ended, CaseloadStatus.ENDED.value),
        (incomplete, CaseloadStatus.NO_PROFILE.value),
        else_=CaseloadStatus.NO_REQUEST.value,
    )


@dataclass(frozen=True)
class Filters:
    """What the list is narrowed to; empty values mean "all"."""

    referent_id: int | None = None
    query: str = ""
    status: CaseloadStatus | None = None
    territory: str = ""  # "canton:32xx" or "epci:2432…"
    sort: str = "nom"


@dataclass(frozen=True)
class CaseloadRow:
    user_id: int
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    commune: str | None
    status: CaseloadStatus
    referent_id: int
    referent_name: str


@dataclass(frozen=True)
class CaseloadPage:
    rows: list[CaseloadRow]
    counts: dict[CaseloadStatus, int]
    total: int  # matching the filters, all statuses
    matching: int  # matching the filters and the status
    page: int
    pages: int


def parse_filters(
    args: Mapping[str, str], *, referent_id: int | None = None
) -> tuple[Filters, int, bool]:
    """The list's filters from a page's query string (q, statut, territoire, referent, tri, page),
    the page number, and False when a value was not one the page offers (it is then ignored)."""
    ok = True
    status = None
    if args.get("statut"):
        try:
            status = CaseloadStatus(args["statut"])
        except ValueError:
            ok = False
    sort = args.get("tri", "nom")
    if sort not in SORTS:
        sort, ok = "nom", False
    territory = args.get("territoire", "")
    kind, _, code = territory.partition(":")
    if territory and (kind not in ("canton", "epci") or not code.isalnum() or len(code) > 9):
        territory, ok = "", False
    if referent_id is None and args.get("referent"):
        raw = args["referent"]
        if raw.isascii() and raw.isdigit() and len(raw) < 10:
            referent_id = int(raw)
        else:
            ok = False
    raw_page = args.get("page", "1")
    page = (
        int(raw_page)
        if raw_page.isascii() and raw_page.isdigit() and 0 < int(raw_page) <= 10_000
        else 0
    )
    if not page:
        page, ok = 1, False
    query = args.get("q", "")[:80]
    if "\x00" in query:  # PostgreSQL refuses it in a text value
        query, ok = "", False
    filters = Filters(
        referent_id=referent_id,
        query=query,
        status=status,
        territory=territory,
        sort=sort,
    )
    return filters, page, ok


def _where(filters: Filters) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [User.anonymised_at.is_(None)]
    if filters.referent_id is not None:
        clauses.append(MenteeProfile.referent_id == filters.referent_id)
    words = filters.query.strip()[:80]
    if words:
        for word in words.split()[:5]:
            pattern = f"%{_like(word.lower())}%"
            norm = f"%{_like(normalize(word))}%"
            clauses.append(
                or_(
                    func.lower(User.last_name).like(pattern, escape="\\"),
                    func.lower(User.first_name).like(pattern, escape="\\"),
                    func.lower(User.email).like(pattern, escape="\\"),
                    Commune.nom_normalise.like(norm, escape="\\"),
                    MenteeProfile.caf_number == word.upper(),
                )
            )
    kind, _, code = filters.territory.partition(":")
    if kind == "canton" and code:
        clauses.append(Commune.canton_code == code)
    elif kind == "epci" and code:
        clauses.append(Commune.epci_siren == code)
    return clauses


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_caseload(filters: Filters, page: int = 1, page_size: int = PAGE_SIZE) -> CaseloadPage:
    """A page of beneficiaries matching `filters`, with the counts per status (two queries)."""
    status_col = _status_expression().label("caseload_status")
    referent = aliased(User)
    count_rows = db.session.execute(
        select(status_col, func.count())
        .select_from(User)
        .join(MenteeProfile, MenteeProfile.user_id == User.id)
        .outerjoin(Commune, Commune.code_insee == MenteeProfile.commune_code)
        .where(*_where(filters))
        .group_by(status_col)
    ).all()
    counts = {s: 0 for s in CaseloadStatus}
    for value, n in count_rows:
        counts[CaseloadStatus(value)] = n
    total = sum(counts.values())
    matching = counts[filters.status] if filters.status is not None else total
    pages = max(1, -(-matching // page_size))
    page = min(max(page, 1), pages)
    order = {
        "commune": (Commune.nom, User.last_name, User.first_name),
        "statut": (status_col, User.last_name, User.first_name),
    }.get(filters.sort, (User.last_name, User.first_name, User.id))
    stmt = (
        select(
            User.id,
            User.first_name,
            User.last_name,
            User.email,
            User.phone,
            Commune.nom,
            status_col,
            MenteeProfile.referent_id,
            referent.first_name,
            referent.last_name,
        )
        .join(MenteeProfile, MenteeProfile.user_id == User.id)
        .join(referent, referent.id == MenteeProfile.referent_id)
        .outerjoin(Commune, Commune.code_insee == MenteeProfile.commune_code)
        .where(*_where(filters))
        .order_by(*order, User.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    if filters.status is not None:
        stmt = stmt.where(status_col == filters.status.value)
    rows = [
        CaseloadRow(
            uid,
            first,
            last,
            email,
            phone,
            commune,
            CaseloadStatus(status),
            ref_id,
            f"{ref_first} {ref_last}",
        )
        for uid, first, last, email, phone, commune, status, ref_id, ref_first, ref_last in (
            db.session.execute(stmt)
        )
    ]
    return CaseloadPage(rows, counts, total, matching, page, pages)


def referents_with_caseload() -> list[tuple[User, int]]:
    """Every référent (active first) with the number of beneficiaries they follow."""
    counts = dict(
        db.session.execute(
            select(MenteeProfile.referent_id, func.count())
            .join(User, User.id == MenteeProfile.user_id)
            .where(User.anonymised_at.is_(None))
            .group_by(MenteeProfile.referent_id)
        ).all()
    )
    referents = db.session.scalars(
        select(User)
        .where(User.role == Role.REFERENT)
        .order_by(User.active.desc(), User.last_name, User.first_name)
    ).all()
    return [(r, counts.get(r.id, 0)) for r in referents]


def all_territories() -> list[tuple[str, str]]:
    """Every canton, then every EPCI of the département: ("canton:32xx", label)."""
    rows = db.session.execute(
        select(
            Commune.canton_code, Commune.canton_nom, Commune.epci_siren, Commune.epci_nom
        ).distinct()
    ).all()
    cantons = sorted({(f"canton:{r[0]}", f"Canton : {r[1]}") for r in rows}, key=lambda x: x[1])
    epcis = sorted(
        {(f"epci:{r[2]}", f"Intercommunalité : {r[3]}") for r in rows}, key=lambda x: x[1]
    )
    return cantons + epcis


def people_of(referent_id: int, mentee_ids: list[int]) -> list[User]:
    """Those of `mentee_ids` whom `referent_id` follows (the transfer page lists them)."""
    return list(
        db.session.scalars(
            select(User)
            .join(MenteeProfile, MenteeProfile.user_id == User.id)
            .where(MenteeProfile.referent_id == referent_id, User.id.in_(mentee_ids[:500]))
            .order_by(User.last_name, User.first_name)
        )
    )


# ---- Transfer ----


@dataclass(frozen=True)
class TransferOutcome:
    moved: int
    from_referent: User
    to_referent: User


def transfer(
    *,
    from_referent: User,
    to_referent: User,
    actor: User,
    mentee_ids: list[int] | None = None,
    reason: str = "",
) -> TransferOutcome:
    """Move some (`mentee_ids`) or all of a référent's beneficiaries to another; the caller commits.

    Their demandes and binômes follow, as they are reached through the profile's référent. Every
    person moved gets a `ReferentChange` and an access-log line; the new référent, the former one
    and each person with an email are told (a person without email is told by their new référent).
    """
    if actor.role != Role.ADMIN:
        raise DomainError("Seule l'administration change le référent d'un bénéficiaire.")
    if to_referent.role != Role.REFERENT or not to_referent.active:
        raise DomainError("Choisissez un référent actif.", field="to_referent")
    if from_referent.role != Role.REFERENT:
        raise DomainError("Choisissez le référent qui suit ces personnes.", field="from_referent")
    if to_referent.id == from_referent.id:
        raise DomainError(
            "Choisissez un autre référent que celui qui suit déjà ces personnes.",
            field="to_referent",
        )
    stmt = (
        select(MenteeProfile)
        .where(MenteeProfile.referent_id == from_referent.id)
        .order_by(MenteeProfile.user_id)
        .with_for_update()
    )
    if mentee_ids is not None:
        if not mentee_ids:
            raise DomainError("Cochez au moins une personne.", field="mentee_ids")
        stmt = stmt.where(MenteeProfile.user_id.in_(mentee_ids))
    profiles = db.session.scalars(stmt).all()
    if mentee_ids is not None and len(profiles) != len(set(mentee_ids)):
        raise Conflict(
            "Une partie de ces personnes ne sont plus suivies par ce référent : rechargez la page."
        )
    if not profiles:
        raise DomainError("Ce référent ne suit personne.", field="from_referent")
    ids = [p.user_id for p in profiles]
    moved = changed_rows(
        db.session.execute(
            update(MenteeProfile)
            .where(MenteeProfile.user_id.in_(ids), MenteeProfile.referent_id == from_referent.id)
            .values(referent_id=to_referent.id)
            .execution_options(synchronize_session="fetch")
        )
    )
    if moved != len(ids):
        raise Conflict("Ces personnes ont changé de référent entre-temps : rechargez la page.")
    now = datetime.now(UTC)
    reason = " ".join((reason or "").split())[:500]
    db.session.add_all(
        ReferentChange(
            mentee_id=uid,
            from_referent_id=from_referent.id,
            to_referent_id=to_referent.id,
            actor_id=actor.id,
            at=now,
            reason=reason,
        )
        for uid in ids
    )
    for uid in ids:
        audit.note(
            AccessAction.TRANSFER,
            target=f"référent n° {from_referent.id} → n° {to_referent.id}",
            subject_id=uid,
            actor=actor,
        )
    people = db.session.scalars(
        select(User).where(User.id.in_(ids)).order_by(User.last_name, User.first_name)
    ).all()
    names = [p.full_name for p in people]
    without_email = [p.full_name for p in people if not p.email]
    for email in (
        queue_email(
            "caseload_received",
            to_referent,
            former=from_referent,
            names=names,
            without_email=without_email,
            reason=reason,
        ),
        queue_email(
            "caseload_given", from_referent, successor=to_referent, names=names, reason=reason
        ),
    ):
        # The emails name every person moved: erasing one of them must find these emails.
        if email is not None:
            named = {link.user_id for link in email.people}
            email.people.extend(OutboxEmailPerson(user_id=uid) for uid in ids if uid not in named)
    for person in people:
        queue_email("referent_changed", person, referent=to_referent)
    db.session.flush()
    return TransferOutcome(len(ids), from_referent, to_referent)


def history(mentee_id: int) -> list[ReferentChange]:
    """The référents a beneficiary had, most recent change first."""
    return list(
        db.session.scalars(
            select(ReferentChange)
            .where(ReferentChange.mentee_id == mentee_id)
            .order_by(ReferentChange.at.desc(), ReferentChange.id.desc())
            .options(
                selectinload(ReferentChange.from_referent),
                selectinload(ReferentChange.to_referent),
                selectinload(ReferentChange.actor),
            )
        )
    )


__all__ = [
    "PAGE_SIZE",
    "SORTS",
    "CaseloadPage",
    "CaseloadRow",
    "Filters",
    "TransferOutcome",
    "history",
    "list_caseload",
    "referents_with_caseload",
    "transfer",
]
