"""Meetings: corrected or deleted by the tutor within 7 days (history kept), the date pre-filled with
the Gers' today, and the next meeting planned, shown to all three and reminded the day before."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.conftest import Browser
from tests.factories import PASSWORD, make_active_pair, make_mentee, make_referent, make_tutor
from tests.tutorat.test_letters_sms import pdf_text
from tutorat.extensions import db
from tutorat.models import (
    Letter,
    Meeting,
    MeetingChange,
    MeetingChangeKind,
    NextMeeting,
    OutboxEmail,
    OutboxSms,
)
from tutorat.services import followup, goals, meetings, sms
from tutorat.services import pairs as pair_service
from tutorat.services.errors import Conflict, DomainError
from tutorat.services.profiles import PARIS, local_today

NOTE = "Travail sur le CV, NOTE-DU-TUTEUR-77"


def _world(*, share_first_name: bool = True, mentee_kw: dict | None = None):
    referent = make_referent(first_name="Sophie")
    mentee = make_mentee(referent, first_name="Julie", **(mentee_kw or {}))
    mentee.mentee_profile.share_first_name = share_first_name
    tutor = make_tutor(first_name="Marc", capacity=2)
    pair = make_active_pair(referent, mentee, tutor)
    db.session.flush()
    meeting = meetings.log_meeting(
        pair,
        actor=tutor,
        day=local_today(),
        duration_minutes=60,
        mode="in_person",
        place="Médiathèque d'Auch",
        topics=["cv"],
        note=NOTE,
    )
    db.session.commit()
    return referent, mentee, tutor, pair, meeting


def _browser(app, email: str) -> Browser:
    b = Browser(app.test_client())
    assert b.login(email, PASSWORD).status_code == 302
    return b


def _edit_data(**kw) -> dict:
    data = {
        "date": local_today().isoformat(),
        "duration": "90",
        "mode": "phone",
        "place": "",
        "topics": ["cv", "job_interview"],
        "note": NOTE,
    }
    data.update(kw)
    return data


# ---- Services ----


def test_correction_keeps_history_and_asks_the_mentee_again(ctx):
    _referent, mentee, tutor, pair, meeting = _world()
    meetings.confirm_meeting(meeting, pair, actor=mentee, confirmed=True)
    change = meetings.correct_meeting(
        meeting,
        pair,
        actor=tutor,
        day=meeting.date,
        duration_minutes=90,
        mode="phone",
        place="Médiathèque d'Auch",
        topics=["cv"],
        note=NOTE,
    )
    db.session.commit()
    assert meeting.duration_minutes == 90 and meeting.mode == "phone"
    # A confirmed meeting that is corrected goes back to « à confirmer ».
    assert meeting.mentee_confirmation is None
    assert change.kind == MeetingChangeKind.CORRECTED and change.actor_id == tutor.id
    assert change.changes == {
        "duration_minutes": [60, 90],
        "mode": ["in_person", "phone"],
        "mentee_confirmation": ["confirmed", None],
        "on": meeting.date.isoformat(),
    }
    assert change.meeting_day == meeting.date
    assert ("Durée", "60 min", "90 min") in change.lines
    assert ("Confirmation par la personne", "confirmée", "à confirmer") in change.lines
    # Nothing changed: refused, nothing written.
    with pytest.raises(DomainError, match="rien changé"):
        meetings.correct_meeting(
            meeting,
            pair,
            actor=tutor,
            day=meeting.date,
            duration_minutes=90,
            mode="phone",
            place="Médiathèque d'Auch",
            topics=["cv"],
            note=NOTE,
        )


def test_only_within_seven_days_and_only_by_the_tutor(ctx):
    referent, mentee, tutor, pair, meeting = _world()
    later = meeting.created_at + timedelta(days=7, minutes=1)
    values = dict(day=meeting.date, duration_minutes=30, mode="phone")
    with pytest.raises(Conflict, match="que dans les 7 jours"):
        meetings.correct_meeting(meeting, pair, actor=tutor, now=later, **values)
    with pytest.raises(Conflict, match="que dans les 7 jours"):
        meetings.delete_meeting(meeting, pair, actor=tutor, now=later)
    for someone in (mentee, referent):
        with pytest.raises(DomainError, match="Seul le tuteur"):
            meetings.correct_meeting(meeting, pair, actor=someone, **values)
        with pytest.raises(DomainError, match="Seul le tuteur"):
            meetings.delete_meeting(meeting, pair, actor=someone)
    # Just within the week: allowed.
    meetings.correct_meeting(
        meeting, pair, actor=tutor, now=meeting.created_at + timedelta(days=6), **values
    )
    assert db.session.scalar(select(func.count()).select_from(MeetingChange)) == 1


def test_deletion_keeps_what_the_meeting_said(ctx):
    _referent, _mentee, tutor, pair, meeting = _world()
    meeting_id = meeting.id
    change = meetings.delete_meeting(meeting, pair, actor=tutor)
    db.session.commit()
    assert db.session.get(Meeting, meeting_id) is None
    assert change.kind == MeetingChangeKind.DELETED and change.meeting_id == meeting_id
    assert change.changes["note"] == [NOTE, None]
    assert change.meeting_day == local_today()
    assert ("Durée", "60 min", None) in change.lines


def test_meeting_date_is_the_gers_day(ctx):
    """At 23:30 UTC it is already tomorrow in Paris: a meeting of the Paris day is not « future »."""
    _referent, _mentee, tutor, pair, _ = _world()
    late = datetime.combine(local_today(), time(23, 30), tzinfo=UTC)
    paris_day = late.astimezone(PARIS).date()
    assert paris_day == late.date() + timedelta(days=1)
    meeting = meetings.log_meeting(
        pair, actor=tutor, day=paris_day, duration_minutes=30, mode="phone", now=late
    )
    assert meeting.date == paris_day
    with pytest.raises(DomainError, match="futur"):
        meetings.log_meeting(
            pair,
            actor=tutor,
            day=paris_day + timedelta(days=1),
            duration_minutes=30,
            mode="phone",
            now=late,
        )


def test_next_meeting_rules(ctx):
    _referent, mentee, tutor, pair, _ = _world()
    today = local_today()
    with pytest.raises(DomainError, match="dans le passé"):
        meetings.plan_next_meeting(pair, actor=tutor, day=today - timedelta(days=1))
    with pytest.raises(DomainError, match="six mois"):
        meetings.plan_next_meeting(pair, actor=tutor, day=today + timedelta(days=400))
    with pytest.raises(DomainError, match="150"):
        meetings.plan_next_meeting(pair, actor=tutor, day=today, place="x" * 151)
    with pytest.raises(DomainError, match="Seul le tuteur"):
        meetings.plan_next_meeting(pair, actor=mentee, day=today + timedelta(days=2))
    planned = meetings.plan_next_meeting(
        pair, actor=tutor, day=today + timedelta(days=3), at_time=time(14, 30), place="Auch"
    )
    planned.reminded_at = datetime.now(UTC)
    # Moved: reminded again; the same day and hour with another place: not twice.
    meetings.plan_next_meeting(
        pair, actor=tutor, day=today + timedelta(days=3), at_time=time(14, 30), place="Gimont"
    )
    assert planned.reminded_at is not None
    meetings.plan_next_meeting(pair, actor=tutor, day=today + timedelta(days=4))
    assert planned.reminded_at is None and planned.at_time is None
    assert db.session.scalar(select(func.count()).select_from(NextMeeting)) == 1
    assert meetings.next_meeting_of(pair) is planned
    # A meeting logged on (or after) the planned day: the planned one has taken place.
    later = datetime.now(UTC) + timedelta(days=4)
    meetings.log_meeting(
        pair,
        actor=tutor,
        day=today + timedelta(days=3),
        duration_minutes=30,
        mode="phone",
        now=later,
    )
    assert meetings.next_meeting_of(pair, now=later) is not None  # logged the day before: kept
    meetings.log_meeting(
        pair,
        actor=tutor,
        day=today + timedelta(days=4),
        duration_minutes=30,
        mode="phone",
        now=later,
    )
    assert meetings.next_meeting_of(pair, now=later) is None


# ---- Pages ----


def test_tutor_corrects_and_deletes_from_the_pages(app):
    with app.app_context():
        referent, mentee, tutor, pair, meeting = _world()
        meetings.confirm_meeting(meeting, pair, actor=mentee, confirmed=True)
        db.session.commit()
        emails, pair_id, meeting_id = (
            (referent.email, mentee.email, tutor.email),
            pair.id,
            meeting.id,
        )
    t = _browser(app, emails[2])
    page = t.get(f"/tuteur/binome/{pair_id}").get_data(as_text=True)
    edit = f"/tuteur/binome/{pair_id}/rencontres/{meeting_id}"
    assert edit in page and "Corriger ou supprimer" in page
    form = t.get(edit).get_data(as_text=True)
    assert "avait confirmé" in form and 'value="60"' in form
    r = t.post(edit, _edit_data())
    assert r.status_code == 302, r.get_data(as_text=True)
    tutor_page = t.get(f"/tuteur/binome/{pair_id}").get_data(as_text=True)
    assert "Corrections des rencontres" in tutor_page and "60 min → 90 min" in tutor_page
    assert "Marc" in tutor_page.split("Corrections des rencontres")[-1]
    mine = t.client.get("/compte/mes-donnees.json").get_json()["vos_corrections_de_rencontres"]
    assert mine[0]["type"] == "Corrigée"
    assert {"champ": "Durée", "avant": "60 min", "apres": "90 min"} in mine[0]["changements"]
    # The référent sees the history and that the meeting is to be confirmed again.
    ref = _browser(app, emails[0]).get(f"/referent/binomes/{pair_id}").get_data(as_text=True)
    history = ref.split("Corrections des rencontres")[-1]
    assert "Corrigée" in history and "60 min → 90 min" in history
    assert "confirmée → à confirmer" in history
    # The mentee confirms again, as before; she does not see the tutor's note nor its history.
    m = _browser(app, emails[1])
    mpage = m.get(f"/beneficiaire/binome/{pair_id}").get_data(as_text=True)
    assert "Cette rencontre a-t-elle bien eu lieu" in mpage
    assert "Corrigée par votre tuteur le" in mpage
    export = m.client.get("/compte/mes-donnees.json").get_json()
    assert "vos_corrections_de_rencontres" in export
    assert export["vos_corrections_de_rencontres"] == []  # hers: none, the tutor's stay his
    assert "NOTE-DU-TUTEUR" not in mpage and "Corrections des rencontres" not in mpage
    r = m.post(f"/beneficiaire/binome/{pair_id}/rencontres/{meeting_id}/confirmer", {})
    assert r.status_code == 302
    # Deleting asks to tick the box first; then the meeting goes, its words stay in the history.
    r = t.post(f"{edit}/supprimer", {}, prefix="delete", page=edit)
    assert r.status_code == 422 and "Cochez la case" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Meeting, meeting_id) is not None
    r = t.post(f"{edit}/supprimer", {"delete-confirm": "y"}, prefix="delete", page=edit)
    assert r.status_code == 302
    with app.app_context():
        assert db.session.get(Meeting, meeting_id) is None
        kinds = db.session.scalars(select(MeetingChange.kind).order_by(MeetingChange.id)).all()
        assert kinds == [MeetingChangeKind.CORRECTED, MeetingChangeKind.DELETED]
    ref = _browser(app, emails[0]).get(f"/referent/binomes/{pair_id}").get_data(as_text=True)
    assert "Supprimée" in ref and "Aucune rencontre notée." in ref
    assert t.get(edit).status_code == 404


def test_bad_input_on_a_correction(app):
    with app.app_context():
        _, _, tutor, pair, meeting = _world()
        email, pair_id, meeting_id = tutor.email, pair.id, meeting.id
    t = _browser(app, email)
    edit = f"/tuteur/binome/{pair_id}/rencontres/{meeting_id}"
    tomorrow = (local_today() + timedelta(days=1)).isoformat()
    cases = [
        ({"date": ""}, "date valide"),
        ({"date": "31/02/2026"}, "date valide"),
        ({"date": tomorrow}, "futur"),
        ({"duration": ""}, "durée"),
        ({"duration": "721"}, "entre 1 et 720"),
        ({"mode": "pigeon"}, "options proposées"),
        ({"place": "x" * 151}, "150 caractères"),
        ({"note": "x" * 1001}, "1000 caractères"),
        ({"topics": ["astrologie"]}, "Choix inconnu"),
        (
            {
                "duration": "60",
                "mode": "in_person",
                "place": "Médiathèque d'Auch",
                "topics": ["cv"],
            },
            "rien changé",
        ),
    ]
    for change, message in cases:
        r = t.post(edit, _edit_data(**change), page=edit)
        body = r.get_data(as_text=True)
        assert r.status_code == 422, (change, r.status_code)
        assert message in body, (change, message)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(MeetingChange)) == 0
        assert db.session.get(Meeting, meeting_id).duration_minutes == 60


def test_another_tutors_meeting_is_a_404(app):
    with app.app_context():
        _, _, tutor, pair, meeting = _world()
        other_referent = make_referent()
        other_tutor = make_tutor(first_name="Paul")
        other_pair = make_active_pair(other_referent, make_mentee(other_referent), other_tutor)
        db.session.flush()
        theirs = meetings.log_meeting(
            other_pair, actor=other_tutor, day=local_today(), duration_minutes=30, mode="phone"
        )
        db.session.commit()
        email, pair_id, meeting_id = tutor.email, pair.id, meeting.id
        other_pair_id, theirs_id = other_pair.id, theirs.id
    t = _browser(app, email)
    t.get(f"/tuteur/binome/{pair_id}")
    for url in (
        f"/tuteur/binome/{other_pair_id}/rencontres/{theirs_id}",  # their binôme
        f"/tuteur/binome/{pair_id}/rencontres/{theirs_id}",  # their meeting under my binôme
    ):
        assert t.client.get(url).status_code == 404
        assert t.post(url, _edit_data()).status_code == 404
        assert (
            t.post(f"{url}/supprimer", {"delete-confirm": "y"}, prefix="delete").status_code == 404
        )
    assert (
        t.post(
            f"/tuteur/binome/{other_pair_id}/prochaine-rencontre",
            {"next-next_date": local_today().isoformat()},
            prefix="next",
        ).status_code
        == 404
    )
    with app.app_context():
        assert db.session.get(Meeting, theirs_id).duration_minutes == 30
        assert db.session.scalar(select(func.count()).select_from(MeetingChange)) == 0
        assert db.session.scalar(select(func.count()).select_from(NextMeeting)) == 0
    # The mentee and the référent have no such page (the tutor's space is refused to them).
    assert meeting_id


def test_after_seven_days_is_a_409_in_french(app):
    with app.app_context():
        _, _, tutor, pair, meeting = _world()
        meeting.created_at = datetime.now(UTC) - timedelta(days=8)
        db.session.commit()
        email, pair_id, meeting_id = tutor.email, pair.id, meeting.id
    t = _browser(app, email)
    page = t.get(f"/tuteur/binome/{pair_id}").get_data(as_text=True)
    assert "Corriger ou supprimer" not in page
    edit = f"/tuteur/binome/{pair_id}/rencontres/{meeting_id}"
    r = t.get(edit)
    assert r.status_code == 409 and "que dans les 7 jours" in r.get_data(as_text=True)
    r = t.post(edit, _edit_data(), page=f"/tuteur/binome/{pair_id}")
    assert r.status_code == 409 and "que dans les 7 jours" in r.get_data(as_text=True)
    r = t.post(f"{edit}/supprimer", {"delete-confirm": "y"}, prefix="delete")
    assert r.status_code == 409 and "dites-le à votre référent" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Meeting, meeting_id).duration_minutes == 60
        assert db.session.scalar(select(func.count()).select_from(MeetingChange)) == 0


def test_meeting_date_prefilled_with_today_in_paris(app):
    with app.app_context():
        _, _, tutor, pair, _ = _world()
        email, pair_id = tutor.email, pair.id
    t = _browser(app, email)
    page = t.get(f"/tuteur/binome/{pair_id}/rencontre").get_data(as_text=True)
    assert f'value="{datetime.now(PARIS).date().isoformat()}"' in page
    assert "La prochaine rencontre" in page


def test_next_meeting_set_and_shown_to_all_three(app):
    with app.app_context():
        referent, mentee, tutor, pair, _ = _world(share_first_name=False)
        goal = goals.add_goal(pair, actor=mentee, text="Refaire mon CV")
        goals.mark(goal, pair, actor=tutor, status="in_progress")
        db.session.commit()
        emails, pair_id = (referent.email, mentee.email, tutor.email), pair.id
    day = local_today() + timedelta(days=5)
    t = _browser(app, emails[2])
    url = f"/tuteur/binome/{pair_id}/prochaine-rencontre"
    page = f"/tuteur/binome/{pair_id}"
    for data, message in (
        ({}, "Indiquez la date"),
        ({"next-next_date": (local_today() - timedelta(days=1)).isoformat()}, "dans le passé"),
        ({"next-next_date": "2026-02-30"}, "date valide"),
        ({"next-next_date": day.isoformat(), "next-next_time": "25:99"}, "heure valide"),
        ({"next-next_date": day.isoformat(), "next-next_place": "x" * 151}, "150 caractères"),
    ):
        r = t.post(url, data, prefix="next", page=page)
        assert r.status_code == 422 and message in r.get_data(as_text=True), data
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(NextMeeting)) == 0
    r = t.post(
        url,
        {"next-next_date": day.isoformat(), "next-next_time": "14:30", "next-next_place": "Auch"},
        prefix="next",
        page=page,
    )
    assert r.status_code == 302
    from tutorat.templating import day_fr

    shown = f"{day_fr(day)} à 14 h 30, Auch"
    assert shown in t.get(page).get_data(as_text=True)
    assert shown in t.get("/tuteur/").get_data(as_text=True)
    m = _browser(app, emails[1])
    assert shown in m.get(f"/beneficiaire/binome/{pair_id}").get_data(as_text=True)
    assert shown in m.get("/beneficiaire/").get_data(as_text=True)
    ref = _browser(app, emails[0])
    assert shown in ref.get(f"/referent/binomes/{pair_id}").get_data(as_text=True)
    summary = pdf_text(ref.client.get(f"/referent/binomes/{pair_id}/fiche.pdf").get_data())
    assert day_fr(day) in summary and "14 h 30" in summary and "........ h" not in summary
    # Her goals for the binôme, with where each stands (issue 16 item 5).
    assert "Refaire mon CV : en cours" in summary
    # The mentee shared nothing: her first name stays out of the tutor's pages.
    assert "Julie" not in t.get(page).get_data(as_text=True)
    # Removed: gone from every page.
    r = t.post(f"{url}/annuler", {}, page=page)
    assert r.status_code == 302
    assert shown not in m.get("/beneficiaire/").get_data(as_text=True)


def test_log_a_meeting_with_the_next_one(app):
    with app.app_context():
        _, _, tutor, pair, _ = _world()
        email, pair_id = tutor.email, pair.id
    t = _browser(app, email)
    url = f"/tuteur/binome/{pair_id}/rencontre"
    base = {"date": local_today().isoformat(), "duration": "45", "mode": "phone"}
    r = t.post(url, {**base, "next_time": "10:00"}, page=url)
    assert r.status_code == 422 and "Indiquez aussi la date" in r.get_data(as_text=True)
    yesterday = (local_today() - timedelta(days=1)).isoformat()
    r = t.post(url, {**base, "next_date": yesterday}, page=url)
    assert r.status_code == 422 and "dans le passé" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Meeting)) == 1  # nothing written
    nxt = local_today() + timedelta(days=7)
    r = t.post(url, {**base, "next_date": nxt.isoformat(), "next_place": "Fleurance"}, page=url)
    assert r.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Meeting)) == 2
        planned = db.session.scalars(select(NextMeeting)).one()
        assert planned.day == nxt and planned.place == "Fleurance" and planned.at_time is None


# ---- The reminder the day before ----


def _tomorrow_world(**mentee_kw):
    referent, mentee, tutor, pair, _ = _world(mentee_kw=mentee_kw)
    meetings.plan_next_meeting(
        pair,
        actor=tutor,
        day=local_today() + timedelta(days=1),
        at_time=time(9, 5),
        place="Salle des fêtes de Castelnau-Barbarens, derrière la mairie, 1er étage " * 2,
    )
    db.session.commit()
    return referent, mentee, tutor, pair


def test_reminder_the_day_before_is_sent_once(ctx):
    _referent, mentee, tutor, _pair = _tomorrow_world(phone="06 12 34 56 78")
    mentee.contact_sms = True
    db.session.commit()
    # Not two days before.
    assert followup.remind_tomorrow(now=datetime.now(UTC) - timedelta(days=1)) == 0
    assert followup.remind_tomorrow() == 1
    db.session.commit()
    assert followup.remind_tomorrow() == 0  # run again: nothing more
    db.session.commit()
    reminders = db.session.scalars(
        select(OutboxEmail).where(OutboxEmail.kind == "meeting_tomorrow")
    ).all()
    assert sorted(e.recipient for e in reminders) == sorted([mentee.email, tutor.email])
    for email in reminders:
        assert "demain" in email.body_text and "9 h 05" in email.body_text
        assert "List-Unsubscribe" not in email.body_text and email.unsubscribe_url
    [text] = db.session.scalars(select(OutboxSms).where(OutboxSms.kind == "meeting_tomorrow"))
    assert text.recipient == "+33612345678"
    assert 1 <= sms.segments(text.body_text) <= sms.MAX_SEGMENTS
    assert "demain" in text.body_text and "9 h 05" in text.body_text and "STOP" in text.body_text


def test_reminder_by_sms_only_never_by_letter(ctx):
    """Without an email address: an SMS if she accepts them; never a letter (too late)."""
    _referent, mentee, _tutor, _pair = _tomorrow_world(email=None, phone="06 11 22 33 44")
    mentee.contact_sms = True
    mentee.contact_email = False
    db.session.commit()
    assert followup.remind_tomorrow() == 1
    db.session.commit()
    assert not db.session.scalars(select(Letter).where(Letter.kind == "meeting_tomorrow")).all()
    assert (
        db.session.scalar(
            select(func.count()).select_from(OutboxSms).where(OutboxSms.recipient == "+33611223344")
        )
        == 1
    )


def test_reminder_respects_the_persons_choice_and_the_binome(ctx):
    _referent, mentee, tutor, _pair = _tomorrow_world()
    mentee.notify_reminders = False
    db.session.commit()
    assert followup.remind_tomorrow() == 1
    db.session.commit()
    recipients = db.session.scalars(
        select(OutboxEmail.recipient).where(OutboxEmail.kind == "meeting_tomorrow")
    ).all()
    assert recipients == [tutor.email]
    # An ended binôme is not reminded.
    other = _tomorrow_world()[3]
    pair_service.end(other, actor=other.proposed_by, outcomes=["job"], contract="permanent")
    db.session.commit()
    assert followup.remind_tomorrow() == 0


def test_tutors_reminder_shows_only_what_the_mentee_shares(ctx):
    _referent, mentee, tutor, _pair = _tomorrow_world()
    mentee.mentee_profile.share_first_name = False
    db.session.commit()
    followup.remind_tomorrow()
    db.session.commit()
    to_tutor = db.session.scalars(
        select(OutboxEmail).where(
            OutboxEmail.recipient == tutor.email, OutboxEmail.kind == "meeting_tomorrow"
        )
    ).one()
    assert (
        "Julie" not in to_tutor.body_text
        and "la personne que vous accompagnez" in to_tutor.body_text
    )
    to_mentee = db.session.scalars(
        select(OutboxEmail).where(
            OutboxEmail.recipient == mentee.email, OutboxEmail.kind == "meeting_tomorrow"
        )
    ).one()
    assert "Marc" in to_mentee.body_text


def test_run_reminders_command_twice_reminds_once(app, runner):
    with app.app_context():
        _tomorrow_world()
    first = runner.invoke(args=["run-reminders"])
    assert first.exit_code == 0, first.output
    assert "1 rencontre(s) du lendemain rappelée(s)" in first.output
    second = runner.invoke(args=["run-reminders"])
    assert "0 rencontre(s) du lendemain rappelée(s)" in second.output
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(OutboxEmail)
                .where(OutboxEmail.kind == "meeting_tomorrow")
            )
            == 2
        )


# ---- Anonymisation ----


def test_anonymisation_empties_the_words_kept_in_the_history(ctx):
    from tutorat.services import privacy

    referent, mentee, tutor, pair, meeting = _world()
    meetings.correct_meeting(
        meeting,
        pair,
        actor=tutor,
        day=meeting.date,
        duration_minutes=60,
        mode="in_person",
        place="Chez Julie",
        topics=["cv"],
        note="Autre note",
    )
    meetings.plan_next_meeting(
        pair, actor=tutor, day=local_today() + timedelta(days=2), place="Chez Julie"
    )
    pair_service.end(pair, actor=referent, outcomes=["job"], contract="permanent")
    db.session.commit()
    privacy.anonymise(mentee, actor=None)
    db.session.commit()
    change = db.session.scalars(select(MeetingChange)).one()
    assert "note" not in change.changes and "place" not in change.changes
    assert db.session.scalars(select(NextMeeting.place)).one() == ""


# ---- Fuzz ----

FUZZ = settings(
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
text = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "x" * 2000,
            "<script>alert(1)</script>",
            "2026-02-30",
            "25:00",
            "9999-12-31",
            "-1",
        ]
    ),
    st.text(max_size=40),
)


@pytest.mark.slow
def test_fuzz_the_new_meeting_forms(app):
    with app.app_context():
        _, _, tutor, pair, meeting = _world()
        email, pair_id, meeting_id = tutor.email, pair.id, meeting.id
    t = _browser(app, email)
    edit = f"/tuteur/binome/{pair_id}/rencontres/{meeting_id}"
    t.get(edit)

    @FUZZ
    @given(
        st.fixed_dictionaries(
            {},
            optional={
                "date": text,
                "duration": text,
                "mode": text,
                "place": text,
                "topics": st.lists(text, max_size=3),
                "note": text,
                "next-next_date": text,
                "next-next_time": text,
                "next-next_place": text,
                "delete-confirm": text,
            },
        ),
        st.sampled_from(["edit", "next", "delete", "new"]),
    )
    def run(data, which):
        url, prefix = {
            "edit": (edit, None),
            "next": (f"/tuteur/binome/{pair_id}/prochaine-rencontre", "next"),
            "delete": (f"{edit}/supprimer", "delete"),
            "new": (f"/tuteur/binome/{pair_id}/rencontre", None),
        }[which]
        if which == "new":
            data = {k.replace("next-", ""): v for k, v in data.items()}
        response = t.post(url, data, prefix=prefix)
        assert response.status_code < 500, response.get_data(as_text=True)[:1000]
        assert "<script>alert(1)</script>" not in response.get_data(as_text=True)

    run()
    with app.app_context():
        # Whatever was sent: the meeting exists whole or was deleted whole, its changes recorded.
        kept = db.session.get(Meeting, meeting_id)
        changes = db.session.scalars(select(MeetingChange)).all()
        assert kept is not None or any(c.kind == MeetingChangeKind.DELETED for c in changes)
        assert all(c.actor_id is not None and c.changes for c in changes)
        assert db.session.scalar(select(func.count()).select_from(NextMeeting)) <= 1
        for planned in db.session.scalars(select(NextMeeting)):
            assert planned.day >= local_today() and len(planned.place) <= 150


def _kept_and_computed(pair_ids) -> list[tuple]:
    """Each binôme's kept last meeting date and the max of its meetings (they must agree)."""
    from tutorat.models import Pair

    last = select(func.max(Meeting.date)).where(Meeting.pair_id == Pair.id).scalar_subquery()
    db.session.expire_all()
    return db.session.execute(
        select(Pair.id, Pair.last_meeting_date, last).where(Pair.id.in_(pair_ids)).order_by(Pair.id)
    ).all()


