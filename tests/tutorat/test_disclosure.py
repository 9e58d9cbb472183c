"""What a tutor may see of a binôme: nothing the mentee did not share, by any route, export or email.

Two tutors with the very same profile each get a binôme. Mentee M shares nothing and has distinctive
values (commune, postal code, INSEE code, métier, obstacles); mentee M2 lives in the tutor's own commune
and has none of M's values. Every page a tutor can reach (listed from `app.url_map`), both data exports and
every email are fetched for both tutors at each stage of the binôme: anything about M that shows up more
often for M's tutor than for M2's tutor has leaked. The total score (and the hidden parts' numbers, from
which the hidden data would follow) must not appear at all.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from tests.conftest import Browser
from tests.factories import PASSWORD, make_mentee, make_referent, make_tutor
from tests.tutorat.test_letters_sms import pdf_text
from tutorat.extensions import db
from tutorat.models import MenteeProfile, OutboxEmail, Pair
from tutorat.services import followup, notifications
from tutorat.services import pairs as pair_service
from tutorat.services import requests as request_service

PLACE_TO_AGREE = "Lieu à convenir avec le référent"

# Mentee M's commune and the tutors' (6.4 km apart; M's is the larger, so the "meeting place between
# the two" computed for the pair is M's own commune).
M_COMMUNE, M_NAME, M_POSTAL = "32005", "Arblade-le-Haut", "32110"
TUTOR_COMMUNE = "32414"  # Sarragachies
M_METIER = "J1502"  # same professional domain (J15) as the tutors' J1501
M_OBSTACLES = ("housing", "digital_access")  # the tutors overcame "housing"
SHARES = ("first_name", "commune", "phone", "email", "metier", "obstacles")

# Route arguments a tutor's URL may take, and those the walk cannot fill (with why).
UNFILLABLE = {
    "token": "a one-time link sent by email (reset, invitation), not a page about a binôme",
    "filename": "static files",
    "table": "public indicator exports, aggregated over the whole département",
    "letter_id": "a letter, printed by its référent only (test_letters_sms checks the scope)",
    "application_id": "a tutor application, for the admin only (test_vetting checks the access)",
    "import_id": "a staff CSV import (a tutor is refused the whole blueprint)",
    "meeting_id": "a meeting the tutor logged (its correction page shows only what they typed; "
    "test_meetings checks another tutor's is a 404)",
}


def _world(app):
    with app.app_context():
        referent = make_referent()
        worlds = []
        for shared_nothing in (True, False):
            tutor = make_tutor(commune=TUTOR_COMMUNE, metier="J1501", max_km=20)
            tutor.tutor_profile.obstacles = "housing"
            if shared_nothing:
                mentee = make_mentee(
                    referent, commune=M_COMMUNE, metiers=M_METIER, max_km=20, first_name="Eulalie"
                )
                profile = db.session.get(MenteeProfile, mentee.id)
                profile.obstacles = ",".join(M_OBSTACLES)
            else:
                mentee = make_mentee(
                    referent,
                    commune=TUTOR_COMMUNE,
                    metiers="A1101",
                    max_km=20,
                    first_name="Eulalie",
                )
                profile = db.session.get(MenteeProfile, mentee.id)
            for name in SHARES:
                setattr(profile, f"share_{name}", False)
            tutoring_request = request_service.open_request(
                mentee, actor=mentee, topics=["cv"], meeting_modes=["video"], message="Bonjour"
            )
            db.session.flush()
            pair = pair_service.propose(tutoring_request, tutor.id, actor=referent)
            worlds.append(
                {
                    "tutor": tutor.email,
                    "tutor_id": tutor.id,
                    "mentee_id": mentee.id,
                    "pair_id": pair.id,
                    "request_id": tutoring_request.id,
                }
            )
        db.session.commit()
        pair = db.session.get(Pair, worlds[0]["pair_id"])
        # The premise of (c): what the algorithm suggests as a meeting place is M's own commune.
        assert pair.meeting_place == M_NAME
        ex = pair.explanation
        hidden = ("distance", "sector", "experience")
        numbers = [pair.score] + [
            ex["parts"][name][key] for name in hidden for key in ("value", "contribution")
        ]
        worlds[0]["secret_numbers"] = [n for n in numbers if n]
        worlds[0]["referent"] = referent.email
        return worlds


def _advance(app, worlds, stage):
    with app.app_context():
        for w in worlds:
            pair = db.session.get(Pair, w["pair_id"])
            if stage == "reminded":
                followup.run_reminders(now=datetime.now(UTC) + timedelta(days=4))
            elif stage == "active":
                pair_service.answer(pair, side="tutor", accept=True, actor=pair.tutor)
                pair_service.answer(pair, side="mentee", accept=True, actor=pair.mentee)
                pair_service.confirm(pair, actor=pair.proposed_by)
            elif stage == "ended":
                pair_service.end(
                    pair,
                    actor=pair.proposed_by,
                    outcomes=["job"],
                    contract="permanent",
                    detail="Embauchée",
                )
            db.session.commit()


def _tutor_urls(app, w) -> list[str]:
    """Every GET page of the app, with this binôme's ids (a tutor is refused where not allowed)."""
    fill = {
        "pair_id": w["pair_id"],
        "request_id": w["request_id"],
        "user_id": w["mentee_id"],
        "what": "signaler",
    }
    urls = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint == "static":
                continue
            unknown = set(rule.arguments) - set(fill)
            assert unknown <= set(UNFILLABLE), f"{rule.rule}: teach the walk {unknown}"
            if unknown:
                continue
            urls.append(url_for(rule.endpoint, **{a: fill[a] for a in rule.arguments}))
    assert any("/mes-donnees.json" in u for u in urls) and any("/explication" in u for u in urls)
    return sorted(set(urls))


