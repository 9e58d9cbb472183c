"""Reminders at 3 and 7 days, expiry at 10, alerts on the dashboard, the weekly digest, outcomes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select, update

from tests.conftest import Browser
from tests.factories import (
    PASSWORD,
    make_mentee,
    make_proposal,
    make_referent,
    make_tutor,
)
from tutorat.extensions import db
from tutorat.models import Meeting, OutboxEmail, Pair, StatusEvent, TutoringRequest, TutorProfile
from tutorat.services import followup
from tutorat.services import pairs as pair_service
from tutorat.services import requests as request_service
from tutorat.templating import PARIS, date_fr, date_short, days_since


def _proposal(referent=None, tutor=None):
    referent = referent or make_referent()
    mentee = make_mentee(referent)
    tutor = tutor or make_tutor(capacity=3)
    pair = make_proposal(referent, mentee, tutor)
    db.session.commit()
    return referent, mentee, tutor, pair


def _emails(kind: str) -> list[OutboxEmail]:
    return list(db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == kind)))


def test_reminders_then_expiry_and_safe_to_run_twice(ctx):
    referent, mentee, tutor, pair = _proposal()
    pair_service.answer(pair, side="mentee", accept=True, actor=mentee)
    db.session.commit()
    start = pair.proposed_at
    assert followup.run_reminders(start + timedelta(days=2)) == {
        "rappels": 0,
        "expirées": 0,
        "listes d'attente": 0,
        "invitations à devenir tuteur": 0,
    }
    assert followup.run_reminders(start + timedelta(days=3, hours=1)) == {
        "rappels": 1,
        "expirées": 0,
        "listes d'attente": 0,
        "invitations à devenir tuteur": 0,
    }
    assert followup.run_reminders(start + timedelta(days=3, hours=2)) == {
        "rappels": 0,
        "expirées": 0,
        "listes d'attente": 0,
        "invitations à devenir tuteur": 0,
    }
    reminders = _emails("reminder")
    assert [e.recipient for e in reminders] == [tutor.email]  # only who has not answered
    assert followup.run_reminders(start + timedelta(days=7, hours=1)) == {
        "rappels": 1,
        "expirées": 0,
        "listes d'attente": 0,
        "invitations à devenir tuteur": 0,
    }
    assert followup.run_reminders(start + timedelta(days=8)) == {
        "rappels": 0,
        "expirées": 0,
        "listes d'attente": 0,
        "invitations à devenir tuteur": 0,
    }
    assert len(_emails("reminder")) == 2
    assert followup.run_reminders(start + timedelta(days=10, hours=1)) == {
        "rappels": 0,
        "expirées": 1,
        "listes d'attente": 0,
        "invitations à devenir tuteur": 0,
    }
    assert followup.run_reminders(start + timedelta(days=11)) == {
        "rappels": 0,
        "expirées": 0,
        "listes d'attente": 0,
        "invitations à devenir tuteur": 0,
    }
    db.session.refresh(pair)
    assert pair.status == "expired" and pair.decline_reason == "no_answer"
    assert db.session.get(TutoringRequest, pair.request_id).status == "open"
    assert db.session.get(TutorProfile, tutor.id).places_used == 0
    event = db.session.scalars(
        select(StatusEvent).where(StatusEvent.entity == "pair", StatusEvent.to_status == "expired")
    ).one()
    assert event.actor_id is None  # the system, not a person
    assert {e.recipient for e in _emails("expired")} == {referent.email, tutor.email, mentee.email}


def test_cli_run_reminders(app, runner):
    with app.app_context():
        _, _, _, _pair = _proposal()
        db.session.execute(update(Pair).values(proposed_at=datetime.now(UTC) - timedelta(days=4)))
        db.session.commit()
    result = runner.invoke(args=["run-reminders"])
    assert result.exit_code == 0 and "1 proposition(s) relancée(s), 0 expirée(s)" in result.output
    again = runner.invoke(args=["run-reminders"])
    assert "0 proposition(s) relancée(s)" in again.output


def test_dashboard_alerts_first_and_filters(app):
    with app.app_context():
        referent = make_referent()
        old = make_mentee(referent, first_name="Ancienne", commune="32013")
        tutoring_request = request_service.open_request(
            old, actor=old, topics=["cv"], meeting_modes=["video"], message="Bonjour"
        )
        db.session.flush()
        db.session.execute(
            update(TutoringRequest)
            .where(TutoringRequest.id == tutoring_request.id)
            .values(updated_at=datetime.now(UTC) - timedelta(days=15))
        )
        _, mentee, tutor, pair = _proposal(referent)
        pair_service.answer(pair, side="tutor", accept=True, actor=tutor)
        pair_service.answer(pair, side="mentee", accept=True, actor=mentee)
        pair_service.confirm(pair, actor=referent)
        db.session.flush()
        db.session.add(
            Meeting(
                pair_id=pair.id,
                logged_by_id=tutor.id,
                date=date.today() - timedelta(days=30),
                duration_minutes=30,
                mode="video",
            )
        )
        db.session.commit()
        email = referent.email
    b = Browser(app.test_client())
    b.login(email, PASSWORD)
    page = b.get("/referent/").get_data(as_text=True)
    to_do = page[page.index('id="a-faire-title"') : page.index('id="demandes-title"')]
    assert "Ancienne" in to_do and "Demande sans proposition depuis 15 jours" in to_do
    # Days are counted in Paris time (30 or 31 near midnight UTC).
    days = days_since(date.today() - timedelta(days=30))
    assert "Prendre des nouvelles du binôme" in to_do and f"il y a {days} jours" in to_do
    # Each item once: what is to do is not repeated in the lists below.
    rest = page[page.index('id="demandes-title"') :]
    assert "Ancienne" not in rest and "Aucun autre binôme actif" in rest
    only = b.get("/referent/?statut=a-faire").get_data(as_text=True)
    assert "À faire (2)" in only and 'id="demandes-title"' not in only
    r = b.get("/referent/?statut=pirate")
    assert r.status_code == 400 and "Filtre inconnu" in r.get_data(as_text=True)
    assert b.get("/referent/?territoire=canton:9999").status_code == 400
    assert b.get("/referent/?nom=" + "x" * 81).status_code == 400
    # Auch is canton 3299: the filter keeps the demande; another canton removes it.
    assert "Ancienne" in b.get("/referent/?territoire=canton:3299").get_data(as_text=True)


def test_dashboard_and_digest_count_the_same_alerts(app):
    """One definition of each alert rule: the dashboard shows what the weekly digest counts."""
    now = datetime.now(UTC)
    with app.app_context():
        referent = make_referent()
        for days in (3, 15, 20):  # two demandes in alert, one not yet
            mentee = make_mentee(referent)
            tutoring_request = request_service.open_request(
                mentee, actor=mentee, topics=["cv"], meeting_modes=["video"], message="Bonjour"
            )
            db.session.flush()
            db.session.execute(
                update(TutoringRequest)
                .where(TutoringRequest.id == tutoring_request.id)
                .values(updated_at=now - timedelta(days=days))
            )
        for meeting_days in (None, 5, 40):  # silent since confirmation, recent meeting, old one
            _, mentee, tutor, pair = _proposal(referent)
            pair_service.answer(pair, side="tutor", accept=True, actor=tutor)
            pair_service.answer(pair, side="mentee", accept=True, actor=mentee)
            pair_service.confirm(pair, actor=referent)
            db.session.flush()
            pair.confirmed_at = now - timedelta(days=60)
            if meeting_days is not None:
                db.session.add(
                    Meeting(
                        pair_id=pair.id,
                        logged_by_id=tutor.id,
                        date=date.today() - timedelta(days=meeting_days),
                        duration_minutes=30,
                        mode="video",
                    )
                )
        _proposal(referent)  # a pending proposal
        db.session.commit()
        digest = followup.weekly_digest(referent, now)
        email = referent.email
    assert (digest["old_open_requests"], digest["silent_pairs"]) == (2, 2)
    b = Browser(app.test_client())
    b.login(email, PASSWORD)
    page = b.get("/referent/").get_data(as_text=True)
    to_do = page[page.index('id="a-faire-title"') : page.index('id="demandes-title"')]
    assert to_do.count("Demande sans proposition depuis") == digest["old_open_requests"]
    assert to_do.count("Prendre des nouvelles du binôme") == digest["silent_pairs"]
    # The lists below hold the rest: totals add up to the digest's.
    others = digest["open_requests"] - digest["old_open_requests"]
    assert f"Autres demandes en attente d'une proposition ({others})" in page
    assert f"Propositions en attente de réponse ({digest['pending_pairs']})" in page
    assert f"Binômes actifs ({digest['active_pairs'] - digest['silent_pairs']})" in page
    full = b.get("/referent/?statut=a-faire").get_data(as_text=True)
    assert full.count('class="row--alert"') == digest["old_open_requests"] + digest["silent_pairs"]


def test_weekly_digest_once_a_week(ctx):
    referent, _mentee, _tutor, _pair = _proposal()
    now = datetime.now(UTC)
    assert followup.send_digests(now) == 1
    assert followup.send_digests(now) == 0
    [digest] = _emails("digest")
    assert (
        digest.recipient == referent.email
        and "Propositions en attente de réponse : 1" in digest.body_text
    )
    assert followup.send_digests(now + timedelta(days=7)) == 1


def test_end_with_outcome_details(app):
    with app.app_context():
        referent, mentee, tutor, pair = _proposal()
        pair_service.answer(pair, side="tutor", accept=True, actor=tutor)
        pair_service.answer(pair, side="mentee", accept=True, actor=mentee)
        pair_service.confirm(pair, actor=referent)
        db.session.commit()
        email, pair_id = referent.email, pair.id
    b = Browser(app.test_client())
    b.login(email, PASSWORD)
    url = f"/referent/binomes/{pair_id}/terminer"
    page = f"/referent/binomes/{pair_id}"
    assert "Terminer le binôme" in b.get(page).get_data(as_text=True)
    ok = {"end-confirm": "y"}
    r = b.post(url, {"end-outcomes": "job", **ok}, prefix="end", page=url)
    assert r.status_code == 422 and "type de contrat" in r.get_data(as_text=True)
    r = b.post(url, {"end-outcomes": "rights", **ok}, prefix="end", page=url)
    assert r.status_code == 422 and "droits ont été ouverts" in r.get_data(as_text=True)
    r = b.post(url, {"end-outcomes": "stopped", **ok}, prefix="end", page=url)
    assert r.status_code == 422 and "Indiquez pourquoi le binôme" in r.get_data(as_text=True)
    r = b.post(url, {"end-outcomes": ["stopped", "job"], **ok}, prefix="end", page=url)
    assert r.status_code == 422 and "ne se combine pas" in r.get_data(as_text=True)
    r = b.post(url, {"end-outcomes": "training"}, prefix="end", page=url)  # not confirmed
    assert r.status_code == 422 and "pour confirmer la fin" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Pair, pair_id).status == "active"  # nothing written
    r = b.post(
        url,
        {
            "end-outcomes": ["job", "left_rsa"],
            "end-contract": "fixed_term",
            "end-detail": "CDD de 6 mois en EHPAD",
            **ok,
        },
        prefix="end",
        page=url,
    )
    assert r.status_code == 302
    with app.app_context():
        pair = db.session.get(Pair, pair_id)
        assert (pair.status, pair.outcomes, pair.outcome_contract, pair.tutor_wants_again) == (
            "ended",
            ["job", "left_rsa"],
            "fixed_term",
            None,  # asked of the tutor, not typed by the référent
        )
        assert db.session.scalar(select(func.count()).where(OutboxEmail.kind == "pair_ended")) == 2
        tutor_email = pair.tutor.email
    shown = b.get(page).get_data(as_text=True)
    assert "A trouvé un emploi, Est sorti du RSA (CDD)" in shown and "pas encore répondu" in shown
    # The tutor answers on their side; the référent sees it.
    t = Browser(app.test_client())
    t.login(tutor_email, PASSWORD)
    tutor_page = f"/tuteur/binome/{pair_id}"
    assert "Souhaitez-vous accompagner une autre personne" in t.get(tutor_page).get_data(
        as_text=True
    )
    r = t.post(f"{tutor_page}/souhait", {}, prefix="wish", page=tutor_page)
    assert r.status_code == 422 and "Choisissez une réponse" in r.get_data(as_text=True)
    r = t.post(f"{tutor_page}/souhait", {"wish-wants_again": "yes"}, prefix="wish", page=tutor_page)
    assert r.status_code == 302
    with app.app_context():
        assert db.session.get(Pair, pair_id).tutor_wants_again is True
    assert "souhaite accompagner une autre personne</dt><dd>Oui" in b.get(page).get_data(
        as_text=True
    )
    # The référent cannot answer for the tutor (only the tutor's page has the form).
    assert b.post(f"{tutor_page}/souhait", {"wish-wants_again": "no"}).status_code == 403


def test_stopped_binome_records_its_reason_and_indicators_count_every_outcome(app):
    from tutorat.services import indicators

    with app.app_context():
        referent = make_referent()
        ended = []
        for outcomes, reason in ((["job", "left_rsa"], None), (["stopped"], "moved")):
            _, mentee, tutor, pair = _proposal(referent)
            pair_service.answer(pair, side="tutor", accept=True, actor=tutor)
            pair_service.answer(pair, side="mentee", accept=True, actor=mentee)
            pair_service.confirm(pair, actor=referent)
            pair_service.end(
                pair, actor=referent, outcomes=outcomes, stop_reason=reason, contract="permanent"
            )
            ended.append(pair)
        db.session.commit()
        stopped = ended[1]
        assert stopped.stop_reason == "moved" and stopped.request.status == "open"
        assert ended[0].stop_reason is None and ended[0].request.status == "matched"
        report = indicators.build_report(
            indicators.default_period(date.today()), referent_id=referent.id
        )
        assert report.pairs_ended == 2  # two binômes, three outcomes
        rows = dict(report.outcome_rows())
        assert rows["A trouvé un emploi"] == rows["Est sorti du RSA"] == 1
        assert rows["Arrêt sans résultat"] == 1
        assert rows["Arrêt sans résultat : déménagement"] == 1
        assert "Résultat non enregistré" not in rows


def test_pair_page_shows_one_timeline(app):
    with app.app_context():
        referent, mentee, tutor, pair = _proposal()
        pair_service.answer(pair, side="tutor", accept=True, actor=tutor)
        pair_service.answer(pair, side="mentee", accept=True, actor=mentee)
        pair_service.confirm(pair, actor=referent)
        db.session.add(
            Meeting(
                pair_id=pair.id,
                logged_by_id=tutor.id,
                date=datetime.now(PARIS).date(),  # the day the page shows the events on
                duration_minutes=45,
                mode="phone",
                mentee_confirmation="contested",
            )
        )
        db.session.commit()
        email, pair_id = referent.email, pair.id
    b = Browser(app.test_client())
    b.login(email, PASSWORD)
    html = b.get(f"/referent/binomes/{pair_id}").get_data(as_text=True)
    # Follow-up first (last contact, next step, meetings), the timeline once, at the end.
    assert html.index("Dernière rencontre :") < html.index("Prochaine étape :")
    assert html.index('id="meetings-title"') < html.index("Pourquoi ce tuteur a été proposé")
    assert html.index("Terminer le binôme…") < html.index('id="meetings-title"')
    assert html.count("(création)") == 1 and "Historique du binôme" not in html
    timeline = html[html.index('id="timeline-title"') :]
    assert (
        timeline.index("(création)")
        < timeline.index("Actif")
        < timeline.index("rencontre par téléphone, 45 min")
    )
    assert "contestée par le bénéficiaire" in timeline


def _aged(pair: Pair, days: float, reminders_sent: int = 0) -> None:
    db.session.execute(
        update(Pair)
        .where(Pair.id == pair.id)
        .values(proposed_at=datetime.now(UTC) - timedelta(days=days), reminders_sent=reminders_sent)
    )


def test_batched_run_reminds_and_expires_the_right_pairs(ctx, monkeypatch):
    monkeypatch.setattr(followup, "CHUNK", 2)  # several transactions in one run
    pairs = {}
    for name, days, sent in (
        ("young", 2, 0),
        ("first", 4, 0),
        ("second", 8, 0),
        ("second_after_first", 8, 1),
        ("both_sent", 9, 2),
        ("expire", 11, 2),
        ("expire_half", 12, 1),
        ("accepted_old", 12, 0),
        ("declined_old", 12, 0),
    ):
        _, mentee, tutor, pair = _proposal()
        if name in ("first", "expire_half"):
            pair_service.answer(pair, side="mentee", accept=True, actor=mentee)
        if name == "accepted_old":
            pair_service.answer(pair, side="mentee", accept=True, actor=mentee)
            pair_service.answer(pair, side="tutor", accept=True, actor=tutor)
        if name == "declined_old":
            pair_service.answer(pair, side="tutor", accept=False, actor=tutor, reason="unavailable")
        _aged(pair, days, sent)
        pairs[name] = pair
    db.session.commit()
    ids = {name: pair.id for name, pair in pairs.items()}
    people = {name: (pair.tutor.email, pair.mentee.email) for name, pair in pairs.items()}

    assert followup.run_reminders() == {
        "rappels": 3,
        "expirées": 2,
        "listes d'attente": 0,
        "invitations à devenir tuteur": 0,
    }

    sent = {name: db.session.get(Pair, pair_id).reminders_sent for name, pair_id in ids.items()}
    assert sent == {
        "young": 0,
        "first": 1,
        "second": 2,
        "second_after_first": 2,
        "both_sent": 2,
        "expire": 2,
        "expire_half": 1,
        "accepted_old": 0,
        "declined_old": 0,
    }
    reminded = sorted(e.recipient for e in _emails("reminder"))
    assert reminded == sorted(
        [people["first"][0], *people["second"], *people["second_after_first"]]
    )
    statuses = {name: db.session.get(Pair, pair_id).status for name, pair_id in ids.items()}
    assert statuses["expire"] == statuses["expire_half"] == "expired"
    assert statuses["accepted_old"] == "accepted" and statuses["declined_old"] == "declined"
    for name in ("expire", "expire_half"):
        pair = db.session.get(Pair, ids[name])
        assert pair.decline_reason == "no_answer"
        assert db.session.get(TutoringRequest, pair.request_id).status == "open"
        assert db.session.get(TutorProfile, pair.tutor_id).places_used == 0
        events = db.session.scalars(
            select(StatusEvent)
            .where(StatusEvent.entity == "pair", StatusEvent.entity_id == pair.id)
            # In the order they were written (PostgreSQL gives no order without one).
            .order_by(StatusEvent.id)
        ).all()
        assert [(e.to_status, e.actor_id) for e in events][-1] == ("expired", None)
        request_events = db.session.scalars(
            select(StatusEvent.reason).where(
                StatusEvent.entity == "request",
                StatusEvent.entity_id == pair.request_id,
                StatusEvent.from_status == "proposed",
                StatusEvent.to_status == "open",
            )
        ).all()
        assert request_events == [f"Binôme n° {pair.id} expiré sans réponse"]
    assert len(_emails("expired")) == 6
    assert {e.recipient for e in _emails("expired")} >= {*people["expire"], *people["expire_half"]}

    # Twice: nothing more, not one email.
    outbox = db.session.scalar(select(func.count()).select_from(OutboxEmail))
    assert followup.run_reminders() == {
        "rappels": 0,
        "expirées": 0,
        "listes d'attente": 0,
        "invitations à devenir tuteur": 0,
    }
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == outbox


def test_concurrent_runs_send_each_email_once(app):
    """Two `flask run-reminders` at the same moment (two cron hosts): each email once."""
    import threading

    with app.app_context():
        for i in range(12):
            _, _, _, pair = _proposal()
            _aged(pair, 11 if i % 2 else 4)
        db.session.commit()
    barrier = threading.Barrier(2)
    reports, errors = [], []

    def run():
        with app.app_context():
            try:
                barrier.wait(10)
                reports.append(followup.run_reminders())
            except Exception as exc:  # reported below, with the other thread's result
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sum(r["rappels"] for r in reports) == 6
    assert sum(r["expirées"] for r in reports) == 6
    with app.app_context():
        assert len(_emails("reminder")) == 12  # tutor and mentee of 6 pairs
        assert len(_emails("expired")) == 18
        expired_events = db.session.scalar(
            select(func.count()).where(
                StatusEvent.entity == "pair", StatusEvent.to_status == "expired"
            )
        )
        assert expired_events == 6
        assert sum(db.session.scalars(select(TutorProfile.places_used))) == 6


def test_run_reminders_is_set_based(ctx):
    """The number of SQL statements does not grow with the number of pairs (it did: ~14 each)."""
    from sqlalchemy import event

    for i in range(40):
        _, _, _, pair = _proposal()
        _aged(pair, 11 if i % 2 else 4)
    db.session.commit()
    statements = []

    def count(_conn, _cursor, statement, *_args):
        # The outbox writes its rows its own way (queue_email); what is counted here is the
        # work on the binômes: reads, status changes, events, places, demandes.
        if not statement.startswith("INSERT INTO outbox_email"):
            statements.append(statement.split("\n")[0][:90])

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert followup.run_reminders() == {
            "rappels": 20,
            "expirées": 20,
            "listes d'attente": 0,
            "invitations à devenir tuteur": 0,
        }
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) < 40, "\n".join(statements)


def test_dashboard_pages_its_lists_and_counts_them_all(app):
    """The dashboard reads at most DASHBOARD_ROWS rows per list, whatever the caseload."""
    from tutorat.views.referent import DASHBOARD_PREVIEW, DASHBOARD_ROWS

    total = DASHBOARD_ROWS + 5
    with app.app_context():
        referent = make_referent()
        for i in range(total):
            mentee = make_mentee(referent, first_name=f"Personne{i:02d}")
            request_service.open_request(
                mentee, actor=mentee, topics=["cv"], meeting_modes=["video"], message="Bonjour"
            )
            db.session.flush()
        db.session.commit()
        email = referent.email
    b = Browser(app.test_client())
    b.login(email, PASSWORD)
    page = b.get("/referent/").get_data(as_text=True)
    link = '<a href="/referent/demandes/'
    assert f"Autres demandes en attente d'une proposition ({total})" in page
    assert page.count(link) == DASHBOARD_PREVIEW
    assert f"Voir toutes les autres demandes ({total})" in page
    first = b.get("/referent/?statut=demandes").get_data(as_text=True)
    second = b.get("/referent/?statut=demandes&page=2").get_data(as_text=True)
    assert first.count(link) == DASHBOARD_ROWS
    assert second.count(link) == total - DASHBOARD_ROWS
    assert "Page 2 sur 2" in second and "page précédente" in second
    shown = {f"Personne{i:02d}" for i in range(total) if f"Personne{i:02d}" in first + second}
    assert len(shown) == total  # every demande on one page or the other
    bad = b.get("/referent/?statut=demandes&page=zero")
    assert bad.status_code == 400 and "Numéro de page inconnu" in bad.get_data(as_text=True)
    # Search by name: one person, in every list.
    found = b.get("/referent/?nom=personne07").get_data(as_text=True)
    assert "Personne07" in found and "Personne08" not in found
    assert "Autres demandes en attente d'une proposition (1)" in found


def test_dashboard_to_do_by_urgency_and_recent_changes(app):
    """To confirm first (flagged when accepted long ago), then proposals past their reminder with
    their dates; declined and expired proposals in the recent changes, with a way forward."""
    now = datetime.now(UTC)
    with app.app_context():
        referent = make_referent()
        late_request = make_mentee(referent, first_name="Tardive")
        request_service.open_request(
            late_request,
            actor=late_request,
            topics=["cv"],
            meeting_modes=["video"],
            message="Bonjour",
        )
        db.session.flush()
        db.session.execute(
            update(TutoringRequest)
            .where(TutoringRequest.mentee_id == late_request.id)
            .values(updated_at=now - timedelta(days=30))
        )
        _, mentee, tutor, accepted = _proposal(referent)
        mentee.first_name = "Acceptée"
        pair_service.answer(accepted, side="tutor", accept=True, actor=tutor)
        pair_service.answer(accepted, side="mentee", accept=True, actor=mentee)
        db.session.flush()
        db.session.execute(
            update(Pair).where(Pair.id == accepted.id).values(updated_at=now - timedelta(days=116))
        )
        _, reminded_mentee, _, reminded = _proposal(referent)
        reminded_mentee.first_name = "Relancée"
        _aged(reminded, 8, reminders_sent=2)
        _, fresh_mentee, _, fresh = _proposal(referent)
        fresh_mentee.first_name = "Récente"
        _aged(fresh, 1)
        _, declining_mentee, declining_tutor, declined = _proposal(referent)
        declining_mentee.first_name = "Refusée"
        pair_service.answer(
            declined, side="tutor", accept=False, reason="too_far", actor=declining_tutor
        )
        _, expiring_mentee, _, expiring = _proposal(referent)
        expiring_mentee.first_name = "Expirée"
        _aged(expiring, 11)
        db.session.commit()
        assert followup.run_reminders()["expirées"] == 1
        email, declined_id, fresh_at = referent.email, declined.id, fresh.proposed_at
    b = Browser(app.test_client())
    b.login(email, PASSWORD)
    page = b.get("/referent/").get_data(as_text=True)
    to_do = page[page.index('id="a-faire-title"') : page.index('id="demandes-title"')]
    assert to_do.index("Acceptée") < to_do.index("Relancée") < to_do.index("Tardive")
    assert "attend votre confirmation depuis 116 jours" in to_do
    reminded_at = datetime.now(UTC) - timedelta(days=8)
    first, second = (date_short(reminded_at + timedelta(days=d)) for d in (3, 7))
    assert f"relancée le {first} et {second}" in to_do
    assert f"expire le {date_short(reminded_at + timedelta(days=10))}" in to_do
    assert "Récente" not in to_do and "Refusée" not in to_do
    pending = page[page.index('id="propositions-title"') : page.index('id="binomes-title"')]
    assert "Récente" in pending
    assert f"relance le {date_fr(fresh_at + timedelta(days=3))}" in pending
    assert f"expire le {date_fr(fresh_at + timedelta(days=10))}" in pending
    recent = page[page.index('id="recents-title"') :]
    assert "Changements récents : propositions refusées ou expirées (2)" in recent
    assert "Refusée" in recent and "par le tuteur : trop loin" in recent
    assert "Expirée" in recent and "Expiré sans réponse" in recent
    assert recent.count("Proposer un autre tuteur") == 2
    pair_page = b.get(f"/referent/binomes/{declined_id}").get_data(as_text=True)
    assert "Proposer un autre tuteur" in pair_page and "Prochaine étape" in pair_page


def test_waiting_list_leaves_to_do_and_has_its_own_page(app):
    with app.app_context():
        referent = make_referent()
        mentee = make_mentee(referent, first_name="Patiente")
        tutoring_request = request_service.open_request(
            mentee, actor=mentee, topics=["cv"], meeting_modes=["video"], message="Bonjour"
        )
        db.session.flush()
        db.session.execute(
            update(TutoringRequest)
            .where(TutoringRequest.id == tutoring_request.id)
            .values(updated_at=datetime.now(UTC) - timedelta(days=30))
        )
        db.session.expire_all()
        tutoring_request = db.session.get(TutoringRequest, tutoring_request.id)
        request_service.put_on_waiting_list(
            tutoring_request, actor=referent, reason="Aucun tuteur possible pour l'instant"
        )
        db.session.commit()
        email = referent.email
    b = Browser(app.test_client())
    b.login(email, PASSWORD)
    page = b.get("/referent/").get_data(as_text=True)
    assert "À faire (0)" in page and "Voir la liste d" in page
    assert 'id="attente-title"' not in page  # named, not listed, in the overview
    waiting = b.get("/referent/?statut=attente").get_data(as_text=True)
    assert "attente (1)</h2>" in waiting and "Patiente" in waiting
