"""Reaching people without email: letters (PDF, checked by pdftotext), SMS (through a real HTTP
server speaking the provider's API), contact preferences and the postal address."""

from __future__ import annotations

import html
import re
import subprocess
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock

import pytest
from jinja2 import UndefinedError
from sqlalchemy import func, select

from tests.conftest import Browser
from tests.factories import PASSWORD, make_admin, make_mentee, make_referent, make_tutor
from tutorat.extensions import db
from tutorat.models import Letter, MessageStatus, NextMeeting, OutboxEmail, OutboxSms, Pair, User
from tutorat.services import contact, emails, followup, letters, notifications, sms
from tutorat.services import pairs as pair_service
from tutorat.services import requests as request_service
from tutorat.services.errors import DomainError


def pdf_text(data: bytes, *args: str) -> str:
    """The text of a PDF, as poppler's pdftotext reads it."""
    assert data.startswith(b"%PDF-"), data[:20]
    done = subprocess.run(
        ["pdftotext", "-layout", *args, "-", "-"], input=data, capture_output=True, check=True
    )
    return done.stdout.decode()


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _browser(app, email):
    b = Browser(app.test_client())
    assert b.login(email, PASSWORD).status_code == 302
    return b


# --- contact details -----------------------------------------------------------------------


def test_phone_numbers_are_checked_and_mobiles_normalised(ctx):
    assert contact.mobile_e164("06 12 34 56 78") == "+33612345678"
    assert contact.mobile_e164("+33 7 81 23 45 67") == "+33781234567"
    assert contact.mobile_e164("0033612345678") == "+33612345678"
    assert contact.mobile_e164("05 62 67 40 40") is None  # a landline: no SMS
    assert contact.mobile_e164("06 12") is None
    with pytest.raises(DomainError, match="n'existe pas"):
        contact.parse_phone("01 02")


def test_postal_code_must_be_the_communes(ctx):
    referent = make_referent()
    mentee = make_mentee(referent, commune="32013", email=None)  # Auch, 32000
    with pytest.raises(DomainError, match=r"32100 n'est pas celui de Auch \(32000\)") as info:
        contact.update_contact(
            mentee,
            street_address="3 rue Dessoles",
            postal_code="32100",
            phone="",
            contact_email=False,
            contact_sms=False,
            contact_letter=True,
        )
    assert info.value.field == "postal_code"
    assert mentee.postal_code is None  # nothing written
    with pytest.raises(DomainError, match="5 chiffres"):
        contact.check_postal_code("3200", None)
    # A commune with two postal codes takes either.
    contact.check_postal_code(
        "32440", db.session.get(mentee.mentee_profile.commune.__class__, "32079")
    )
    contact.update_contact(
        mentee,
        street_address="3 rue Dessoles",
        postal_code="32000",
        phone="0612345678",
        contact_email=False,
        contact_sms=True,
        contact_letter=True,
    )
    assert (mentee.postal_code, mentee.phone) == ("32000", "06 12 34 56 78")
    assert contact.postal_lines(mentee)[-1] == "32000 AUCH"


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"contact_sms": True, "phone": "05 62 67 40 40"}, "phone", "portable"),
        ({"contact_sms": True, "phone": ""}, "phone", "portable"),
        ({"contact_letter": True}, "street_address", "adresse postale"),
        ({"contact_email": True}, "contact_email", "adresse électronique"),
        ({}, "contact_email", "au moins une"),
        ({"phone": "12"}, "phone", "n'existe pas"),
    ],
)
def test_contact_form_refuses_bad_input_in_french(app, values, field, message):
    with app.app_context():
        referent = make_referent()
        mentee = make_mentee(referent, email=None)
        db.session.commit()
        ids = (referent.email, mentee.id)
    ref = _browser(app, ids[0])
    url = f"/referent/beneficiaires/{ids[1]}/coordonnees"
    data = {"street_address": "", "postal_code": "", "phone": ""}
    data.update({k: ("y" if v is True else v) for k, v in values.items() if v is not False})
    r = ref.post(url, data, page=url)
    assert r.status_code == 422
    assert message in text_of(r)
    with app.app_context():
        user = db.session.get(User, ids[1])
        assert not user.contact_sms and not user.contact_letter and user.street_address is None


# --- routing: every kind of the registry --------------------------------------------------


