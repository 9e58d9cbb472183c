"""The whole tutoring journey through the Flask test client, with real forms and CSRF on."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from tests.conftest import Browser
from tests.factories import PASSWORD, make_admin, make_mentee, make_referent, make_tutor
from tutorat.extensions import db
from tutorat.models import Meeting, MenteeProfile, Pair, StatusEvent, TutoringRequest, User


def _browser(app, email):
    b = Browser(app.test_client())
    r = b.login(email, PASSWORD)
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    return b


def test_whole_journey(app):
    with app.app_context():
        referent = make_referent(first_name="Sophie", last_name="Lamothe")
        mentee = make_mentee(referent, complete=False, first_name="Julie", last_name="Carrère")
        db.session.get(MenteeProfile, mentee.id).social_note = "NOTE-SOCIALE-CONFIDENTIELLE"
        tutor = make_tutor(first_name="Marc", last_name="Soubiran", capacity=2)
        far_tutor = make_tutor(first_name="Loin", commune="32119", has_car=False, max_km=5)  # Eauze
        admin = make_admin()
        db.session.commit()
        ids = {"mentee": mentee.id, "tutor": tutor.id, "far": far_tutor.id}
        emails = {
            "referent": referent.email,
            "mentee": mentee.email,
            "tutor": tutor.email,
            "admin": admin.email,
        }

    # 1. Home page, in French.
    anonymous = app.test_client()
    home = anonymous.get("/")
    assert home.status_code == 200
    assert "Tutorat" in home.get_data(as_text=True) and 'lang="fr"' in home.get_data(as_text=True)

    # 2. The mentee completes their profile, then requests a tutor.
    m = _browser(app, emails["mentee"])
    r = m.post(
        "/beneficiaire/profil",
        {
            "commune": "32000",
            "metier_1": "aide-soignant",
            "metier_2": "",
            "slots": ["5", "15"],
            "has_car": "no",
            "max_km": "10",
            "obstacles": ["mobility"],
            "shares": ["first_name", "commune", "metier"],
        },
        page="/beneficiaire/profil",
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    with app.app_context():
        profile = db.session.get(MenteeProfile, ids["mentee"])
        assert (profile.commune_code, profile.target_metiers, profile.availability) == (
            "32013",
            "J1501",
            1 << 5 | 1 << 15,
        )
    r = m.post(
        "/beneficiaire/demande",
        {
            "topics": ["cv", "job_interview"],
            "meeting_modes": ["in_person"],
            "message": "Je voudrais devenir aide-soignante.",
        },
        page="/beneficiaire/demande",
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    with app.app_context():
        tutoring_request = db.session.scalars(
            select(TutoringRequest).where(TutoringRequest.mentee_id == ids["mentee"])
        ).one()
        assert tutoring_request.status == "open"
        request_id = tutoring_request.id

    # 3. The référent sees it in their queue, with ranked tutors and reasons; proposes one.
    ref = _browser(app, emails["referent"])
    dash = ref.get("/referent/").get_data(as_text=True)
    assert "Julie" in dash and f"/referent/demandes/{request_id}" in dash
    page = ref.get(f"/referent/demandes/{request_id}").get_data(as_text=True)
    assert "Marc Soubiran" in page
    assert "km" in page and "mardi soir" in page
    ranked, _counts = page.split('id="ecartes"')
    assert "Loin" not in ranked  # infeasible: too far without a car, no remote
    left_out = ref.get(f"/referent/demandes/{request_id}/ecartes").get_data(as_text=True)
    assert "Trop loin" in left_out and "Loin Nom" in left_out and "au-delà des 5 km" in left_out
    r = ref.post(f"/referent/demandes/{request_id}/proposer", {"tutor_id": str(ids["tutor"])})
    assert r.status_code == 302, r.get_data(as_text=True)
    with app.app_context():
        pair = db.session.scalars(select(Pair).where(Pair.request_id == request_id)).one()
        assert pair.status == "proposed" and 0 <= pair.score <= 1 and pair.explanation["reasons"]
        assert pair.weights
        pair_id = pair.id

    # 4. The tutor sees only what the mentee shared, and accepts.
    t = _browser(app, emails["tutor"])
    page = t.get(f"/tuteur/binome/{pair_id}").get_data(as_text=True)
    assert "Julie" in page and "Auch" in page
    assert (
        "Carrère" not in page
        and "NOTE-SOCIALE-CONFIDENTIELLE" not in page
        and emails["mentee"] not in page
    )
    r = t.post(f"/tuteur/binome/{pair_id}/reponse", {"answer-decision": "accept"}, prefix="answer")
    assert r.status_code == 302, r.get_data(as_text=True)

    # 5. The mentee accepts; the référent confirms.
    r = m.post(
        f"/beneficiaire/binome/{pair_id}",
        {"answer-decision": "accept"},
        prefix="answer",
        page=f"/beneficiaire/binome/{pair_id}",
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    r = ref.post(f"/referent/binomes/{pair_id}/confirmer", {}, page=f"/referent/binomes/{pair_id}")
    assert r.status_code == 302, r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Pair, pair_id).status == "active"
        assert db.session.get(TutoringRequest, request_id).status == "matched"

    # 6. The tutor logs a meeting; the référent sees it with the whole history.
    day = (date.today() - timedelta(days=0)).isoformat()
    r = t.post(
        f"/tuteur/binome/{pair_id}/rencontre",
        {
            "date": day,
            "duration": "60",
            "mode": "in_person",
            "place": "Médiathèque d'Auch",
            "topics": ["cv"],
            "note": "Premier CV relu ensemble.",
        },
        page=f"/tuteur/binome/{pair_id}/rencontre",
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    page = ref.get(f"/referent/binomes/{pair_id}").get_data(as_text=True)
    assert "Premier CV relu ensemble." in page and "Médiathèque d&#39;Auch" in page
    with app.app_context():
        events = db.session.scalars(
            select(StatusEvent)
            .where(StatusEvent.entity == "pair", StatusEvent.entity_id == pair_id)
            .order_by(StatusEvent.id)
        ).all()
        assert [(e.from_status, e.to_status) for e in events] == [
            (None, "proposed"),
            ("proposed", "tutor_accepted"),
            ("tutor_accepted", "accepted"),
            ("accepted", "active"),
        ]
        assert (
            db.session.scalar(select(Meeting.duration_minutes).where(Meeting.pair_id == pair_id))
            == 60
        )
    assert "Sophie Lamothe" in page  # who changed the status

    # 7. The référent creates an account without email and acts for the person.
    r = ref.post(
        "/referent/beneficiaires/nouveau",
        {
            "first_name": "Paul",
            "last_name": "Sanscourriel",
            "email": "",
            "phone": "",
            "consent": "y",
        },
        page="/referent/beneficiaires/nouveau",
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    with app.app_context():
        paul = db.session.scalars(select(User).where(User.last_name == "Sanscourriel")).one()
        assert paul.email is None and paul.mentee_profile.referent_id is not None
        paul_id = paul.id
    r = ref.post(
        f"/referent/beneficiaires/{paul_id}/profil",
        {
            "commune": "Condom",
            "metier_1": "boulanger",
            "slots": ["5"],
            "has_car": "yes",
            "max_km": "20",
            "remote_ok": "y",
        },
        page=f"/referent/beneficiaires/{paul_id}/profil",
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    r = ref.post(
        f"/referent/beneficiaires/{paul_id}/demande",
        {
            "topics": ["job_search"],
            "meeting_modes": ["phone"],
            "message": "Demande faite avec lui au téléphone.",
        },
        page=f"/referent/beneficiaires/{paul_id}/demande",
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    with app.app_context():
        paul_request = db.session.scalars(
            select(TutoringRequest).where(TutoringRequest.mentee_id == paul_id)
        ).one()
        assert paul_request.created_by.email == emails["referent"]
        assert db.session.get(MenteeProfile, paul_id).target_metiers == "D1102"
        event = db.session.scalars(
            select(StatusEvent).where(
                StatusEvent.entity == "request", StatusEvent.entity_id == paul_request.id
            )
        ).one()
        assert event.on_behalf_of_id == paul_id

    # 8. The admin creates a référent and a tutor account.
    a = _browser(app, emails["admin"])
    for role, email in (
        ("referent", "nouvelle.referente@test.example.org"),
        ("tutor", "nouveau.tuteur@test.example.org"),
    ):
        r = a.post(
            "/admin/comptes/nouveau",
            {
                "role": role,
                "first_name": "Nouveau",
                "last_name": role,
                "email": email,
                "organisation": "MDS",
            },
            page="/admin/comptes/nouveau",
        )
        assert r.status_code == 302, r.get_data(as_text=True)
        with app.app_context():
            assert db.session.scalars(select(User).where(User.email == email)).one().role == role