def _pages(app, w) -> dict[str, str]:
    browser = Browser(app.test_client())
    assert browser.login(w["tutor"], PASSWORD).status_code == 302
    pages = {}
    for url in _tutor_urls(app, w):
        response = browser.client.get(url)
        assert response.status_code < 500, url
        if response.status_code == 200:
            key = url.replace(str(w["pair_id"]), "<pair>")
            if response.mimetype == "application/pdf":  # the printable explanation, read back
                pages[key] = pdf_text(response.get_data())
            else:
                pages[key] = response.get_data(as_text=True)
    return pages


def _emails(app, w) -> dict[str, str]:
    with app.app_context():
        email = w["tutor"]
        rows = db.session.scalars(
            db.select(OutboxEmail).where(OutboxEmail.recipient == email).order_by(OutboxEmail.id)
        ).all()
        return {
            f"email {i} {r.kind}": f"{r.subject}\n{r.body_text}\n{r.body_html}"
            for i, r in enumerate(rows)
        }


def _secret_words() -> list[str]:
    from tutorat import vocab

    words = [M_NAME, "Arblade", M_COMMUNE, M_POSTAL, M_METIER, "Coordination de services médicaux"]
    for code in M_OBSTACLES:
        words += [code, vocab.OBSTACLES[code]]
    return words


def _count(text: str, word: str) -> int:
    text = text.lower().replace("&#39;", "'")
    return len(re.findall(rf"(?<![\w-]){re.escape(word.lower())}(?![\w-])", text))


def _count_number(text: str, form: str) -> int:
    return len(re.findall(rf"(?<![\w.,]){re.escape(form)}(?![\d])", text))


def _number_forms(value: float) -> list[str]:
    two = f"{value:.2f}"
    return [repr(value), two, two.replace(".", ",")]


def _json_numbers(value) -> list[float]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [float(value)]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _json_numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _json_numbers(v)]
    return []


def _check(app, worlds, stage):
    leaky, control = worlds
    seen = {**_pages(app, leaky), **_emails(app, leaky)}
    baseline = {**_pages(app, control), **_emails(app, control)}
    assert seen.keys() == baseline.keys(), stage
    for where, text in seen.items():
        assert _count(text, "Eulalie") == 0, (stage, where)  # her first name is not shared either
        for word in _secret_words():
            assert _count(text, word) <= _count(baseline[where], word), (stage, where, word)
        for number in leaky["secret_numbers"]:
            for form in _number_forms(number):
                # (Counted against the control: the public pages quote example figures.)
                found = _count_number(text, form)
                assert found <= _count_number(baseline[where], form), (stage, where, form, text)
        if where.endswith(".json"):
            for n in _json_numbers(json.loads(text)):
                assert all(abs(n - s) > 1e-9 for s in leaky["secret_numbers"]), (stage, where, n)
    return seen