def test_every_kind_follows_the_persons_choices(ctx):
    """The routing names no kind: each declared kind reaches a person without email by letter,
    never a security one; SMS only for the kinds with a short text."""
    referent = make_referent()
    mentee = make_mentee(referent, email=None, street_address="2 rue Dessoles", postal_code="32000")
    tutor = make_tutor()
    tutoring_request = request_service.open_request(
        mentee, actor=referent, topics=["cv"], meeting_modes=["video"], message=""
    )
    db.session.flush()
    pair = pair_service.propose(tutoring_request, tutor.id, actor=referent)
    mentee.contact_sms = True
    db.session.flush()
    before = db.session.scalar(select(func.count()).select_from(Letter))
    checked: set[str] = set()
    for kind in emails.KINDS.values():
        letters_before = db.session.scalar(select(func.count()).select_from(Letter))
        sms_before = db.session.scalar(select(func.count()).select_from(OutboxSms))
        context = {
            "pair": pair,
            "side": "mentee",
            "expiry_days": 10,
            "days": 3,
            "deactivated": tutor,
            "token": "x",
            "inviter": referent,
            "week": "49",
            "digest": None,
        }
        try:
            with db.session.begin_nested():
                email = notifications.queue_email(kind.name, mentee, **context)
        except UndefinedError:  # a template needing more context than this generic one
            continue
        checked.add(kind.name)
        assert email is None  # no address
        letters_after = db.session.scalar(select(func.count()).select_from(Letter))
        sms_after = db.session.scalar(select(func.count()).select_from(OutboxSms))
        # Security emails and a tutor application's (no référent, no preferences yet): email only.
        email_only = kind.account_security or getattr(kind, "applicant", False)
        assert letters_after - letters_before == (0 if email_only else 1), kind.name
        expected_sms = int(not email_only and sms.has_text(kind.name))
        assert sms_after - sms_before == expected_sms, kind.name
    assert db.session.scalar(select(func.count()).select_from(Letter)) > before
    # The kinds of the journey at least (others may need a context this test does not build).
    assert {"proposal_mentee", "pair_confirmed_mentee", "reminder", "invitation"} <= checked
    assert len(checked) >= 10, checked


def test_person_with_email_who_asked_for_paper_gets_both(ctx):
    referent = make_referent()
    mentee = make_mentee(referent, street_address="2 rue Dessoles", postal_code="32000")
    mentee.contact_letter = True
    tutor = make_tutor()
    tutoring_request = request_service.open_request(
        mentee, actor=mentee, topics=["cv"], meeting_modes=["video"], message=""
    )
    db.session.flush()
    pair_service.propose(tutoring_request, tutor.id, actor=referent)
    db.session.flush()
    assert db.session.scalar(
        select(func.count()).select_from(OutboxEmail).where(OutboxEmail.recipient == mentee.email)
    )
    [letter] = db.session.scalars(select(Letter).where(Letter.recipient_id == mentee.id))
    assert letter.referent_id == referent.id and letter.kind == "proposal_mentee"
    # The tutor, with an email and no paper asked, gets no letter.
    assert not db.session.scalars(select(Letter).where(Letter.recipient_id == tutor.id)).all()


# --- the whole journey of a person without email -------------------------------------------


