"""Check-ins: « Comment se passe le tutorat ? » after the first meeting, then every CHECKIN_DAYS.

`ask_due` (run by `flask run-reminders`) asks each side of an active binôme the round that is
due; a round is asked once per person whatever the number of runs (a unique constraint and an
INSERT … ON CONFLICT DO NOTHING). A « Pas bien », or two questions in a row left unanswered,
raises an alert on the référent's dashboard (`followup.reported_pair`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import exists, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tutorat.extensions import db
from tutorat.models import CheckIn, CheckInAnswer, Meeting, Pair, PairStatus, Role, User
from tutorat.services.errors import Conflict, DomainError
from tutorat.services.notifications import queue_email
from tutorat.services.pair_record import CheckInRow

COMMENT_MAX = 1000


def due_round(
    pair_confirmed_at: datetime, has_meeting: bool, now: datetime, every: int
) -> int | None:
    """The round due now: n ≥ 1 once n × `every` days have passed since the confirmation, else 0
    after the first meeting, else none."""
    rounds = (now - pair_confirmed_at).days // every
    if rounds >= 1:
        return rounds
    return 0 if has_meeting else None


def ask_due(now: datetime | None = None) -> int:
    """Ask the due round to both people of every active binôme; returns how many questions were
    asked by this run (0 when run again)."""
    now = now or datetime.now(UTC)
    every = current_app.config["CHECKIN_DAYS"]
    has_meeting = exists(select(Meeting.id).where(Meeting.pair_id == Pair.id).correlate(Pair))
    rows = db.session.execute(
        select(Pair.id, Pair.tutor_id, Pair.mentee_id, Pair.confirmed_at, has_meeting)
        .where(Pair.status == PairStatus.ACTIVE, Pair.confirmed_at.is_not(None))
        .order_by(Pair.id)
    ).all()
    values = []
    for pair_id, tutor_id, mentee_id, confirmed_at, met in rows:
        round_number = due_round(confirmed_at, bool(met), now, every) if confirmed_at else None
        if round_number is None:
            continue
        for person_id in (mentee_id, tutor_id):
            values.append(
                {
                    "pair_id": pair_id,
                    "person_id": person_id,
                    "round_number": round_number,
                    "asked_at": min(now, datetime.now(UTC)),
                    "comment": "",
                }
            )
    if not values:
        return 0
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    asked = db.session.execute(
        insert(CheckIn)
        .values(values)
        .on_conflict_do_nothing(index_elements=["pair_id", "person_id", "round_number"])
        .returning(CheckIn.id, CheckIn.pair_id, CheckIn.person_id)
    ).all()
    for _id, pair_id, person_id in asked:
        pair = db.session.get_one(Pair, pair_id)
        queue_email("checkin", db.session.get_one(User, person_id), pair=pair)
    return len(asked)


def open_check_in(pair: Pair, person: User) -> CheckIn | None:
    """The latest question to `person` on this binôme, if not answered yet."""
    latest = db.session.scalars(
        select(CheckIn)
        .where(CheckIn.pair_id == pair.id, CheckIn.person_id == person.id)
        .order_by(CheckIn.round_number.desc())
        .limit(1)
    ).first()
    return latest if latest is not None and latest.answer is None else None


def answer(
    check_in: CheckIn,
    *,
    actor: User,
    answer: str | None,
    comment: str = "",
    now: datetime | None = None,
) -> None:
    """The person answers their question (once), on their page; or their référent records the
    answer they gave by phone (a letter or an SMS asked them to call), marked as recorded by them."""
    if actor.id != check_in.person_id:
        pair = db.session.get_one(Pair, check_in.pair_id)
        if actor.role != Role.REFERENT or pair.referent.id != actor.id:
            raise DomainError("Seule la personne interrogée, ou son référent, peut répondre.")
    if check_in.answer is not None:
        raise Conflict("Vous avez déjà répondu à cette question. Merci !")
    try:
        value = CheckInAnswer(answer or "")
    except ValueError:
        raise DomainError("Choisissez Bien, Moyen ou Pas bien.", field="answer") from None
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise DomainError(f"{COMMENT_MAX} caractères au plus.", field="comment")
    check_in.answer = value
    check_in.comment = comment
    check_in.answered_at = now or datetime.now(UTC)
    check_in.recorded_by_id = actor.id if actor.id != check_in.person_id else None


def still_open(check_ins: list[CheckInRow]) -> list[CheckInRow]:
    """Among a binôme's questions (`pair_record.read`), those still awaiting an answer: each person's
    latest question, if unanswered (what the référent may record, answered by phone)."""
    latest: dict[int, CheckInRow] = {}
    for check_in in check_ins:
        seen = latest.get(check_in.person_id)
        if seen is None or check_in.round_number > seen.round_number:
            latest[check_in.person_id] = check_in
    return [c for c in latest.values() if c.answer is None]


def pairs_waiting_for(person: User) -> list[int]:
    """The binômes where `person` has a question « Comment se passe le tutorat ? » to answer
    (their latest one, unanswered), for their home page."""
    latest = (
        select(CheckIn.pair_id, func.max(CheckIn.round_number).label("round_number"))
        .where(CheckIn.person_id == person.id)
        .group_by(CheckIn.pair_id)
        .subquery()
    )
    return list(
        db.session.scalars(
            select(CheckIn.pair_id)
            .join(
                latest,
                (latest.c.pair_id == CheckIn.pair_id)
                & (latest.c.round_number == CheckIn.round_number),
            )
            .join(Pair, Pair.id == CheckIn.pair_id)
            .where(
                CheckIn.person_id == person.id,
                CheckIn.answer.is_(None),
                Pair.status == PairStatus.ACTIVE,
            )
            .order_by(CheckIn.pair_id)
        )
    )
