"""The demo's history, lived through the product's own services on a simulated clock.

Each demande is a story: a generator that calls a service (open, propose, answer, confirm, log a
meeting, end…) at the simulated time, then says how long to wait before its next step. A clock runs
every story in time order, and the reminders' cron (`followup.run_reminders`) once a day, so every
reminder and expiry is the product's own. A story's steps after the present are never played. The
way a binôme reaches its final status is drawn from the workflow's transition table.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections.abc import Generator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from flask import current_app
from sqlalchemy import delete, or_, select

import matching
from tutorat import vocab
from tutorat.extensions import db
from tutorat.models import (
    CheckIn,
    CheckInAnswer,
    Commune,
    MenteeProfile,
    OutboxEmail,
    OutboxEmailPerson,
    Pair,
    PairStatus,
    Role,
    TutoringRequestStatus,
    TutorProfile,
    User,
)
from tutorat.models.pairs import PENDING_PAIR_STATUSES
from tutorat.services import (
    checkins,
    followup,
    goals,
    loop,
    meetings,
    pairs,
    requests,
    suggestions,
    voices,
)
from tutorat.services.profiles import local_today
from tutorat.services.workflow import PAIR_TRANSITIONS

MESSAGES = [
    "J'aimerais parler avec quelqu'un qui connaît le métier pour savoir par où commencer.",
    "Je voudrais de l'aide pour refaire mon CV et préparer mes entretiens.",
    "Je cherche du travail près de chez moi mais je n'ai pas de voiture.",
    "J'ai besoin de reprendre confiance après plusieurs années sans emploi.",
    "Je voudrais savoir comment concilier un emploi et la garde de mes enfants.",
]

# The status a demande's story ends in: a demande's (open, cancelled) or its binôme's.
Target = TutoringRequestStatus | PairStatus

# What a story yields: how long to wait before its next step.
Story = Generator[timedelta, None, None]

# The hour of the daily `flask run-reminders` (cron), UTC.
CRON_HOUR = 7

# The demo's référents weigh distance more than the official weights do (0.30): they pick, among the five best
# tutors, the one that maximises these shares of the parts plus a little noise. « Ce que montrent les décisions »
# should find this preference back (tests/tutorat/test_demo_learning.py).
DEMO_PREFERENCE = {"distance": 0.55, "sector": 0.20, "availability": 0.10, "experience": 0.15}
DEMO_CHOICE_NOISE = 0.05
# And a binôme ends well more often when the two have more free moments in common.
DEMO_SUCCESS = (0.2, 0.6)  # P(positive outcome) = 0.2 + 0.6 × availability part

CANCEL_REASONS = (
    "La personne a trouvé un emploi seule.",
    "La personne a déménagé hors du département.",
    "La personne ne souhaite plus être accompagnée pour l'instant.",
)
WITHDRAW_REASONS = (
    "",  # the service's own: « Retiré par le référent »
    "La situation de la personne a changé.",
    "Un autre tuteur paraît plus adapté.",
)
# A paused binôme or a stop request: what the demo's stories go through besides the usual path.
VOICE_STATUSES = frozenset({PairStatus.PAUSED, PairStatus.STOP_REQUESTED})
STOP_COMMENTS = (
    "",
    "Nos horaires ne correspondent plus depuis mon nouveau travail.",
    "Je préfère en parler avec mon référent.",
)
CHECKIN_COMMENTS = {
    CheckInAnswer.GOOD: ("", "", "Très bonnes rencontres.", "J'ai refait mon CV grâce à elle."),
    CheckInAnswer.AVERAGE: ("", "Difficile de trouver des moments en commun."),
    CheckInAnswer.BAD: ("Pas de nouvelles depuis trois semaines.", ""),
}
MEETING_NOTES = (
    "Bon échange.",
    "Travail sur le CV.",
    "Préparation d'un entretien.",
    "Visite d'une entreprise du secteur.",
    "",
)


def pair_paths(
    target: PairStatus, start: PairStatus = PairStatus.PROPOSED, seen: frozenset = frozenset()
) -> list[tuple[PairStatus, ...]]:
    """Every way the workflow's transition table lets a binôme go from `start` to `target`
    without passing twice through a status (a pause, then active again, then paused…)."""
    if start == target:
        return [(start,)]
    seen = seen | {start}
    return [
        (start, *rest)
        for step in sorted(PAIR_TRANSITIONS.get(start, frozenset()) - seen)
        for rest in pair_paths(target, step, seen)
    ]


@dataclass
class Person:
    """A mentee of the demo, with what their stories need."""

    user: User
    profile: MenteeProfile
    referent: User
    values: matching.Mentee


class Clock:
    """Runs the stories in time order, with the reminders' cron once a day, up to `end`."""

    def __init__(self, start: datetime, end: datetime) -> None:
        self.now = start
        self.end = end
        self._queue: list[tuple[datetime, int, Story]] = []
        self._order = itertools.count()

    def start(self, at: datetime, story: Story) -> None:
        if at <= self.end:
            heapq.heappush(self._queue, (at, next(self._order), story))

    def run(self) -> int:
        """Play everything up to `end`; returns how many cron runs were made."""
        tick = datetime.combine(self.now.date(), time(CRON_HOUR), tzinfo=self.now.tzinfo)
        if tick < self.now:
            tick += timedelta(days=1)
        runs = 0
        while self._queue or tick <= self.end:
            if tick <= self.end and (not self._queue or tick <= self._queue[0][0]):
                self.now = tick
                followup.run_reminders(now=tick)
                tick += timedelta(days=1)
                runs += 1
                continue
            at, _, story = heapq.heappop(self._queue)
            self.now = at
            wait = next(story, None)
            if wait is not None:
                self.start(at + wait, story)
        return runs