def test_person_without_email_journey_letters_printed_and_marked_sent(app):
    with app.app_context():
        referent = make_referent(first_name="Sophie", last_name="Lamothe", organisation="MDS Auch")
        tutor = make_tutor(first_name="Marc", last_name="Soubiran", commune="32013", remote_ok=True)
        db.session.commit()
        ids = {"referent": referent.email, "tutor": tutor.email, "tutor_id": tutor.id}

    ref = _browser(app, ids["referent"])
    # 1. The référent creates the person, without email.
    r = ref.post(
        "/referent/beneficiaires/nouveau",
        {"first_name": "Julie", "last_name": "Carrère", "email": "", "phone": "", "consent": "y"},
        page="/referent/beneficiaires/nouveau",
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    with app.app_context():
        mentee_id = db.session.scalar(select(User.id).where(User.last_name == "Carrère"))
    # 2. Profile (commune Auch), then the postal address: a wrong postal code is refused.
    r = ref.post(
        f"/referent/beneficiaires/{mentee_id}/profil",
        {
            "commune": "32000",
            "metier_1": "aide-soignant",
            "slots": ["5", "15"],
            "has_car": "no",
            "max_km": "10",
            "remote_ok": "y",
            "shares": ["first_name", "commune", "metier"],
        },
        page=f"/referent/beneficiaires/{mentee_id}/profil",
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    url = f"/referent/beneficiaires/{mentee_id}/coordonnees"
    bad = {"street_address": "12 rue Gambetta", "postal_code": "32500", "contact_letter": "y"}
    r = ref.post(url, bad, page=url)
    assert r.status_code == 422 and "n'est pas celui de Auch" in text_of(r)
    r = ref.post(url, {**bad, "postal_code": "32000"}, page=url)
    assert r.status_code == 302
    # 3. A demande made for her, a proposal: a letter is queued, no email.
    r = ref.post(
        f"/referent/beneficiaires/{mentee_id}/demande",
        {"topics": ["cv"], "meeting_modes": ["in_person"], "message": "Trouver un emploi."},
        page=f"/referent/beneficiaires/{mentee_id}/demande",
    )
    assert r.status_code == 302, text_of(r).split('id="contenu"')[-1][:3000]
    request_id = int(r.headers["Location"].rstrip("/").split("/")[-1])
    r = ref.post(f"/referent/demandes/{request_id}/proposer", {"tutor_id": str(ids["tutor_id"])})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    with app.app_context():
        pair_id = db.session.scalar(select(Pair.id).where(Pair.request_id == request_id))
    # 4. The tutor accepts; the référent records her answer and confirms.
    t = _browser(app, ids["tutor"])
    r = t.post(
        f"/tuteur/binome/{pair_id}/reponse",
        {"answer-decision": "accept"},
        prefix="answer",
        page=f"/tuteur/binome/{pair_id}",
    )
    assert r.status_code == 302
    r = ref.post(
        f"/referent/binomes/{pair_id}/reponse-beneficiaire",
        {"answer-decision": "accept"},
        prefix="answer",
        page=f"/referent/binomes/{pair_id}",
    )
    assert r.status_code == 302
    r = ref.post(f"/referent/binomes/{pair_id}/confirmer", {}, page=f"/referent/binomes/{pair_id}")
    assert r.status_code == 302
    with app.app_context():
        queued = db.session.scalars(
            select(Letter).where(Letter.recipient_id == mentee_id).order_by(Letter.id)
        ).all()
        assert [x.kind for x in queued] == ["proposal_mentee", "pair_confirmed_mentee"]
        assert all(x.status == MessageStatus.PENDING for x in queued)
        references = [x.reference for x in queued]
        assert not db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.recipient.ilike("%carrere%"))
        ).all()

    # 5. The list, then one PDF of all pending letters.
    page = ref.get("/referent/courriers").get_data(as_text=True)
    assert "Courriers à envoyer" in page and "Julie Carrère" in page
    assert all(ref_ in page for ref_ in references)
    r = ref.client.get("/referent/courriers/a-envoyer.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    text = pdf_text(r.data)
    pages = text.split("\f")
    assert len([p for p in pages if p.strip()]) == 2  # one sheet per letter
    for page_text, reference in zip(pages, references, strict=False):
        assert "Julie Carrère" in page_text and "12 rue Gambetta" in page_text
        assert "32000 AUCH" in page_text
        assert reference in page_text
        assert "Sophie Lamothe" in page_text  # the référent, to call
        assert "Objet" in page_text
    assert "Un tuteur vous est proposé" in pages[0] and "Marc" in pages[0]
    # She cannot log in (no email): the next step is a call to her référent, not a link.
    assert "appelez votre référent" in " ".join(pages[0].split())
    assert "/beneficiaire/binome/" not in text
    assert "Soubiran" not in pages[0]  # the tutor's last name: not what the mentee sees
    assert "merci de ne pas y répondre" not in text  # an email's line, not a letter's

    # 6. The address sits where a window envelope shows it (110 mm from the left, 50 mm down).
    bbox = pdf_text(r.data, "-bbox", "-f", "1", "-l", "1")
    word = re.search(r'<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>Gambetta</word>', bbox)
    assert word, bbox[:2000]
    x_mm, y_mm = float(word.group(1)) * 25.4 / 72, float(word.group(2)) * 25.4 / 72
    assert 100 <= x_mm <= 150 and 45 <= y_mm <= 90, (x_mm, y_mm)

    # 7. Marked as sent: out of the list, in her history.
    r = ref.post(
        "/referent/courriers/envoyes",
        {"letter_ids": ",".join(str(i) for i in _letter_ids(app, mentee_id))},
        page="/referent/courriers",
    )
    assert r.status_code == 302
    assert "2 courrier(s) marqué(s)" in ref.get("/referent/courriers").get_data(as_text=True)
    r = ref.post(
        "/referent/courriers/envoyes",
        {"letter_ids": ",".join(str(i) for i in _letter_ids(app, mentee_id))},
        page="/referent/courriers",
    )
    assert r.status_code == 409  # already sent: counted once
    with app.app_context():
        assert {x.status for x in db.session.scalars(select(Letter))} == {MessageStatus.SENT}
    history = ref.get(f"/referent/beneficiaires/{mentee_id}").get_data(as_text=True)
    assert references[0] in history and "envoyé le" in history


def _letter_ids(app, mentee_id: int) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(Letter.id).where(Letter.recipient_id == mentee_id)))


