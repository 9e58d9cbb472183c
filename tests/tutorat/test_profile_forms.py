"""A profile form shows what is saved, and sending it back unchanged saves the same profile
(`fill` and `service_values` of tutorat/forms.py are written for each other)."""

from __future__ import annotations

from datetime import date, timedelta

from werkzeug.datastructures import MultiDict

from tests.factories import MARDI_SOIR, SAMEDI_MATIN, make_mentee, make_referent, make_tutor
from tutorat import vocab
from tutorat.extensions import db
from tutorat.forms import MenteeProfileForm, TutorProfileForm


def _as_sent(form) -> MultiDict:
    """What a browser sends for the form as it is shown."""
    sent: MultiDict = MultiDict()
    for field in form:
        if field.short_name == "csrf_token" or field.data is None:
            continue
        if isinstance(field.data, list):
            for value in field.data:
                sent.add(field.name, str(value))
        elif isinstance(field.data, bool):
            if field.data:
                sent.add(field.name, "y")
        else:
            sent.add(field.name, str(field.data))
    return sent


def _round_trip(app, form_class, profile) -> dict:
    with app.test_request_context("/"):
        shown = form_class(meta={"csrf": False})
        shown.fill(profile)
        sent = _as_sent(shown)
    with app.test_request_context("/", method="POST", data=sent):
        form = form_class(meta={"csrf": False})
        assert form.validate(), form.errors
        return form.service_values()


def test_tutor_profile_sent_back_unchanged_is_the_same(app, ctx):
    tutor = make_tutor(
        availability=MARDI_SOIR | SAMEDI_MATIN, capacity=2, max_km=25, remote_ok=True
    )
    profile = tutor.tutor_profile
    obstacles = list(vocab.OBSTACLES)[1:3]
    profile.obstacles = ",".join(obstacles)
    profile.experience_note = "Un atelier CV m'a beaucoup aidé."
    profile.unavailable_until = date.today() + timedelta(days=10)
    profile.metier_title = "Aide-soignant / Aide-soignante en gériatrie"
    db.session.flush()
    assert _round_trip(app, TutorProfileForm, profile) == {
        "commune_code": profile.commune_code,
        "metier_code": profile.metier_code,
        "metier_title": "Aide-soignant / Aide-soignante en gériatrie",
        "availability": profile.availability,
        "has_car": True,
        "max_km": 25,
        "remote_ok": True,
        "obstacles": obstacles,
        "capacity": 2,
        "experience_note": "Un atelier CV m'a beaucoup aidé.",
        "unavailable_until": profile.unavailable_until,
    }


def test_mentee_profile_sent_back_unchanged_is_the_same(app, ctx):
    mentee = make_mentee(make_referent(), metiers="J1501,K2204", has_car=False, max_km=10)
    profile = mentee.mentee_profile
    profile.share_first_name, profile.share_commune, profile.share_metier = True, False, True
    # The job title she picked comes back as such; a code saved without one, as its ROME label.
    profile.target_titles = "Aide-soignant / Aide-soignante à domicile\n"
    db.session.flush()
    values = _round_trip(app, MenteeProfileForm, profile)
    assert values["metier_codes"] == ["J1501", "K2204"]
    assert values["metier_titles"][0] == "Aide-soignant / Aide-soignante à domicile"
    assert values["shares"] == {
        "first_name": True,
        "commune": False,
        "phone": False,
        "email": False,
        "metier": True,
        "obstacles": False,
    }
    assert (values["commune_code"], values["availability"], values["has_car"]) == (
        profile.commune_code,
        profile.availability,
        False,
    )
    assert values["max_km"] == 10
