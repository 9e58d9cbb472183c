"""Issue 15, items 6 and 7, and the référent's alerts: what people type is kept or confirmed, never
silently replaced (« Vouliez-vous dire … ? »); the job title picked is shown back; the no-car
distance rule is said; the mentee is « vous »; a change of capacity says what it does; a report
about an ended binôme still reaches the référent, under its own email preference."""

from __future__ import annotations

from datetime import UTC, datetime

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
    MenteeProfile,
    OutboxEmail,
    Pair,
    PairReport,
    PairStatus,
    TutorProfile,
    User,
)
from tutorat.models.reports import ReportKind
from tutorat.services import followup
from tutorat.services import pairs as pair_service

PROFILE = {
    "commune": "Auch",
    "metier_1": "boulanger",
    "slots": ["5"],
    "has_car": "no",
    "max_km": "30",
}
TUTOR_PROFILE = {**PROFILE, "metier": "boulanger", "capacity": "1", "has_car": "yes"}
del TUTOR_PROFILE["metier_1"]


def _browser(app, email: str) -> Browser:
    b = Browser(app.test_client())
    assert b.login(email, PASSWORD).status_code == 302
    return b


def _emails(kind: str) -> list[OutboxEmail]:
    return list(
        db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.kind == kind).order_by(OutboxEmail.id)
        )
    )


def _mentee(app, **kw):
    with app.app_context():
        referent = make_referent()
        mentee = make_mentee(referent, **kw)
        db.session.commit()
        return referent.email, mentee.email, mentee.id


# ---- « Vouliez-vous dire … ? » ----


def test_a_metier_typed_not_picked_is_confirmed_never_replaced(app):
    _, email, mentee_id = _mentee(app, complete=False)
    m = _browser(app, email)
    page = "/beneficiaire/profil"
    r = m.post(page, {**PROFILE, "metier_1": "boulanjer"}, page=page)
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "Vouliez-vous dire" in html and "n&#39;est pas dans la liste" in html
    # The closest titles as radio buttons (no JavaScript needed), and « none of these », checked.
    assert 'name="metier_1_choix"' in html and 'value="Boulanger / Boulangère — D1102"' in html
    assert 'id="metier_1_choix-none" value="" checked' in html
    with app.app_context():
        assert db.session.get(MenteeProfile, mentee_id).target_metiers == ""  # nothing saved
    # « None of these »: the text stays as typed, and is asked about again.
    again = m.post(page, {**PROFILE, "metier_1": "boulanjer", "metier_1_choix": ""})
    assert again.status_code == 422 and "Vouliez-vous dire" in again.get_data(as_text=True)
    # A choice forged with a title that is not this code's is not kept as a title.
    forged = m.post(page, {**PROFILE, "metier_1_choix": "Astronaute — D1102"})
    assert forged.status_code == 422
    # The choice picked is what is saved: the code and the title she picked.
    r = m.post(
        page,
        {**PROFILE, "metier_1": "boulanjer", "metier_1_choix": "Boulanger / Boulangère — D1102"},
    )
    assert r.status_code == 302
    with app.app_context():
        profile = db.session.get(MenteeProfile, mentee_id)
        assert profile.metier_codes == ["D1102"]
        assert profile.metier_titles == {"D1102": "Boulanger / Boulangère"}