def test_letters_are_scoped_to_their_referent(app):
    with app.app_context():
        referent, other = make_referent(), make_referent()
        mentee = make_mentee(
            referent, email=None, street_address="1 place de la Mairie", postal_code="32000"
        )
        letter = letters.queue_letter("proposal_mentee", mentee, "Objet", "Bonjour", set(), {})
        db.session.commit()
        letter_id, other_email = letter.id, other.email
    b = _browser(app, other_email)
    assert b.client.get(f"/referent/courriers/{letter_id}.pdf").status_code == 404
    assert "1 place de la Mairie" not in b.get("/referent/courriers").get_data(as_text=True)
    r = b.post(
        "/referent/courriers/envoyes", {"letter_ids": str(letter_id)}, page="/referent/courriers"
    )
    assert r.status_code == 422
    with app.app_context():
        assert db.session.get(Letter, letter_id).status == MessageStatus.PENDING


def test_letter_for_someone_without_address_is_refused_and_nothing_queued(ctx):
    referent = make_referent()
    mentee = make_mentee(referent, email=None, first_name="Sans", last_name="Adresse")
    with pytest.raises(DomainError) as refused:
        letters.queue_letter("proposal_mentee", mentee, "Objet", "Bonjour", set(), {})
    assert "Sans Adresse n'a pas d'adresse postale complète" in refused.value.message
    assert "aucun courrier n'est préparé" in refused.value.message
    mentee.street_address = "1 place de la Mairie"  # a street without postal code: not complete
    with pytest.raises(DomainError):
        letters.queue_letter("proposal_mentee", mentee, "Objet", "Bonjour", set(), {})
    db.session.flush()
    assert db.session.scalar(select(func.count()).select_from(Letter)) == 0


def test_a_notice_to_someone_without_address_is_a_to_do_for_the_referent(app):
    """A notice the person should receive by post, but who has no address: no letter that could
    not be posted, but « Adresse manquante » for the référent (dashboard, courriers, her page),
    until the address is given; then letters are prepared again."""
    with app.app_context():
        referent = make_referent()
        other = make_referent()
        mentee = make_mentee(referent, email=None, first_name="Sans", last_name="Adresse")
        with_address = make_mentee(
            referent, email=None, street_address="5 rue Dessoles", postal_code="32000"
        )
        make_mentee(referent, first_name="Avec", last_name="Courriel")  # by email: not listed
        tutor = make_tutor()
        tutoring_request = request_service.open_request(
            mentee, actor=referent, topics=["cv"], meeting_modes=["video"], message=""
        )
        db.session.flush()
        pair_service.propose(tutoring_request, tutor.id, actor=referent)
        db.session.commit()
        assert db.session.scalars(select(Letter)).all() == []
        assert [u.id for u in letters.missing_addresses(referent.id)] == [mentee.id]
        assert letters.missing_addresses(other.id) == []
        ids = (referent.email, other.email, mentee.id, with_address.id)
    b = _browser(app, ids[0])
    dashboard = text_of(b.get("/referent/"))
    assert "Adresse manquante" in dashboard and "Sans Adresse" in dashboard
    page = text_of(b.get("/referent/courriers"))
    assert "Adresse manquante (1)" in page and "Sans Adresse" in page
    assert f"/referent/beneficiaires/{ids[2]}/coordonnees" in page
    assert "Aucun courrier à envoyer" in page
    assert "Adresse manquante" in text_of(b.get(f"/referent/beneficiaires/{ids[2]}"))
    assert "Adresse manquante" not in text_of(b.get(f"/referent/beneficiaires/{ids[3]}"))
    # Another référent sees nothing of her.
    o = _browser(app, ids[1])
    assert "Sans Adresse" not in text_of(o.get("/referent/courriers"))
    assert "Sans Adresse" not in text_of(o.get("/referent/"))
    # The address given: out of the list, and the next notice is a letter.
    url = f"/referent/beneficiaires/{ids[2]}/coordonnees"
    address = {"street_address": "12 rue Gambetta", "postal_code": "32000", "contact_letter": "y"}
    r = b.post(url, address, page=url)
    assert r.status_code == 302
    assert "Adresse manquante" not in text_of(b.get("/referent/courriers"))
    assert "Adresse manquante" not in text_of(b.get("/referent/"))
    with app.app_context():
        mentee = db.session.get(User, ids[2])
        notifications.queue_email(
            "reminder",
            mentee,
            pair=db.session.scalars(select(Pair)).one(),
            side="mentee",
            days=3,
            expiry_days=10,
        )
        db.session.commit()
        assert [x.kind for x in db.session.scalars(select(Letter))] == ["reminder"]