def test_the_last_meeting_date_is_kept_by_every_write(ctx):
    """pair.last_meeting_date (the dashboard's « sans rencontre » rule and column) is kept by the
    database at every write to meeting: logged, corrected (date moved back), deleted, moved to
    another binôme, written without the services, several in one statement; none: NULL."""
    from sqlalchemy import delete, insert, update

    _referent, _mentee, tutor, pair, meeting = _world()
    today = local_today()
    someone = make_referent()
    other = make_active_pair(someone, make_mentee(someone), make_tutor())
    pair.proposed_at = datetime.now(UTC) - timedelta(days=30)  # meetings of the past days
    db.session.commit()
    assert _kept_and_computed([pair.id, other.id]) == [
        (pair.id, today, today),
        (other.id, None, None),
    ]
    older = meetings.log_meeting(
        pair, actor=tutor, day=today - timedelta(days=3), duration_minutes=30, mode="phone"
    )
    db.session.commit()
    assert _kept_and_computed([pair.id])[0][1] == today
    meetings.correct_meeting(
        meeting, pair, actor=tutor, day=today - timedelta(days=1), duration_minutes=30, mode="phone"
    )
    db.session.commit()
    assert _kept_and_computed([pair.id])[0][1:] == (today - timedelta(days=1),) * 2
    meetings.delete_meeting(meeting, pair, actor=tutor)
    db.session.commit()
    assert _kept_and_computed([pair.id])[0][1:] == (older.date, older.date)
    # Without the services: several rows in one statement, moved, deleted.
    values = {"logged_by_id": tutor.id, "duration_minutes": 30, "mode": "phone"}
    db.session.execute(
        insert(Meeting),
        [{"pair_id": other.id, "date": today - timedelta(days=d), **values} for d in (9, 2, 5)],
    )
    db.session.execute(update(Meeting).where(Meeting.id == older.id).values(pair_id=other.id))
    db.session.commit()
    assert _kept_and_computed([pair.id, other.id]) == [
        (pair.id, None, None),
        (other.id, today - timedelta(days=2), today - timedelta(days=2)),
    ]
    db.session.execute(delete(Meeting).where(Meeting.pair_id == other.id))
    db.session.commit()
    assert _kept_and_computed([other.id]) == [(other.id, None, None)]