def test_a_typed_prefix_is_asked_about_not_guessed(app):
    """« developpeur » was saved as the first guess: now the form asks which one."""
    _, email, mentee_id = _mentee(app, complete=False)
    m = _browser(app, email)
    r = m.post(
        "/beneficiaire/profil", {**PROFILE, "metier_1": "developpeur"}, page="/beneficiaire/profil"
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "Vouliez-vous dire" in html
    assert html.count('name="metier_1_choix"') >= 3  # a few titles, plus « none of these »
    with app.app_context():
        assert db.session.get(MenteeProfile, mentee_id).target_metiers == ""


def test_a_commune_typed_not_picked_is_confirmed(app):
    _, email, mentee_id = _mentee(app, complete=False)
    m = _browser(app, email)
    page = "/beneficiaire/profil"
    r = m.post(page, {**PROFILE, "commune": "fleurence"}, page=page)
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and 'name="commune_choix"' in html
    assert "Fleurance (32500)</label>" in html
    with app.app_context():
        assert db.session.get(MenteeProfile, mentee_id).commune_code is None
    code = html.split('name="commune_choix" id="commune_choix-0" value="')[1].split('"')[0]
    r = m.post(page, {**PROFILE, "commune": "fleurence", "commune_choix": code})
    assert r.status_code == 302
    with app.app_context():
        assert db.session.get(MenteeProfile, mentee_id).commune.nom == "Fleurance"


def test_the_job_title_picked_is_shown_back_to_her_the_referent_and_the_tutor(app):
    title = "Aide-soignant / Aide-soignante en gériatrie"
    with app.app_context():
        referent = make_referent()
        mentee = make_mentee(referent)
        tutor = make_tutor()
        db.session.commit()
        ids = (referent.id, mentee.id, tutor.id)
        emails = (mentee.email, referent.email, tutor.email)
    m = _browser(app, emails[0])
    page = "/beneficiaire/profil"
    r = m.post(page, {**PROFILE, "metier_1": f"{title} — J1501", "shares": ["metier"]}, page=page)
    assert r.status_code == 302
    home = m.get("/beneficiaire/").get_data(as_text=True)
    assert title in home and "métier du ROME" in home  # the ROME label only in small print
    assert f'value="{title} — J1501"' in m.get(page).get_data(as_text=True)
    with app.app_context():
        referent, mentee, tutor = (db.session.get(User, i) for i in ids)
        pair_id = make_proposal(referent, mentee, tutor).id
        db.session.commit()
    ref = _browser(app, emails[1])
    assert title in ref.get(f"/referent/beneficiaires/{ids[1]}").get_data(as_text=True)
    tutor_page = _browser(app, emails[2]).get(f"/tuteur/binome/{pair_id}").get_data(as_text=True)
    assert title in tutor_page


def test_tutor_metier_confirmed_and_kept(app):
    with app.app_context():
        tutor = make_tutor()
        db.session.commit()
        email, tutor_id = tutor.email, tutor.id
    t = _browser(app, email)
    r = t.post("/tuteur/profil", {**TUTOR_PROFILE, "metier": "boulanjer"}, page="/tuteur/profil")
    assert r.status_code == 422 and 'name="metier_choix"' in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(TutorProfile, tutor_id).metier_code == "J1501"  # unchanged
    r = t.post(
        "/tuteur/profil",
        {**TUTOR_PROFILE, "metier": "boulanjer", "metier_choix": "Boulanger / Boulangère — D1102"},
    )
    assert r.status_code == 302
    with app.app_context():
        profile = db.session.get(TutorProfile, tutor_id)
        assert (profile.metier_code, profile.metier_title) == ("D1102", "Boulanger / Boulangère")


# ---- The no-car rule, « vous » ----


def test_the_no_car_distance_rule_is_said_where_the_distance_is_typed(app):
    referent_email, email, mentee_id = _mentee(app, has_car=False, max_km=30)
    m = _browser(app, email)
    html = m.get("/beneficiaire/profil").get_data(as_text=True)
    assert "Sans voiture, le service cherche un tuteur à 15 km au plus" in html
    # What she said is kept (30 km) and the rule that applies is said beside it, never hidden.
    home = m.get("/beneficiaire/").get_data(as_text=True)
    assert "jusqu'à 30 km" in home and "le service cherche à 15 km au plus" in home
    ref = _browser(app, referent_email).get(f"/referent/beneficiaires/{mentee_id}")
    assert "le service cherche à 15 km au plus" in ref.get_data(as_text=True)
    with app.app_context():
        tutor = make_tutor()
        db.session.commit()
        tutor_email = tutor.email
    html = _browser(app, tutor_email).get("/tuteur/profil").get_data(as_text=True)
    assert "Sans voiture, le service cherche une personne à 15 km au plus" in html


def test_the_mentee_pages_say_vous(app):
    with app.app_context():
        referent = make_referent()
        mentee = make_mentee(referent)
        tutor = make_tutor()
        pair = make_proposal(referent, mentee, tutor)
        pair_service.answer(pair, side="tutor", accept=True, actor=tutor)
        db.session.commit()
        email, pair_id = mentee.email, pair.id
    m = _browser(app, email)
    for url in ("/beneficiaire/", f"/beneficiaire/binome/{pair_id}", "/beneficiaire/profil"):
        html = m.get(url).get_data(as_text=True)
        assert "bénéficiaire" not in html.split("<main")[1].split("</main>")[0].lower(), url
    assert "en attente de votre réponse" in m.get("/beneficiaire/").get_data(as_text=True)


# ---- Capacity ----


def test_a_change_of_capacity_says_what_it_does(app):
    with app.app_context():
        referent = make_referent()
        tutor = make_tutor(capacity=3)
        make_active_pair(referent, make_mentee(referent), tutor)
        make_proposal(referent, make_mentee(referent), tutor)
        db.session.commit()
        email, tutor_id = tutor.email, tutor.id
    t = _browser(app, email)
    page = t.get("/tuteur/profil").get_data(as_text=True)
    assert "1 binôme en cours et 1 proposition en attente" in page
    data = {**TUTOR_PROFILE, "metier": "Aide-soignant / Aide-soignante — J1501"}
    # Below the places taken: refused, and it says which proposals stay and how to free one.
    r = t.post("/tuteur/profil", {**data, "capacity": "1"}, page="/tuteur/profil")
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "1 binôme en cours et 1 proposition en attente" in html and "restent valables" in html
    with app.app_context():
        assert db.session.get(TutorProfile, tutor_id).capacity == 3
    # Down to the places taken: accepted, and no new proposal will come.
    r = t.post("/tuteur/profil", {**data, "capacity": "2"}, follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "Aucune nouvelle personne ne vous sera proposée" in html
    assert "les propositions en attente (1) restent valables" in html
    r = t.post(
        "/tuteur/profil", {**data, "capacity": "3"}, page="/tuteur/profil", follow_redirects=True
    )
    assert "pourra vous proposer 1 personne de plus" in r.get_data(as_text=True)
    # Outside 1 to 3 (only a forged request sends it): a French 400, nothing written.
    for bad in ("0", "4", "abc", ""):
        r = t.post("/tuteur/profil", {**data, "capacity": bad}, page="/tuteur/profil")
        assert r.status_code == 400, bad
        assert "Choisissez" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(TutorProfile, tutor_id).capacity == 3


# ---- A report about an ended binôme reaches the référent ----


def _ended_pair(app):
    with app.app_context():
        referent = make_referent()
        mentee = make_mentee(referent)
        tutor = make_tutor()
        pair = make_active_pair(referent, mentee, tutor)
        db.session.commit()
        pair_service.end(pair, actor=referent, outcomes=["job"], contract="permanent", detail="")
        db.session.commit()
        return referent.id, referent.email, mentee.email, tutor.email, pair.id


def test_a_report_on_an_ended_pair_raises_the_alert_and_the_email(app):
    referent_id, referent_email, mentee_email, _, pair_id = _ended_pair(app)
    m = _browser(app, mentee_email)
    url = f"/beneficiaire/binome/{pair_id}/signaler"
    assert m.post(url, {"comment": ""}, page=url).status_code == 422  # bad input: nothing sent
    assert m.post(url, {"comment": "Il m'a recontacté depuis"}, page=url).status_code == 302
    with app.app_context():
        counts = followup.caseload_counts(referent_id, datetime.now(UTC))
        assert counts.reported_ended == 1 and counts.alerts >= 1 and counts.to_do >= 1
        [email] = _emails("pair_report_referent")
        assert email.recipient == referent_email and "Il m'a recontacté" not in email.body_text
    ref = _browser(app, referent_email)
    html = ref.get("/referent/").get_data(as_text=True)
    assert "Signalement sur un binôme terminé" in html
    # The référent marks it handled: the alert is off.
    with app.app_context():
        report_id = db.session.scalars(select(PairReport.id)).one()
    r = ref.post(
        f"/referent/binomes/{pair_id}/signalements/{report_id}/traiter",
        {"note": "Appelée"},
        page=f"/referent/binomes/{pair_id}",
    )
    assert r.status_code == 302
    with app.app_context():
        assert followup.caseload_counts(referent_id, datetime.now(UTC)).reported_ended == 0


def test_a_stop_request_on_an_ended_pair_still_reaches_the_referent(app):
    referent_id, referent_email, _, tutor_email, pair_id = _ended_pair(app)
    t = _browser(app, tutor_email)
    url = f"/tuteur/binome/{pair_id}/arret"
    assert t.post(url, {"reason": "nope"}, page=f"/tuteur/binome/{pair_id}").status_code == 422
    r = t.post(url, {"reason": "no_time", "comment": "Plus le temps"})
    assert r.status_code == 302
    with app.app_context():
        pair = db.session.get(Pair, pair_id)
        assert pair.status == PairStatus.ENDED  # nothing to stop: no transition
        report = db.session.scalars(select(PairReport)).one()
        assert report.kind == ReportKind.STOP and report.handled_at is None
        [email] = _emails("pair_report_referent")
        assert email.recipient == referent_email and "déjà terminé" in email.body_text
        assert _emails("pair_stop_other") == []  # the other person is not told
        assert followup.caseload_counts(referent_id, datetime.now(UTC)).reported_ended == 1


def test_the_report_email_has_its_own_preference(app):
    with app.app_context():
        referent = make_referent(notify_proposals=False)
        mentee = make_mentee(referent)
        pair = make_active_pair(referent, mentee, make_tutor())
        db.session.commit()
        mentee_email, pair_id, referent_id = mentee.email, pair.id, referent.id
    m = _browser(app, mentee_email)
    url = f"/beneficiaire/binome/{pair_id}/signaler"
    # The news of proposals turned off: the report still comes.
    assert m.post(url, {"comment": "Un souci"}, page=url).status_code == 302
    with app.app_context():
        assert len(_emails("pair_report_referent")) == 1
        db.session.get(User, referent_id).notify_reports = False
        db.session.commit()
    # Reports turned off: no email (the dashboard's alert remains).
    assert m.post(url, {"comment": "Un autre souci"}, page=url).status_code == 302
    with app.app_context():
        assert len(_emails("pair_report_referent")) == 1
        assert followup.caseload_counts(referent_id, datetime.now(UTC)).reported_pairs == 1