def test_a_tutor_without_emails_needs_an_address_and_the_admin_sees_those_without(app):
    """No référent follows a tutor: turning emails off without a postal address is refused, and
    a tutor already so (made by the administration, or from before) is the admin's to-do."""
    with app.app_context():
        tutor = make_tutor(first_name="Tom", last_name="Courriel")  # Pavie, 32550
        unreachable = make_tutor(first_name="Sans", last_name="Adresse", phone="06 12 34 56 78")
        unreachable.contact_email, unreachable.contact_sms = False, True
        admin_email = make_admin().email
        db.session.commit()
        tutor_id, tutor_email = tutor.id, tutor.email
    b = _browser(app, tutor_email)
    url = "/compte/coordonnees"
    sms_only = {"street_address": "", "postal_code": "", "phone": "0612345678", "contact_sms": "y"}
    r = b.post(url, sms_only, page=url)
    assert r.status_code == 422
    assert "Sans courriels, Tutorat vous écrit par courrier" in text_of(r)
    with app.app_context():
        assert db.session.get_one(User, tutor_id).contact_email is True  # nothing written
    r = b.post(
        url, {**sms_only, "street_address": "2 rue Nationale", "postal_code": "32550"}, page=url
    )
    assert r.status_code == 302
    with app.app_context():
        assert [u.full_name for u in letters.tutors_without_address()] == ["Sans Adresse"]
    home = text_of(_browser(app, admin_email).get("/admin/"))
    assert "Adresse manquante" in home and "Sans Adresse — 06 12 34 56 78" in home
    assert "Tom Courriel" not in home


def test_a_pending_letter_whose_address_was_removed_is_flagged_and_not_printed(app):
    with app.app_context():
        referent = make_referent()
        mentee = make_mentee(
            referent, email=None, street_address="1 place de la Mairie", postal_code="32000"
        )
        letter = letters.queue_letter("proposal_mentee", mentee, "Objet", "Bonjour", set(), {})
        mentee.street_address = mentee.postal_code = None
        db.session.commit()
        letter_id, email = letter.id, referent.email
    b = _browser(app, email)
    page = text_of(b.get("/referent/courriers"))
    assert "Adresse manquante" in page and "Compléter l'adresse" in page
    r = b.client.get(f"/referent/courriers/{letter_id}.pdf")
    assert r.status_code == 422 and "pas d'adresse postale" in text_of(r)
    assert b.client.get("/referent/courriers/a-envoyer.pdf").status_code == 404


def test_letter_without_referent_is_an_error_the_admin_sees(ctx):
    tutor = make_tutor(commune="32013", street_address="3 rue Dessoles", postal_code="32000")
    tutor.contact_letter = True
    letter = letters.queue_letter("pair_ended", tutor, "Objet", "Bonjour", set(), {})
    assert letter.status == MessageStatus.FAILED and "Aucun référent" in letter.last_error


def test_erasure_cancels_and_redacts_letters_and_sms(ctx):
    from tutorat.services import privacy

    referent = make_referent()
    mentee = make_mentee(
        referent,
        email=None,
        first_name="Effacée",
        last_name="Bientôt",
        street_address="3 rue Dessoles",
        postal_code="32000",
    )
    letter = letters.queue_letter("proposal_mentee", mentee, "Objet", "Bonjour Effacée", set(), {})
    mentee.contact_sms = True
    text = sms.OutboxSms(
        kind="reminder",
        recipient="+33612345678",
        subject="s",
        body_text="Effacée Bientôt",
        status=MessageStatus.PENDING,
        attempts=0,
        next_attempt_at=datetime.now(UTC),
    )
    text.people = [sms.OutboxSmsPerson(user_id=mentee.id)]
    db.session.add(text)
    db.session.flush()
    privacy.erase_messages(mentee)
    db.session.refresh(letter)
    db.session.refresh(text)
    assert letter.status == text.status == MessageStatus.CANCELLED
    assert "Effacée" not in letter.body_text and "Effacée" not in text.body_text


