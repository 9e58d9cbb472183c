"""The mentee's and the tutor's say over their binôme: pause, stop request, private report, check-ins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import Browser
from tests.factories import (
    PASSWORD,
    make_active_pair,
    make_mentee,
    make_proposal,
    make_referent,
    make_tutor,
)
from tutorat.extensions import db
from tutorat.models import (
    CheckIn,
    Goal,
    Meeting,
    OutboxEmail,
    Pair,
    PairReport,
    PairStatus,
    StatusEvent,
    TutoringRequest,
)
from tutorat.services import checkins, followup, goals, pair_record, voices
from tutorat.services import pairs as pair_service
from tutorat.services import requests as request_service
from tutorat.services.errors import Conflict, DomainError

SECRET = "Il me met mal à l'aise, MOT-SECRET-42"


def _pair():
    referent = make_referent(first_name="Sophie")
    mentee = make_mentee(referent, first_name="Julie")
    tutor = make_tutor(first_name="Marc", capacity=2)
    pair = make_active_pair(referent, mentee, tutor)
    db.session.commit()
    return referent, mentee, tutor, pair


def _emails(kind: str | None = None) -> list[OutboxEmail]:
    stmt = select(OutboxEmail).order_by(OutboxEmail.id)
    if kind:
        stmt = stmt.where(OutboxEmail.kind == kind)
    return list(db.session.scalars(stmt))


def _browser(app, email: str) -> Browser:
    b = Browser(app.test_client())
    assert b.login(email, PASSWORD).status_code == 302
    return b


def _today():
    return voices.paris_today()


# ---- Services ----


def test_pause_with_an_end_date_then_resumes_on_its_own(ctx):
    referent, mentee, tutor, pair = _pair()
    with pytest.raises(DomainError, match="après aujourd'hui"):
        voices.pause(pair, actor=mentee, until=_today())
    with pytest.raises(DomainError, match="au plus"):
        voices.pause(pair, actor=mentee, until=_today() + timedelta(days=200))
    with pytest.raises(DomainError, match="deux personnes"):
        voices.pause(pair, actor=referent, until=_today() + timedelta(days=5))
    assert pair.status == PairStatus.ACTIVE
    voices.pause(pair, actor=mentee, until=_today() + timedelta(days=5))
    db.session.commit()
    assert pair.status == PairStatus.PAUSED and pair.paused_until == _today() + timedelta(days=5)
    # The tutor and the référent are told; nothing about a reason (there is none).
    assert {e.recipient for e in _emails("pair_paused")} == {tutor.email, referent.email}
    # A paused binôme holds the mentee: no second live binôme, no meeting logged.
    with pytest.raises(Conflict):
        voices.pause(pair, actor=tutor, until=_today() + timedelta(days=3))
    # Not due yet: the cron leaves it paused.
    assert voices.resume_due_pauses(datetime.now(UTC) + timedelta(days=3)) == 0
    # The day after its end date, the cron resumes it, once.
    later = datetime.now(UTC) + timedelta(days=7)
    assert voices.resume_due_pauses(later) == 1
    assert voices.resume_due_pauses(later) == 0
    db.session.commit()
    db.session.refresh(pair)
    assert pair.status == PairStatus.ACTIVE and pair.paused_until is None
    events = db.session.scalars(
        select(StatusEvent)
        .where(StatusEvent.entity == "pair", StatusEvent.entity_id == pair.id)
        .order_by(StatusEvent.id)
    ).all()
    assert [e.to_status for e in events][-2:] == ["paused", "active"]
    assert events[-1].actor_id is None and events[-2].actor_id == mentee.id


def test_stop_request_waits_for_the_referent_who_ends_or_resumes(ctx):
    referent, mentee, tutor, pair = _pair()
    with pytest.raises(DomainError, match="raison"):
        voices.request_stop(pair, actor=tutor, reason="nope")
    with pytest.raises(DomainError, match="Précisez"):
        voices.request_stop(pair, actor=tutor, reason="other", comment="  ")
    report = voices.request_stop(pair, actor=tutor, reason="no_time", comment=SECRET)
    db.session.commit()
    assert pair.status == PairStatus.STOP_REQUESTED and report.is_open
    # The event says who asked, never why.
    event = db.session.scalars(
        select(StatusEvent).where(StatusEvent.to_status == "stop_requested")
    ).one()
    assert event.actor_id == tutor.id and "MOT-SECRET" not in event.reason
    # Only the référent may resume a binôme whose stop was requested.
    with pytest.raises(DomainError):
        voices.resume(pair, actor=mentee)
    # The alert is on: the dashboard and the digest count it.
    assert followup.caseload_counts(referent.id, datetime.now(UTC)).reported_pairs == 1
    # Handling a stop request goes through ending or resuming, not "mark as handled".
    with pytest.raises(Conflict):
        voices.handle_report(report, pair, actor=referent)
    pair_service.end(pair, actor=referent, outcomes=["stopped"], stop_reason="dropped_out")
    db.session.commit()
    db.session.refresh(report)
    assert pair.status == PairStatus.ENDED and report.handled_at is not None
    assert followup.caseload_counts(referent.id, datetime.now(UTC)).reported_pairs == 0
    # A binôme stopped without result sends the demande back to the queue.
    assert db.session.get(TutoringRequest, pair.request_id).status == "open"


def test_referent_resumes_after_a_stop_request(ctx):
    referent, mentee, tutor, pair = _pair()
    voices.request_stop(pair, actor=mentee, reason="no_time")
    voices.resume(pair, actor=referent, note="Appel aux deux : on continue.")
    db.session.commit()
    assert pair.status == PairStatus.ACTIVE
    assert all(r.handled_at for r in pair_record.read(pair.id).reports)
    assert {e.recipient for e in _emails("pair_resumed")} == {mentee.email, tutor.email}


def test_problem_report_is_private_and_handled_by_the_referent(ctx):
    referent, mentee, tutor, pair = _pair()
    with pytest.raises(DomainError, match="Décrivez"):
        voices.report_problem(pair, actor=mentee, comment=" ")
    with pytest.raises(DomainError, match="trop long"):
        voices.report_problem(pair, actor=mentee, comment="x" * 2001)
    report = voices.report_problem(pair, actor=mentee, comment=SECRET)
    db.session.commit()
    assert pair.status == PairStatus.ACTIVE  # nothing the tutor could notice
    assert voices.my_reports(pair, tutor) == [] and voices.my_reports(pair, mentee) == [report]
    assert followup.caseload_counts(referent.id, datetime.now(UTC)).reported_pairs == 1
    # Only the référent is emailed, and even their email does not copy the words.
    emails = _emails()
    assert [e.recipient for e in emails if e.kind == "pair_report_referent"] == [referent.email]
    assert not any("MOT-SECRET" in e.body_text + e.subject for e in emails)
    assert not any(e.recipient == tutor.email for e in emails if e.created_at >= report.created_at)
    with pytest.raises(DomainError):
        voices.handle_report(report, pair, actor=tutor)
    voices.handle_report(report, pair, actor=referent, note="Rendez-vous avec Julie.")
    db.session.commit()
    assert followup.caseload_counts(referent.id, datetime.now(UTC)).reported_pairs == 0
    with pytest.raises(Conflict):
        voices.handle_report(report, pair, actor=referent)


# ---- Through the web: the other person never sees a private report ----


def test_report_through_the_pages_reaches_the_referent_only(app):
    with app.app_context():
        referent, mentee, tutor, pair = _pair()
        ids = {"pair": pair.id}
        emails = {"referent": referent.email, "mentee": mentee.email, "tutor": tutor.email}

    m = _browser(app, emails["mentee"])
    page = m.get(f"/beneficiaire/binome/{ids['pair']}").get_data(as_text=True)
    assert "Signaler un problème au référent" in page
    # Bad input: empty → 422, nothing written.
    r = m.post(f"/beneficiaire/binome/{ids['pair']}/signaler", {"comment": ""})
    assert r.status_code == 422 and "Décrivez le problème" in r.get_data(as_text=True)
    r = m.post(f"/beneficiaire/binome/{ids['pair']}/signaler", {"comment": SECRET})
    assert r.status_code == 302
    page = m.get(f"/beneficiaire/binome/{ids['pair']}").get_data(as_text=True)
    assert "MOT-SECRET-42" in page  # she sees what she wrote

    # The référent: alert on top of the dashboard, the words on the binôme page.
    ref = _browser(app, emails["referent"])
    dashboard = ref.get("/referent/").get_data(as_text=True)
    assert "Problème signalé" in dashboard
    assert dashboard.index("Problème signalé") < dashboard.index("Le reste de votre file")
    page = ref.get(f"/referent/binomes/{ids['pair']}").get_data(as_text=True)
    assert "MOT-SECRET-42" in page and "Marquer comme traité" in page

    # The tutor: nothing, on any of his pages.
    t = _browser(app, emails["tutor"])
    for url in ("/tuteur/", f"/tuteur/binome/{ids['pair']}"):
        html = t.get(url).get_data(as_text=True)
        assert "MOT-SECRET" not in html and "Problème signalé" not in html, url
    # Nor his data export.
    assert "MOT-SECRET" not in t.get("/compte/mes-donnees.json").get_data(as_text=True)

    # The référent marks it handled: the alert goes.
    with app.app_context():
        report_id = db.session.scalar(select(PairReport.id))
    r = ref.post(
        f"/referent/binomes/{ids['pair']}/signalements/{report_id}/traiter",
        {"note": "Appelée"},
        page=f"/referent/binomes/{ids['pair']}",
    )
    assert r.status_code == 302
    assert "Problème signalé" not in ref.get("/referent/").get_data(as_text=True)


def test_stop_and_pause_forms_refuse_bad_input(app):
    with app.app_context():
        _, _, tutor, pair = _pair()
        pair_id, tutor_email = pair.id, tutor.email
    t = _browser(app, tutor_email)
    url = f"/tuteur/binome/{pair_id}"
    yesterday = (_today() - timedelta(days=1)).isoformat()
    r = t.post(f"{url}/pause", {"until": yesterday}, page=f"{url}/pause")
    assert r.status_code == 422 and "après aujourd" in r.get_data(as_text=True)
    r = t.post(f"{url}/pause", {"until": "pas une date"})
    assert r.status_code == 422 and "date valide" in r.get_data(as_text=True)
    r = t.post(f"{url}/arret", {"reason": "inconnue"}, page=f"{url}/arret")
    assert r.status_code == 422
    r = t.post(f"{url}/arret", {"reason": "other", "comment": ""})
    assert r.status_code == 422 and "Précisez" in r.get_data(as_text=True)
    r = t.post(f"{url}/signaler", {"comment": "y" * 2001}, page=f"{url}/signaler")
    assert r.status_code == 422
    with app.app_context():
        assert db.session.get(Pair, pair_id).status == PairStatus.ACTIVE
        assert db.session.scalar(select(PairReport.id)) is None
    # A good pause, then the tutor resumes it himself.
    until = (_today() + timedelta(days=10)).isoformat()
    assert t.post(f"{url}/pause", {"until": until}, page=f"{url}/pause").status_code == 302
    html = t.get(url).get_data(as_text=True)
    assert "en pause jusqu'au" in html
    assert t.post(f"{url}/reprendre", {}, page=url).status_code == 302
    # Resuming again: the state changed, a French message, no 500.
    r = t.post(f"{url}/reprendre", {}, page=url)
    assert r.status_code == 302
    with app.app_context():
        assert db.session.get(Pair, pair_id).status == PairStatus.ACTIVE


# ---- Check-ins ----


def test_check_ins_after_the_first_meeting_then_every_30_days(ctx):
    referent, mentee, tutor, pair = _pair()
    now = datetime.now(UTC)
    assert checkins.ask_due(now) == 0  # no meeting yet
    db.session.add(
        Meeting(
            pair_id=pair.id,
            logged_by_id=tutor.id,
            date=now.date(),
            duration_minutes=45,
            mode="phone",
        )
    )
    db.session.flush()
    assert checkins.ask_due(now) == 2
    assert checkins.ask_due(now) == 0  # safe to run twice
    assert {e.recipient for e in _emails("checkin")} == {mentee.email, tutor.email}
    question = checkins.open_check_in(pair, mentee)
    assert question is not None and question.round_number == 0
    with pytest.raises(DomainError):
        checkins.answer(question, actor=tutor, answer="good")
    with pytest.raises(DomainError):
        checkins.answer(question, actor=mentee, answer="super")
    checkins.answer(question, actor=mentee, answer="bad", comment="Pas de nouvelles")
    db.session.commit()
    with pytest.raises(Conflict):
        checkins.answer(question, actor=mentee, answer="good")
    # « Pas bien » raises the référent's alert.
    assert followup.caseload_counts(referent.id, now).reported_pairs == 1
    # 30 days later: round 1, asked once.
    assert checkins.ask_due(now + timedelta(days=31)) == 2
    assert checkins.ask_due(now + timedelta(days=31)) == 0
    rounds = db.session.scalars(select(CheckIn.round_number).where(CheckIn.person_id == tutor.id))
    assert sorted(rounds) == [0, 1]
    # A newer answer « Bien » from her clears the alert (the tutor's two unanswered questions are
    # not yet late: asked less than a week ago).
    checkins.answer(checkins.open_check_in(pair, mentee), actor=mentee, answer="good")
    db.session.commit()
    assert followup.caseload_counts(referent.id, now).reported_pairs == 0
    # Two questions in a row left unanswered for more than a week: alert.
    assert followup.caseload_counts(referent.id, now + timedelta(days=45)).reported_pairs == 1


def test_check_in_answered_on_the_pair_page_by_its_person_only(app):
    with app.app_context():
        referent, mentee, tutor, pair = _pair()
        db.session.add(
            Meeting(
                pair_id=pair.id,
                logged_by_id=tutor.id,
                date=datetime.now(UTC).date(),
                duration_minutes=30,
                mode="video",
            )
        )
        db.session.flush()
        checkins.ask_due()
        db.session.commit()
        mine = checkins.open_check_in(pair, mentee).id
        pair_id, emails = pair.id, (mentee.email, tutor.email, referent.email)
    m, t = _browser(app, emails[0]), _browser(app, emails[1])
    assert "Comment se passe le tutorat" in m.get("/beneficiaire/").get_data(as_text=True)
    # The tutor cannot answer her question, even through his own binôme's URL.
    t.get(f"/tuteur/binome/{pair_id}")
    assert t.post(f"/tuteur/binome/{pair_id}/point/{mine}", {"answer": "good"}).status_code == 404
    # Bad input: no answer → nothing written.
    m.get(f"/beneficiaire/binome/{pair_id}")
    m.post(f"/beneficiaire/binome/{pair_id}/point/{mine}", {"answer": "super"})
    with app.app_context():
        assert db.session.get(CheckIn, mine).answer is None
    r = m.post(
        f"/beneficiaire/binome/{pair_id}/point/{mine}",
        {"answer": "bad", "comment": "Il ne répond plus"},
        page=f"/beneficiaire/binome/{pair_id}",
    )
    assert r.status_code == 302
    assert "Comment se passe le tutorat" not in m.get("/beneficiaire/").get_data(as_text=True)
    # The référent reads it; the tutor does not.
    ref = _browser(app, emails[2])
    assert "Il ne répond plus" in ref.get(f"/referent/binomes/{pair_id}").get_data(as_text=True)
    assert "Il ne répond plus" not in t.get(f"/tuteur/binome/{pair_id}").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(CheckIn, mine).answer == "bad"


def test_tutor_answers_knowingly_page_and_email(app):
    """Topics, meeting modes, common free moments named, the place, « Répondez avant le »."""
    with app.app_context():
        referent = make_referent()
        mentee = make_mentee(referent, first_name="Julie")
        tutor = make_tutor(first_name="Marc")
        pair = make_proposal(referent, mentee, tutor)  # topics: CV; modes: video
        db.session.commit()
        pair_id, tutor_email = pair.id, tutor.email
        answer_by = (pair.proposed_at + timedelta(days=10)).astimezone(voices.PARIS).date()
        [email] = [e for e in _emails("proposal_tutor") if e.recipient == tutor_email]
        expected = answer_by.strftime("%d/%m/%Y")
        assert "Ce que la personne demande : Faire ou refaire son CV." in email.body_text
        assert "Façons de se rencontrer qu'elle accepte : En visio." in email.body_text
        assert "Vos moments libres en commun : " in email.body_text
        assert f"Répondez avant le {expected}" in email.body_text
        assert "Bonjour" not in email.body_text.split("Ce que la personne demande")[1]
    html = _browser(app, tutor_email).get(f"/tuteur/binome/{pair_id}").get_data(as_text=True)
    assert "Ce que la personne demande" in html and "Faire ou refaire son CV" in html
    assert "Répondez avant le" in html and "En visio" in html


def test_cancel_asks_first_and_meeting_date_is_today(app):
    with app.app_context():
        referent = make_referent()
        mentee = make_mentee(referent)
        tutoring_request = request_service.open_request(
            mentee, actor=mentee, topics=["cv"], meeting_modes=["video"], message="Bonjour"
        )
        db.session.commit()
        request_id, mentee_email = tutoring_request.id, mentee.email
        _, _, tutor, pair = _pair()
        pair_id, tutor_email = pair.id, tutor.email
    m = _browser(app, mentee_email)
    url = f"/beneficiaire/demande/{request_id}/annuler"
    first = m.post(url, {}, page="/beneficiaire/")
    assert first.status_code == 200 and "Voulez-vous vraiment annuler" in first.get_data(
        as_text=True
    )
    with app.app_context():
        assert db.session.get(TutoringRequest, request_id).status == "open"  # not yet
    assert m.post(url, {"confirm": "yes"}).status_code == 302
    with app.app_context():
        assert db.session.get(TutoringRequest, request_id).status == "cancelled"
    html = (
        _browser(app, tutor_email).get(f"/tuteur/binome/{pair_id}/rencontre").get_data(as_text=True)
    )
    assert f'value="{_today().isoformat()}"' in html


def test_goals_set_by_the_mentee_marked_by_both(app):
    with app.app_context():
        referent, mentee, tutor, pair = _pair()
        _, _, _, other_pair = _pair()
        theirs = goals.add_goal(other_pair, actor=other_pair.mentee, code="cv")
        db.session.commit()
        pair_id, theirs_id = pair.id, theirs.id
        emails = (mentee.email, tutor.email, referent.email)
        with pytest.raises(DomainError):
            goals.add_goal(pair, actor=tutor, code="cv")  # her goals, not his
    m, t = _browser(app, emails[0]), _browser(app, emails[1])
    url = f"/beneficiaire/binome/{pair_id}/objectifs"
    page = f"/beneficiaire/binome/{pair_id}"
    assert "Objectifs du binôme" in m.get(page).get_data(as_text=True)
    m.post(url, {"code": "", "text": ""}, page=page)  # nothing chosen: refused
    m.post(url, {"code": "inconnu"}, page=page)  # not in the list: refused
    m.post(url, {"text": "z" * 201}, page=page)  # too long: refused
    with app.app_context():
        assert goals.goals_of(db.session.get(Pair, pair_id)) == []
    assert m.post(url, {"code": "driving_licence"}, page=page).status_code == 302
    assert m.post(url, {"text": "Trouver un stage"}, page=page).status_code == 302
    assert m.post(url, {"code": "cv"}, page=page).status_code == 302
    m.post(url, {"code": "job"}, page=page)  # a fourth: refused
    with app.app_context():
        mine = goals.goals_of(db.session.get(Pair, pair_id))
        assert [g.text for g in mine] == [
            "Passer le permis de conduire",
            "Trouver un stage",
            "Avoir un CV à jour",
        ]
        first = mine[0].id
    # The tutor marks progress; another binôme's goal is a 404 through his URL.
    tpage = f"/tuteur/binome/{pair_id}"
    assert "Trouver un stage" in t.get(tpage).get_data(as_text=True)
    r = t.post(f"{tpage}/objectifs/{first}", {"status": "reached"}, page=tpage)
    assert r.status_code == 302
    assert t.post(f"{tpage}/objectifs/{theirs_id}", {"status": "reached"}).status_code == 404
    t.post(f"{tpage}/objectifs/{first}", {"status": "bof"}, page=tpage)  # unknown: refused
    with app.app_context():
        assert db.session.get(Goal, first).status == "reached"
        assert db.session.get(Goal, theirs_id).status == "todo"
    ref = _browser(app, emails[2]).get(f"/referent/binomes/{pair_id}").get_data(as_text=True)
    assert "Passer le permis de conduire" in ref and "Atteint" in ref


# ---- Her data: in her export, gone with her anonymisation ----


def test_reports_check_ins_and_goals_are_exported_to_their_author_and_erased(ctx):
    from tutorat.services import privacy

    referent, mentee, tutor, pair = _pair()
    voices.report_problem(pair, actor=mentee, comment=SECRET)
    goals.add_goal(pair, actor=mentee, text="Trouver un poste à MOT-OBJECTIF-7")
    goals.add_goal(pair, actor=mentee, code="cv")
    db.session.add(
        Meeting(
            pair_id=pair.id, logged_by_id=tutor.id, date=_today(), duration_minutes=45, mode="phone"
        )
    )
    db.session.flush()
    checkins.ask_due(datetime.now(UTC))
    question = checkins.open_check_in(pair, mentee)
    checkins.answer(question, actor=mentee, answer="bad", comment="Réponse MOT-POINT-9")
    db.session.commit()

    mine = str(privacy.my_data(mentee))
    assert all(word in mine for word in ("MOT-SECRET-42", "MOT-OBJECTIF-7", "MOT-POINT-9"))
    theirs = str(privacy.my_data(tutor))  # goals are shared; her report and her answer are not
    assert "MOT-OBJECTIF-7" in theirs
    assert "MOT-SECRET-42" not in theirs and "MOT-POINT-9" not in theirs

    privacy.anonymise(mentee, actor=referent)
    db.session.commit()
    rows = [
        *(r.comment + r.handled_note for r in db.session.scalars(select(PairReport))),
        *(c.comment for c in db.session.scalars(select(CheckIn))),
        *(g.text for g in db.session.scalars(select(Goal))),
    ]
    assert not any("MOT-" in row for row in rows), rows
    assert sorted(g.text for g in db.session.scalars(select(Goal))) == [
        "Avoir un CV à jour",
        privacy.ERASED_GOAL,
    ]
