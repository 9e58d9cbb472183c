"""« Comment se passe le tutorat ? » for a person reached by post or SMS: the question goes out on
paper (how to answer: call the référent) and by SMS where she accepts them; the référent records
the answer she gave by phone on the binôme page, on her behalf."""

from __future__ import annotations

import html
from datetime import UTC, datetime

from sqlalchemy import select

from tests.conftest import Browser
from tests.factories import PASSWORD, make_active_pair, make_mentee, make_referent, make_tutor
from tests.tutorat.test_letters_sms import pdf_text
from tutorat.extensions import db
from tutorat.models import CheckIn, Letter, Meeting, OutboxEmail, OutboxSms
from tutorat.services import checkins, letters, sms


def _paper_pair(**mentee_kw):
    referent = make_referent(first_name="Sophie", last_name="Lamothe", phone="05 62 11 22 33")
    mentee = make_mentee(
        referent,
        email=None,
        first_name="Paulette",
        last_name="Dubarry",
        street_address="4 chemin du Moulin",
        postal_code="32000",
        **mentee_kw,
    )
    tutor = make_tutor(first_name="Marc", last_name="Soubiran", capacity=2)
    pair = make_active_pair(referent, mentee, tutor)
    db.session.add(
        Meeting(
            pair_id=pair.id,
            logged_by_id=tutor.id,
            date=datetime.now(UTC).date(),
            duration_minutes=45,
            mode="phone",
        )
    )
    db.session.flush()
    return referent, mentee, tutor, pair


def _browser(app, email: str) -> Browser:
    b = Browser(app.test_client())
    assert b.login(email, PASSWORD).status_code == 302
    return b


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_check_in_by_letter_and_sms_says_how_to_answer(ctx):
    referent, mentee, tutor, _ = _paper_pair(phone="06 12 34 56 78", contact_sms=True)
    assert checkins.ask_due() == 2
    # No email to her; the tutor (who has one) by email.
    assert {e.recipient for e in db.session.scalars(select(OutboxEmail))} >= {tutor.email}
    assert not db.session.scalars(select(OutboxEmail).where(OutboxEmail.recipient.is_(None))).all()
    [letter] = db.session.scalars(select(Letter).where(Letter.kind == "checkin")).all()
    assert letter.recipient_id == mentee.id and letter.referent_id == referent.id
    text = pdf_text(letters.render_pdf([letter]))
    flat = " ".join(text.split())
    assert "Comment se passe le tutorat ?" in flat
    assert "appelez votre référent" in flat and "« Bien », « Moyen » ou « Pas bien »" in flat
    assert "05 62 11 22 33" in flat and "Sophie Lamothe" in flat  # whom to call
    assert "Paulette Dubarry" in flat and letter.reference in flat
    assert "Soubiran" not in flat and "/beneficiaire/" not in flat  # no link she cannot use
    # The SMS: the same question, how to answer, within two segments, no link.
    [message] = db.session.scalars(select(OutboxSms).where(OutboxSms.kind == "checkin")).all()
    assert message.recipient == "+33612345678"
    assert "appelez votre referent Sophie Lamothe au 05 62 11 22 33" in message.body_text
    assert "http" not in message.body_text and sms.segments(message.body_text) <= 2


def test_referent_records_the_answer_given_by_phone(app):
    with app.app_context():
        referent, mentee, tutor, pair = _paper_pair()
        other = make_referent()
        checkins.ask_due()
        db.session.commit()
        hers = checkins.open_check_in(pair, mentee).id
        his = checkins.open_check_in(pair, tutor).id
        ids = (referent.email, other.email, tutor.email, pair.id)
    r = _browser(app, ids[0])
    url = f"/referent/binomes/{ids[3]}"
    page = text_of(r.get(url))
    assert "Noter la réponse donnée par téléphone" in page
    assert f'name="point{hers}-answer"' in page and f'name="point{his}-answer"' in page
    # Bad input: no answer, an unknown one, a comment too long → a French 4xx, nothing written.
    for data, message in (
        ({}, "Choisissez Bien, Moyen ou Pas bien."),
        ({f"point{hers}-answer": "super"}, "Choisissez une des options proposées."),
    ):
        bad = r.post(f"{url}/points/{hers}", data, prefix=f"point{hers}", page=url)
        assert bad.status_code == 422 and message in text_of(bad), bad.status_code
    long = {f"point{hers}-answer": "good", f"point{hers}-comment": "x" * 1001}
    bad = r.post(f"{url}/points/{hers}", long, prefix=f"point{hers}", page=url)
    assert bad.status_code == 422 and "1000 caractères au maximum." in text_of(bad)
    with app.app_context():
        assert db.session.get(CheckIn, hers).answer is None
    # Another référent, or the tutor, cannot record it.
    o = _browser(app, ids[1])
    o.get("/referent/")
    refused = o.post(f"{url}/points/{hers}", {f"point{hers}-answer": "good"}, prefix=f"point{hers}")
    assert refused.status_code == 404
    t = _browser(app, ids[2])
    t.get("/tuteur/")
    refused = t.post(f"{url}/points/{hers}", {f"point{hers}-answer": "good"}, prefix=f"point{hers}")
    assert refused.status_code in (403, 404)
    # The référent records « Moyen » with her words.
    data = {f"point{hers}-answer": "average", f"point{hers}-comment": "Elle aimerait le voir plus."}
    done = r.post(f"{url}/points/{hers}", data, prefix=f"point{hers}", page=url)
    assert done.status_code == 302
    page = text_of(r.get(url))
    assert "La réponse de Paulette Dubarry est enregistrée" in page
    assert "par téléphone, noté par vous" in page and "Elle aimerait le voir plus." in page
    assert f'name="point{hers}-answer"' not in page  # answered: no form any more
    again = r.post(f"{url}/points/{hers}", data, prefix=f"point{his}", page=url)
    assert again.status_code == 409
    with app.app_context():
        answered = db.session.get(CheckIn, hers)
        assert answered.answer == "average" and answered.recorded_by_id is not None
    # The tutor does not see her answer on his page.
    tutor_page = text_of(t.get(f"/tuteur/binome/{ids[3]}"))
    assert "Elle aimerait le voir plus." not in tutor_page