def test_hundred_letters_render_in_one_pdf(ctx):
    """Each of 100 letters is in the one PDF. How fast is `make bench-letters`' business (target
    < 20 s): a timed assertion here would fail on a loaded machine, not on slow code."""
    referent = make_referent()
    mentee = make_mentee(referent, email=None, street_address="3 rue Dessoles", postal_code="32000")
    body = (
        "Bonjour,\n\n" + "Votre référent vous propose un tuteur. " * 8 + "\n\nhttps://exemple.fr/x"
    )
    batch = [
        letters.queue_letter("proposal_mentee", mentee, "Objet", body, set(), {})
        for _ in range(100)
    ]
    db.session.flush()
    data = letters.render_pdf(batch)
    assert pdf_text(data).count("Référence : C-") == 100


# --- SMS --------------------------------------------------------------------------------------


def test_gsm7_segments_are_counted():
    assert sms.segments("a" * 160) == 1
    assert sms.segments("a" * 161) == 2
    assert sms.segments("a" * 306) == 2 and sms.segments("a" * 307) == 3
    assert sms.segments("€" * 80) == 1 and sms.segments("€" * 81) == 2  # extension: two each
    assert sms.segments("ê" * 70) == 1 and sms.segments("ê" * 71) == 2  # UCS-2
    assert sms.to_gsm7("Votre binôme est confirmé, ça commence « bientôt »") == (
        'Votre binome est confirmé, ca commence " bientot "'
    )
    assert sms.segments(sms.to_gsm7("êâîôûçœ’…")) == 1


def test_every_sms_text_fits_two_segments(ctx):
    referent = make_referent()
    mentee = make_mentee(referent, first_name="Marie-Christine-Emmanuelle")
    tutor = make_tutor(first_name="Jean-Baptiste-Alexandre")
    tutoring_request = request_service.open_request(
        mentee, actor=mentee, topics=["cv"], meeting_modes=["video"], message=""
    )
    db.session.flush()
    pair = pair_service.propose(tutoring_request, tutor.id, actor=referent)
    # The longest next meeting a tutor can plan: a Wednesday, 10 h 30, a place of 150 characters.
    planned = NextMeeting(day=date(2026, 12, 9), at_time=clock(10, 30), place="Médiathèque " * 12)
    kinds = [k for k in emails.KINDS if sms.has_text(k)]
    assert len(kinds) >= 6 and "meeting_tomorrow" in kinds
    for kind in kinds:
        text = sms.render_text(kind, mentee, pair=pair, side="mentee", planned=planned)
        assert 1 <= sms.segments(text) <= sms.MAX_SEGMENTS, (kind, len(text), text)
        assert "STOP" in text and "http" in text


def _queue_one(phone: str = "06 12 34 56 78") -> OutboxSms:
    referent = make_referent()
    mentee = make_mentee(referent, email=None, phone=phone)
    mentee.contact_sms = True
    tutor = make_tutor()
    tutoring_request = request_service.open_request(
        mentee, actor=referent, topics=["cv"], meeting_modes=["video"], message=""
    )
    db.session.flush()
    pair_service.propose(tutoring_request, tutor.id, actor=referent)
    db.session.commit()
    return db.session.scalars(select(OutboxSms)).one()


def test_sms_reach_the_provider_api_once(app, sms_api):
    with app.app_context():
        queued = _queue_one()
        assert queued.recipient == "+33612345678"
        assert sms.send_pending() == (1, 0)
        assert sms.send_pending() == (0, 0)  # never twice
        row = db.session.get(OutboxSms, queued.id)
        assert row.status == MessageStatus.SENT and row.provider_ref.isdigit()
    [payload] = sms_api.received
    assert payload["recipient"] == "33612345678" and payload["type"] == "transactional"
    assert "un tuteur" in payload["content"] and "STOP" in payload["content"]


def test_sms_provider_outage_then_everything_sent_once(app, sms_api):
    with app.app_context():
        queued = _queue_one()
        sms_api.stop()  # the provider is down
        now = datetime.now(UTC)
        assert sms.send_pending(now=now) == (0, 1)
        row = db.session.get(OutboxSms, queued.id)
        assert row.status == MessageStatus.PENDING and "injoignable" in row.last_error
        assert sms.send_pending(now=now) == (0, 0)  # waits before trying again
        sms_api.start()
        sms_api.fail_with = 503
        assert sms.send_pending(now=now + timedelta(minutes=2)) == (0, 1)
        assert "HTTP 503" in db.session.get(OutboxSms, queued.id, populate_existing=True).last_error
        sms_api.fail_with = None
        assert sms.send_pending(now=now + timedelta(hours=1)) == (1, 0)
        assert sms.send_pending(now=now + timedelta(hours=2)) == (0, 0)
    assert len(sms_api.received) == 1


