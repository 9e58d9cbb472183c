"""The data export (RGPD art. 15): history, refusals, outcomes, messages, consultations, consent, omissions."""

from __future__ import annotations

from tests.conftest import Browser
from tests.factories import PASSWORD, make_mentee, make_referent, make_tutor
from tutorat.extensions import db
from tutorat.models import MenteeProfile
from tutorat.services import pairs as pair_service
from tutorat.services import requests as request_service

DECLINE_DETAIL = "Les horaires du soir ne me conviennent pas du tout"
OUTCOME_DETAIL = "Embauchée comme aide-soignante à la maison de retraite"
NOTE = "NOTE-DU-REFERENT-JAMAIS-EXPORTEE"


def _story(app):
    with app.app_context():
        referent = make_referent(first_name="Odile", last_name="Lafforgue")
        mentee = make_mentee(referent, first_name="Julie", last_name="Carrère")
        mentee.consent_by_id = referent.id
        mentee.consent_at = mentee.created_at
        profile = db.session.get(MenteeProfile, mentee.id)
        profile.social_note = NOTE
        profile.share_first_name = False
        first, second = (
            make_tutor(first_name="Paul"),
            make_tutor(first_name="Anne", last_name="Dupérier"),
        )
        tutoring_request = request_service.open_request(
            mentee, actor=mentee, topics=["cv"], meeting_modes=["video"], message="Bonjour"
        )
        db.session.flush()
        declined = pair_service.propose(tutoring_request, first.id, actor=referent)
        pair_service.answer(
            declined,
            side="mentee",
            accept=False,
            actor=mentee,
            reason="unavailable",
            detail=DECLINE_DETAIL,
        )
        pair = pair_service.propose(tutoring_request, second.id, actor=referent)
        pair_service.answer(pair, side="tutor", accept=True, actor=second)
        pair_service.answer(pair, side="mentee", accept=True, actor=mentee)
        pair_service.confirm(pair, actor=referent)
        pair_service.end(
            pair,
            actor=referent,
            outcomes=["job", "rights", "left_rsa"],
            contract="permanent",
            rights=["activity_bonus"],
            detail=OUTCOME_DETAIL,
        )
        db.session.commit()
        return {
            "referent": referent.email,
            "mentee": mentee.email,
            "mentee_id": mentee.id,
            "declined_tutor": first.email,
            "tutor": second.email,
            "declined": declined.id,
            "pair": pair.id,
        }


def _as(app, email):
    b = Browser(app.test_client())
    assert b.login(email, PASSWORD).status_code == 302
    return b


def test_export_holds_history_refusal_outcome_messages_consultations_and_consent(app):
    s = _story(app)
    # The référent opens the mentee's record: the export must say so.
    referent = _as(app, s["referent"])
    assert referent.client.get(f"/referent/beneficiaires/{s['mentee_id']}").status_code == 200
    mentee = _as(app, s["mentee"])
    data = mentee.client.get("/compte/mes-donnees.json").get_json()

    assert (
        data["compte"]["consentement_enregistre_par"] == "Odile Lafforgue (référent ou référente)"
    )
    history = data["demandes"][0]["historique"]
    assert history[0]["par"] == "vous-même" and history[0]["vers"]
    assert any(
        e["par"] == "Odile Lafforgue (référent ou référente)" and e["motif"] for e in history
    )

    by_id = {b["numero"]: b for b in data["binomes"]}
    refusal = by_id[s["declined"]]["refus"]
    assert refusal == {
        "par": "vous-même",  # her own copy says « vous » (issue 15 item 7)
        "raison": "Pas disponible en ce moment",
        "precision": DECLINE_DETAIL,
    }
    ended = by_id[s["pair"]]
    assert ended["resultat"] == (
        "A trouvé un emploi, A ouvert de nouveaux droits, Est sorti du RSA"
    )
    assert ended["resultat_details"] == {
        "contrat": "CDI",
        "droits_ouverts": ["Prime d'activité"],
        "precision": OUTCOME_DETAIL,
    }
    steps = [(e["de"], e["vers"], e["par"]) for e in ended["historique"]]
    assert steps[0][0] is None and steps[-1][1] == "Terminé", steps
    assert (
        "Accepté par le tuteur, en attente du bénéficiaire",
        "Accepté par les deux, à confirmer par le référent",
        "vous-même",
    ) in steps
    assert any(par == "Anne (tuteur)" for _, _, par in steps)  # the tutor, by first name only
    assert all(e["le"] for e in ended["historique"])

    with app.app_context():
        from sqlalchemy import select

        from tutorat.models import OutboxEmail

        subjects = db.session.scalars(
            select(OutboxEmail.subject)
            .where(OutboxEmail.recipient == s["mentee"])
            .order_by(OutboxEmail.created_at, OutboxEmail.id)
        ).all()
    assert subjects and [m["objet"] for m in data["messages_recus"]] == list(subjects)
    assert all(m["statut"] == "en attente d'envoi" and m["cree_le"] for m in data["messages_recus"])

    views = data["consultations_de_votre_dossier"]
    assert any(
        v["par"] == "Odile Lafforgue (référent ou référente)" and v["action"] == "consultation"
        for v in views
    ), views
    # The tutor, as on her pages, by first name only.
    assert "Dupérier" not in str(data)
    assert "note_du_referent" in data["non_inclus_et_pourquoi"]
    assert NOTE not in str(data)

    html = mentee.client.get("/compte/mes-donnees").get_data(as_text=True)
    for text in (
        "Qui a consulté votre dossier",
        "Les courriels qui vous ont été envoyés",
        "Non inclus et pourquoi",
        "Odile Lafforgue (référent ou référente)",
        DECLINE_DETAIL,
        OUTCOME_DETAIL,
        subjects[0],
        "Historique",
        "La note de suivi de votre référent",
    ):
        assert text.replace("'", "&#39;") in html or text in html, text
    assert NOTE not in html


def test_tutor_export_goes_through_disclosure(app):
    s = _story(app)
    tutor = _as(app, s["declined_tutor"])
    data = tutor.client.get("/compte/mes-donnees.json").get_json()
    (pair,) = data["binomes"]
    # The mentee's own words and situation are hers: not in the tutor's copy, nor her name.
    assert "refus" not in pair and "resultat_details" not in pair
    assert DECLINE_DETAIL not in str(data) and "Julie" not in str(data)
    assert "Carrère" not in str(data)
    assert any(e["par"].startswith("la personne accompagnée") for e in pair["historique"]), pair[
        "historique"
    ]
    assert "ce_qui_ne_vous_est_pas_partage" in data["non_inclus_et_pourquoi"]
    html = tutor.client.get("/compte/mes-donnees").get_data(as_text=True)
    assert DECLINE_DETAIL not in html and "Julie" not in html


def test_privacy_page_says_what_the_export_leaves_out_and_why(app):
    html = app.test_client().get("/donnees-personnelles").get_data(as_text=True)
    assert "la note de votre référent" in html.replace("&#39;", "'")
    assert "document de travail du service" in html
    assert "qui a consulté votre dossier" in html