def test_a_tutor_sees_nothing_the_mentee_did_not_share_by_any_route_or_email(app, smtp):
    worlds = _world(app)
    stages = {}
    for stage in ("proposed", "reminded", "active", "ended"):
        if stage != "proposed":
            _advance(app, worlds, stage)
        stages[stage] = _check(app, worlds, stage)
    with app.app_context():
        notifications.send_pending()
    received = smtp.inbox.to(worlds[0]["tutor"])
    kinds = {m["Subject"] for m in received}
    assert len(received) >= 4, kinds  # proposal, reminder, confirmation, end
    for message in received:
        text = smtp.inbox.text(message)
        for word in _secret_words():
            assert _count(text, word) == 0, (message["Subject"], word)
    # The walk did reach the pages that used to leak, and they say what replaces the hidden value.
    active = stages["active"]
    assert PLACE_TO_AGREE in active["/tuteur/binome/<pair>"]
    assert "non communiquée" in active["/tuteur/binome/<pair>/explication"]
    assert "Score obtenu" not in active["/tuteur/binome/<pair>/explication"]
    export = json.loads(active["/compte/mes-donnees.json"])
    assert export["binomes"][0]["score"] == "non communiqué"
    assert export["binomes"][0]["lieu_de_rencontre_suggere"] == PLACE_TO_AGREE


def test_the_mentee_and_the_referent_still_see_everything(app):
    worlds = _world(app)
    _advance(app, worlds, "active")
    leaky = worlds[0]
    with app.app_context():
        mentee_email = db.session.get(Pair, leaky["pair_id"]).mentee.email
    for email, path, expected in (
        (mentee_email, f"/beneficiaire/binome/{leaky['pair_id']}", M_NAME),
        (mentee_email, f"/beneficiaire/binome/{leaky['pair_id']}/explication", "Score obtenu"),
        (leaky["referent"], f"/referent/binomes/{leaky['pair_id']}/explication", "Score obtenu"),
        (leaky["referent"], f"/referent/binomes/{leaky['pair_id']}", M_NAME),
    ):
        browser = Browser(app.test_client())
        assert browser.login(email, PASSWORD).status_code == 302
        html = browser.client.get(path).get_data(as_text=True)
        assert expected in html, path


def test_pair_view_denies_by_default(app):
    worlds = _world(app)
    with app.app_context():
        from tutorat.services.disclosure import pair_view

        pair = db.session.get(Pair, worlds[0]["pair_id"])
        other_tutor = db.session.get(Pair, worlds[1]["pair_id"]).tutor
        # Stored before the sentences were tagged, with a sentence no rule knows.
        ex = dict(pair.explanation)
        ex.pop("reason_parts")
        ex["reasons"] = [*ex["reasons"], "Une phrase ajoutée à la main : Arblade-le-Haut."]
        pair.explanation = ex
        tutor_view = pair_view(pair, pair.tutor)
        assert tutor_view.reasons and all("Créneaux" in r for r in tutor_view.reasons)
        assert tutor_view.score is None and not tutor_view.show_total
        assert set(tutor_view.hidden_parts) == {"distance", "sector", "experience"}
        stranger = pair_view(pair, other_tutor)
        assert stranger.audience == "none" and stranger.mentee_fields == {}
        assert stranger.reasons == () and stranger.score is None
        assert stranger.meeting_place == PLACE_TO_AGREE
        assert pair_view(pair, None).audience == "none"
        # Once the mentee shares everything, her tutor sees it all, total included.
        for name in SHARES:
            setattr(pair.mentee.mentee_profile, f"share_{name}", True)
        full = pair_view(pair, pair.tutor)
        assert full.show_total and full.score == pair.score and not full.hidden_parts
        assert full.meeting_place == M_NAME and "Une phrase ajoutée" in full.reasons[-1]
        db.session.rollback()