def test_sms_with_a_wrong_key_fails_visibly_then_gives_up(app, sms_api):
    app.config["SMS_API_KEY"] = "mauvaise-cle"
    app.config["MAIL_MAX_ATTEMPTS"], saved = 2, app.config["MAIL_MAX_ATTEMPTS"]
    try:
        with app.app_context():
            queued = _queue_one()
            now = datetime.now(UTC)
            assert sms.send_pending(now=now) == (0, 1)
            assert sms.send_pending(now=now + timedelta(hours=1)) == (0, 1)
            row = db.session.get(OutboxSms, queued.id, populate_existing=True)
            assert row.status == MessageStatus.FAILED and "HTTP 401" in row.last_error
    finally:
        app.config["MAIL_MAX_ATTEMPTS"] = saved
    assert sms_api.received == []


def test_stop_is_recorded_and_cancels_waiting_sms(ctx):
    queued = _queue_one("07 81 23 45 67")
    assert sms.record_stop("33781234567") == 1
    db.session.refresh(queued)
    assert queued.status == MessageStatus.CANCELLED
    user = db.session.scalars(select(User).where(User.phone == "07 81 23 45 67")).one()
    assert user.sms_stopped_at is not None and not sms.accepts_sms(user)


def test_landline_gets_no_sms(ctx):
    referent = make_referent()
    mentee = make_mentee(referent, email=None, phone="05 62 67 40 40")
    mentee.contact_sms = True
    assert not sms.accepts_sms(mentee)


def test_admin_sees_failed_sms_and_letters_and_sends_an_sms_again(app, sms_api):
    from tests.factories import make_admin

    app.config["SMS_API_KEY"] = "mauvaise-cle"
    app.config["MAIL_MAX_ATTEMPTS"], saved = 1, app.config["MAIL_MAX_ATTEMPTS"]
    try:
        with app.app_context():
            queued = _queue_one()
            assert sms.send_pending() == (0, 1)
            tutor = make_tutor(
                first_name="Sans",
                last_name="Référent",
                commune="32013",
                street_address="3 rue Dessoles",
                postal_code="32000",
            )
            letters.queue_letter("pair_ended", tutor, "Votre binôme est terminé", "x", set(), {})
            admin_email = make_admin().email
            db.session.commit()
            sms_id = queued.id
    finally:
        app.config["MAIL_MAX_ATTEMPTS"] = saved
    admin = _browser(app, admin_email)
    page = html.unescape(admin.get("/admin/courriels").get_data(as_text=True))
    assert "+33612345678" in page and "HTTP 401" in page
    assert "Sans Référent" in page and "Aucun référent" in page
    app.config["SMS_API_KEY"] = sms_api.KEY
    r = admin.post(f"/admin/sms/{sms_id}/renvoyer", {}, page="/admin/courriels")
    assert r.status_code == 302
    with app.app_context():
        assert sms.send_pending() == (1, 0)
    assert len(sms_api.received) == 1


def test_stop_reply_through_the_providers_webhook(app):
    with app.app_context():
        queued = _queue_one("07 81 23 45 67")
        sms_id = queued.id
    client = app.test_client()
    app.config["SMS_WEBHOOK_TOKEN"] = "secret-du-webhook"
    try:
        assert client.post("/sms/retour/mauvais", json={"from": "33781234567"}).status_code == 404
        r = client.post(
            "/sms/retour/secret-du-webhook", json={"from": "33781234567", "reply": "Bonjour"}
        )
        assert r.status_code == 200 and r.get_json() == {"comptes_arretes": 0}
        r = client.post(
            "/sms/retour/secret-du-webhook", json={"from": "33781234567", "reply": " stop "}
        )
        assert r.status_code == 200 and r.get_json() == {"comptes_arretes": 1}
        assert client.post("/sms/retour/secret-du-webhook", data="x").status_code == 400
    finally:
        app.config["SMS_WEBHOOK_TOKEN"] = ""
    assert client.post("/sms/retour/secret-du-webhook", json={}).status_code == 404  # unset: none
    with app.app_context():
        assert db.session.get(OutboxSms, sms_id).status == MessageStatus.CANCELLED
        user = db.session.scalars(select(User).where(User.phone == "07 81 23 45 67")).one()
        assert user.sms_stopped_at is not None