class History:
    """The demandes, binômes and meetings of the demo, produced by the services."""

    def __init__(
        self,
        rng: random.Random,
        start: datetime,
        end: datetime,
        tutors: list[tuple[User, TutorProfile]],
        communes: dict[str, Commune],
        demo_tutor: User,
    ) -> None:
        self.rng = rng
        self.start_at = start
        self.clock = Clock(start, end)
        self.demo_tutor = demo_tutor
        self.weights = suggestions.current_weights()
        self.tutor_values: dict[int, matching.Tutor] = {}
        for user, profile in tutors:
            assert profile.commune_code is not None
            commune = communes[profile.commune_code]
            self.tutor_values[user.id] = suggestions.tutor_values(profile, commune)
        self.expiry = timedelta(days=current_app.config["PROPOSAL_EXPIRY_DAYS"])

    @property
    def now(self) -> datetime:
        return self.clock.now

    def days(self, lo: float, hi: float) -> timedelta:
        return timedelta(days=self.rng.uniform(lo, hi))

    # -- choosing a tutor, as a référent would: among the best ranked with a free place now --

    def choose_tutor(self, person: Person) -> int | None:
        now = self.now
        free = db.session.scalars(
            select(TutorProfile.user_id)
            .join(User, User.id == TutorProfile.user_id)
            .where(
                User.active.is_(True),
                TutorProfile.validated_at.is_not(None),
                TutorProfile.validated_at <= now,
                TutorProfile.places_used < TutorProfile.capacity,
                or_(TutorProfile.rest_until.is_(None), TutorProfile.rest_until <= now),
                TutorProfile.user_id != self.demo_tutor.id,
            )
            .order_by(TutorProfile.user_id)
        ).all()
        if not free:
            return None
        candidates = [self.tutor_values[i] for i in free]
        top = matching.top_candidates(person.values, candidates, k=5, weights=self.weights)
        if not top:
            return None

        def utility(index: int) -> float:
            parts = matching.explain(person.values, candidates[index], self.weights).parts
            noise = -DEMO_CHOICE_NOISE * math.log(-math.log(self.rng.random() or 1e-12))
            return sum(w * parts[p].value for p, w in DEMO_PREFERENCE.items()) + noise

        return free[max((index for index, _ in top), key=utility)]

    # -- one demande's story --

    def add(self, person: Person, target: Target, *, tutor: User | None = None) -> None:
        """Plan a demande of `person` that ends in `target` (a demande or a binôme status)."""
        rng, end = self.rng, self.clock.end
        earliest = self.start_at + timedelta(days=2)
        if target == TutoringRequestStatus.OPEN:
            opened = end - self.days(0.1, 40)
        elif target == TutoringRequestStatus.WAITING:
            opened = end - self.days(3, 30)
        elif target == TutoringRequestStatus.CANCELLED:
            opened = earliest + self.days(0, 100)
        else:
            paths = pair_paths(PairStatus(target))
            # Most binômes run without a pause or a stop request.
            plain = [p for p in paths if not set(p) & VOICE_STATUSES]
            path = rng.choice(plain if plain and rng.random() < 0.85 else paths)
            steps = [(a, b, self.step_wait(a, b)) for a, b in itertools.pairwise(path)]
            busy = sum((w for *_, w in steps), timedelta())
            if target in PENDING_PAIR_STATUSES:
                # Still waiting now: proposed less than the expiry delay ago.
                proposed = end - self.days(busy.total_seconds() / 86400 + 0.1, 9)
            elif target in (PairStatus.ACTIVE, *VOICE_STATUSES):
                proposed = earliest + self.days(10, 120)
            elif target == PairStatus.ENDED:
                proposed = earliest + self.days(5, 40)
            else:  # declined, expired, withdrawn: over some time ago
                proposed = earliest + self.days(5, 120)
            opened = proposed - self.days(0.1, 8)
            self.clock.start(opened, self.tutoring_request(person, steps, proposed - opened, tutor))
            return
        self.clock.start(
            opened,
            self.tutoring_request(
                person,
                [],
                None,
                None,
                cancel=target == TutoringRequestStatus.CANCELLED,
                set_aside=target == TutoringRequestStatus.WAITING,
            ),
        )

    def step_wait(self, before: PairStatus, after: PairStatus) -> timedelta:
        """How long after reaching `before` the step to `after` comes."""
        if after == PairStatus.EXPIRED:
            return self.expiry + timedelta(days=1)  # the cron's run after the delay
        if after == PairStatus.ACTIVE:
            return self.days(0.1, 2)  # the référent confirms
        if after == PairStatus.ENDED or (before == PairStatus.ACTIVE and after in VOICE_STATUSES):
            return self.days(30, 90)  # meetings meanwhile
        return self.days(0.1, 3)  # an answer, a refusal, a withdrawal

    def tutoring_request(
        self,
        person: Person,
        steps: list[tuple[PairStatus, PairStatus, timedelta]],
        until_proposal: timedelta | None,
        tutor: User | None,
        *,
        cancel: bool = False,
        set_aside: bool = False,
    ) -> Story:
        rng = self.rng
        user, referent = person.user, person.referent
        tutoring_request = requests.open_request(
            user,
            actor=user if user.email else referent,
            topics=rng.sample(list(vocab.TOPICS), rng.randint(1, 3)),
            meeting_modes=rng.sample(list(vocab.MEETING_MODES), rng.randint(1, 3)),
            message=rng.choice(MESSAGES),
            now=self.now,
        )
        if cancel:
            yield self.days(1, 20)
            requests.cancel_request(
                tutoring_request, actor=referent, reason=rng.choice(CANCEL_REASONS), now=self.now
            )
            return
        if set_aside:
            # Set aside at the very end: the daily cron would bring back a demande a tutor fits.
            yield self.clock.end - self.now
            requests.put_on_waiting_list(
                tutoring_request,
                actor=referent,
                reason="Aucun tuteur possible pour l'instant",
                now=self.now,
            )
            return
        if until_proposal is None:
            return
        yield until_proposal
        tutor_id = tutor.id if tutor is not None else self.choose_tutor(person)
        if tutor_id is None:
            return  # no free tutor fits: the demande waits in the queue
        pair = pairs.propose(tutoring_request, tutor_id, actor=referent, now=self.now)
        for before, after, wait in steps:
            if after == PairStatus.EXPIRED:
                return  # the cron expires it
            if after == PairStatus.ENDED:
                if pair.status == PairStatus.ACTIVE:
                    yield from self.meetings(pair, until=self.now + wait)
                else:
                    yield wait
                self.end_pair(pair, referent)
                return
            if before == PairStatus.ACTIVE and after in VOICE_STATUSES:
                yield from self.meetings(pair, until=self.now + wait)
                self.take_step(pair, person, before, after)
                continue
            yield wait
            self.take_step(pair, person, before, after)
        if pair.status == PairStatus.ACTIVE:
            yield from self.meetings(pair, until=None)

    def take_step(self, pair: Pair, person: Person, before: PairStatus, after: PairStatus) -> None:
        rng, now, referent = self.rng, self.now, person.referent
        mentee = person.user if person.user.email else referent
        if after in (PairStatus.TUTOR_ACCEPTED, PairStatus.MENTEE_ACCEPTED, PairStatus.ACCEPTED):
            tutor_side = after == PairStatus.TUTOR_ACCEPTED or before == PairStatus.MENTEE_ACCEPTED
            pairs.answer(
                pair,
                side=Role.TUTOR if tutor_side else Role.MENTEE,
                accept=True,
                actor=pair.tutor if tutor_side else mentee,
                now=now,
            )
        elif after == PairStatus.DECLINED:
            tutor_side = pair.tutor_answer is None
            pairs.answer(
                pair,
                side=Role.TUTOR if tutor_side else Role.MENTEE,
                accept=False,
                actor=pair.tutor if tutor_side else mentee,
                reason=rng.choice([r for r in vocab.DECLINE_REASONS if r != "other"]),
                now=now,
            )
        elif after == PairStatus.WITHDRAWN:
            pairs.withdraw(pair, actor=referent, reason=rng.choice(WITHDRAW_REASONS), now=now)
        elif after == PairStatus.ACTIVE:
            pairs.confirm(pair, actor=referent, now=now)
        elif after == PairStatus.PAUSED:
            side = pair.tutor if rng.random() < 0.5 or not person.user.email else person.user
            until = voices.paris_today(now) + timedelta(days=rng.randint(7, 45))
            voices.pause(pair, actor=side, until=until, now=now)
        elif after == PairStatus.STOP_REQUESTED:
            side = pair.tutor if rng.random() < 0.5 or not person.user.email else person.user
            reason = rng.choice([r for r in vocab.STOP_REQUEST_REASONS if r != "other"])
            voices.request_stop(
                pair, actor=side, reason=reason, comment=rng.choice(STOP_COMMENTS), now=now
            )
        else:  # pragma: no cover - a status added to the table without a way to reach it here
            raise ValueError(f"no demo step leads to {after!r}")

    def meetings(self, pair: Pair, until: datetime | None) -> Story:
        """The tutor logs a meeting every one to three weeks; the mentee confirms most."""
        rng = self.rng
        while True:
            wait = self.days(5, 20)
            if until is not None and self.now + wait >= until:
                yield until - self.now
                return
            yield wait
            meeting = meetings.log_meeting(
                pair,
                actor=pair.tutor,
                day=self.now.date(),
                duration_minutes=rng.choice([30, 45, 60, 90]),
                mode=rng.choice(list(vocab.MEETING_MODES)),
                place=pair.meeting_place or "",
                topics=[rng.choice(list(vocab.TOPICS))],
                note=rng.choice(MEETING_NOTES),
                now=self.now,
            )
            if pair.mentee.email and rng.random() < 0.7:
                meetings.confirm_meeting(meeting, pair, actor=pair.mentee, confirmed=True)

    def end_pair(self, pair: Pair, referent: User) -> None:
        rng = self.rng
        part = ((pair.explanation or {}).get("parts") or {}).get("availability") or {}
        success = rng.random() < DEMO_SUCCESS[0] + DEMO_SUCCESS[1] * float(part.get("value") or 0.0)
        positive = [o for o in vocab.OUTCOMES if o not in vocab.FAILED_OUTCOMES]
        outcome = rng.choice(positive) if success else rng.choice(sorted(vocab.FAILED_OUTCOMES))
        # A job often means leaving the RSA too: several outcomes at once.
        outcomes = [outcome, "left_rsa"] if outcome == "job" and rng.random() < 0.5 else [outcome]
        stopped = outcome == vocab.STOPPED_OUTCOME
        stop_reason = rng.choice(list(vocab.STOP_REASONS)) if stopped else None
        pairs.end(
            pair,
            actor=referent,
            outcomes=outcomes,
            stop_reason=stop_reason,
            detail="Raison donnée par téléphone." if stop_reason == "other" else "",
            contract=rng.choice(list(vocab.CONTRACT_TYPES)) if outcome == "job" else None,
            rights=rng.sample(list(vocab.RIGHTS), rng.randint(1, 2)) if outcome == "rights" else [],
            now=self.now,
        )
        # The tutor answers, on their side, whether they wish to go on (or has not yet).
        wish = rng.choice([True, False, None])
        if wish is not None:
            pairs.record_tutor_wish(pair, actor=pair.tutor, wants_again=wish)
        # The loop: after a job or leaving the RSA, most mentees say whether they would help in
        # turn later (an RNG of their own, so that the rest of the demo stays as it was).
        if loop.asks_to_help(pair):
            would_help = random.Random(pair.id).choice([True, True, False, None])
            if would_help is not None:
                loop.record_answer(pair, actor=pair.mentee, yes=would_help, now=self.now)

    def voices(self) -> None:
        """What the people said of their binômes, so that the demo shows it: the questions
        « Comment se passe le tutorat ? » asked (most answered, the demo tutor's left for them
        to answer), and a problem reported to the demo référent."""
        rng, now = self.rng, min(self.clock.end, datetime.now(UTC))
        checkins.ask_due(now)
        questions = db.session.scalars(
            select(CheckIn).where(CheckIn.answer.is_(None)).order_by(CheckIn.id)
        ).all()
        for question in questions:
            if question.person_id == self.demo_tutor.id or rng.random() < 0.25:
                continue
            answer = rng.choices(list(CheckInAnswer), weights=(70, 22, 8))[0]
            comment = rng.choice(CHECKIN_COMMENTS[answer])
            checkins.answer(
                question, actor=question.person, answer=answer, comment=comment, now=now
            )
        # The demo tutor's binôme: the goals the mentee set, one under way.
        demo_pair = db.session.scalars(
            select(Pair)
            .where(Pair.tutor_id == self.demo_tutor.id, Pair.status == PairStatus.ACTIVE)
            .order_by(Pair.id)
        ).first()
        if demo_pair is not None:
            author = demo_pair.mentee if demo_pair.mentee.email else demo_pair.referent
            first = goals.add_goal(demo_pair, actor=author, code="cv", now=now)
            goals.add_goal(
                demo_pair, actor=author, text="Décrocher un stage en maison de retraite", now=now
            )
            goals.mark(first, demo_pair, actor=self.demo_tutor, status="in_progress", now=now)
            # …and their next meeting, agreed for later this week (reminded the day before).
            meetings.plan_next_meeting(
                demo_pair,
                actor=self.demo_tutor,
                day=local_today(now) + timedelta(days=5),
                at_time=time(17, 30),
                place=(demo_pair.meeting_place or "")[:150],
                now=now,
            )
        running = db.session.scalars(
            select(Pair)
            .join(MenteeProfile, MenteeProfile.user_id == Pair.mentee_id)
            .join(User, User.id == MenteeProfile.referent_id)
            .where(
                Pair.status == PairStatus.ACTIVE,
                Pair.tutor_id != self.demo_tutor.id,
                User.email == "referent@example.org",
            )
            .order_by(Pair.id)
        ).first()
        if running is not None:
            voices.report_problem(
                running,
                actor=running.mentee,
                comment=(
                    "Mon tuteur annule souvent au dernier moment et je n'ose pas le lui dire. "
                    "Pouvez-vous m'appeler ?"
                ),
                now=now,
            )

    def run(self) -> None:
        """Play the stories through the services, then drop the emails of the simulated past.

        Those emails would have left at the time; kept, they would all leave at the first
        `flask send-mail`, to addresses of the demo.
        """
        first_email = (
            db.session.scalar(select(OutboxEmail.id).order_by(OutboxEmail.id.desc())) or 0
        ) + 1
        base_url = current_app.config["BASE_URL"].rstrip("/")
        # The cron commits as it goes; the stories' objects need not be read again after each
        # commit (every service re-reads or expires what its UPDATE statements change).
        session = db.session()
        expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
        try:
            with current_app.test_request_context(base_url=base_url):
                self.clock.run()
                self.voices()
        finally:
            session.expire_on_commit = expire_on_commit
        old = select(OutboxEmail.id).where(OutboxEmail.id >= first_email)
        db.session.execute(delete(OutboxEmailPerson).where(OutboxEmailPerson.email_id.in_(old)))
        db.session.execute(delete(OutboxEmail).where(OutboxEmail.id >= first_email))
        db.session.flush()


__all__ = ["MESSAGES", "Clock", "History", "Person", "pair_paths"]