def test_one_click_unsubscribe_from_the_email_header(app, smtp):
    """RFC 8058: the mail client POSTs List-Unsubscribe=One-Click to the header's address, with no
    cookie and no form token; that kind of email stops, and a tampered address does nothing."""
    with app.app_context():
        referent = make_referent()
        mentee = make_mentee(referent)
        tutor = make_tutor()
        tutoring_request = request_service.open_request(
            mentee, actor=mentee, topics=["cv"], meeting_modes=["video"], message=""
        )
        db.session.flush()
        pair_service.propose(tutoring_request, tutor.id, actor=referent)
        db.session.commit()
        notifications.send_pending()
        mentee_id, mentee_email = mentee.id, mentee.email
    [message] = smtp.inbox.to(mentee_email)
    header = message["List-Unsubscribe"].strip()
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = header.strip("<>").replace("http://localhost", "")
    client = app.test_client()
    assert client.post(path + "x", data={"List-Unsubscribe": "One-Click"}).status_code == 404
    page = client.get(path)
    assert page.status_code == 200 and "Ne plus recevoir" in text_of(page)
    with app.app_context():
        assert db.session.get(User, mentee_id).notify_proposals
    r = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200 and "C'est fait" in text_of(r)
    with app.app_context():
        user = db.session.get(User, mentee_id)
        assert not user.notify_proposals and user.notify_reminders  # that kind only
    body = smtp.inbox.text(message)
    assert "/compte/" in body and "/desabonnement/" in body


def test_a_pdf_that_cannot_be_made_is_an_error_the_admin_sees(app, tmp_path):
    from tests.factories import make_admin

    with app.app_context():
        referent = make_referent()
        mentee = make_mentee(
            referent, email=None, street_address="3 rue Dessoles", postal_code="32000"
        )
        letter = letters.queue_letter("proposal_mentee", mentee, "Objet", "Bonjour", set(), {})
        db.session.commit()
        letter_id, emails_ = letter.id, (referent.email, make_admin().email)
        db.session.commit()
    saved = app.config["LETTERHEAD_PATH"]
    app.config["LETTERHEAD_PATH"] = str(tmp_path / "en-tete-disparu.png")  # a real failure
    try:
        ref = _browser(app, emails_[0])
        r = ref.client.get(f"/referent/courriers/{letter_id}.pdf")
        assert r.status_code == 503 and "pas pu être préparé" in text_of(r)
        assert ref.client.get("/referent/courriers/a-envoyer.pdf").status_code == 503
    finally:
        app.config["LETTERHEAD_PATH"] = saved
    with app.app_context():
        row = db.session.get(Letter, letter_id)
        assert row.attempts == 2 and "FileNotFoundError" in row.last_error
        assert row.status == MessageStatus.PENDING  # still to send once it can be made
    page = text_of(_browser(app, emails_[1]).client.get("/admin/courriels"))
    assert "FileNotFoundError" in page


def test_the_dashboard_reads_its_territories_and_missing_addresses_together(app):
    """The dashboard's territories and « Adresse manquante » notice come with its caseload, in
    one statement (followup.caseload(…, with_people=True)): the same territories as
    caseload_territories, and the count and first three names of letters.missing_addresses, in
    its order, whatever the caseload is narrowed to; and the same counts as without them."""
    with app.app_context():
        referent = make_referent()
        other = make_referent()
        names = ("Dupont", "Albert", "Martin", "Carrère", "Bernard")
        for i, last_name in enumerate(names):
            make_mentee(
                referent, email=None, last_name=last_name, commune=("32013", "32107")[i % 2]
            )
        make_mentee(referent, complete=False, email=None, last_name="Sans Commune")
        make_mentee(referent, commune="32307", last_name="Courriel")  # by email: not listed
        make_mentee(other, email=None, last_name="Ailleurs", commune="32208")
        db.session.commit()
        missing = letters.missing_addresses(referent.id)
        assert len(missing) == 6
        now = datetime.now(UTC)
        items = followup.caseload(referent.id, now, with_people=True)
        assert items.counts == followup.caseload_counts(referent.id, now)
        assert items.people is not None
        people = items.people
        assert people.territories == followup.caseload_territories(referent.id)
        narrowed = followup.Scope(followup.Territory.parse(people.territories[0][0]), "zzz")
        assert followup.caseload(referent.id, now, narrowed, with_people=True).people == people
        assert len(people.territories) >= 2  # a canton and an EPCI at least
        assert people.missing_total == 6
        assert people.missing_names == [u.full_name for u in missing[:3]]
        nobody = followup.caseload(make_referent().id, now, with_people=True)
        assert nobody.people == followup.CaseloadPeople([], 0, [])
