"""The caseload pages through the test client: import (upload, preview, confirm, report), the
référent's list (search, status counts), the admin's list and the transfer of a caseload."""

from __future__ import annotations

import html as html_lib
import io

from sqlalchemy import func, select

from tests.conftest import Browser
from tests.factories import PASSWORD, make_admin, make_mentee, make_referent, make_tutor
from tutorat.extensions import db
from tutorat.models import (
    AccessLog,
    BeneficiaryImport,
    Letter,
    MenteeProfile,
    OutboxEmail,
    Pair,
    ReferentChange,
)
from tutorat.services import pairs as pair_service
from tutorat.services import requests as request_service

FILE = (
    "Nom;Prénom;Commune;Courriel;Téléphone\r\n"
    "Lefèvre;Hélène;Auch;helene@exemple.fr;06 12 34 56 78\r\n"
    "Sans;Adresse;Condom;;\r\n"
    "Faux;Ligne;Nulle-Part;;\r\n"
).encode("cp1252")


def text(response) -> str:
    return html_lib.unescape(response.get_data(as_text=True))


def logged_in(app, email: str) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(email, PASSWORD).status_code == 302
    return browser


def upload(browser: Browser, content: bytes, name: str = "liste.csv", **extra):
    browser.get("/import-beneficiaires/")
    return browser.post(
        "/import-beneficiaires/",
        {"file": (io.BytesIO(content), name), **extra},
        content_type="multipart/form-data",
    )


def test_upload_preview_import_and_report(app):
    with app.app_context():
        referent = make_referent()
        db.session.commit()
        email = referent.email
    browser = logged_in(app, email)
    response = upload(browser, FILE)
    assert response.status_code == 302
    preview_url = response.headers["Location"]
    page = browser.get(preview_url)
    html = text(page)
    assert page.status_code == 200
    assert "Windows-1252" in html and "Hélène" in html
    assert "commune inconnue dans le Gers : « Nulle-Part »" in html
    assert "Rien n'est encore importé" in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(MenteeProfile)) == 0
        # Seeing the preview is logged like seeing a record.
        assert db.session.scalar(
            select(func.count())
            .select_from(AccessLog)
            .where(AccessLog.action == "view", AccessLog.target.like("aperçu de l'import%"))
        )
    # Only the errors.
    errors = text(browser.get(preview_url + "?statut=erreurs"))
    assert "Nulle-Part" in errors and "Hélène" not in errors
    report = browser.client.get(preview_url + "/rapport.csv")
    assert report.status_code == 200 and report.mimetype == "text/csv"
    csv_text = report.get_data(as_text=True)
    assert csv_text.startswith("\ufeffNom;Prénom;Commune;Courriel;Téléphone;motif du refus;ligne")
    assert "Faux;Ligne;Nulle-Part" in csv_text and "Hélène" not in csv_text
    # Confirm.
    done = browser.post(preview_url, {}, page=preview_url)
    assert done.status_code == 302
    final = text(browser.get(preview_url))
    assert "Import terminé : 2 personnes créées, 1 invitation envoyée par courriel" in final
    assert "1 ligne refusée" in final
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(MenteeProfile)) == 2
        assert db.session.scalars(select(OutboxEmail.recipient)).all() == ["helene@exemple.fr"]
    # Twice: 409, nothing more.
    again = browser.post(preview_url, {}, page=preview_url)
    assert again.status_code == 409
    # The same file again: nothing to create.
    second = text(browser.get(upload(browser, FILE).headers["Location"]))
    assert "Aucune ligne ne peut être importée" in second
    assert "Mêmes nom, prénom et commune" in second or "Même adresse électronique" in second


def test_bad_files_are_a_422_with_a_french_message(app):
    with app.app_context():
        referent = make_referent()
        db.session.commit()
        email = referent.email
    browser = logged_in(app, email)
    for content, message in (
        (b"", "Le fichier est vide."),
        (b"PK\x03\x04...", "classeur"),
        (b"colonne;autre\r\n1;2\r\n", "Aucune colonne du fichier n'est reconnue"),
    ):
        response = upload(browser, content)
        assert response.status_code == 422, content
        assert message in text(response)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(BeneficiaryImport)) == 0


def test_someone_elses_duplicate_is_neutral_and_mine_is_a_link(app):
    with app.app_context():
        me = make_referent(organisation="MDS d'Auch")
        other = make_referent(organisation="MDS de Condom")
        mine = make_mentee(me, email="a@exemple.fr", phone="06 11 11 11 11")
        make_mentee(other, email="b@exemple.fr", first_name="Secrète", phone="06 22 22 22 22")
        db.session.commit()
        email, mine_id = me.email, mine.id
    browser = logged_in(app, email)
    content = "nom;prénom;commune;courriel\r\nX;Y;Auch;a@exemple.fr\r\nZ;W;Auch;b@exemple.fr\r\n"
    html = text(browser.get(upload(browser, content.encode()).headers["Location"]))
    assert f'href="/referent/beneficiaires/{mine_id}"' in html
    assert "Cette personne est déjà suivie par MDS de Condom." in html
    assert "Secrète" not in html and "b@exemple.fr</a>" not in html
    # Creating her by hand: the same neutral refusal.
    browser.get("/referent/beneficiaires/nouveau")
    response = browser.post(
        "/referent/beneficiaires/nouveau",
        {
            "first_name": "Z",
            "last_name": "W",
            "email": "",
            "phone": "0622222222",
            "consent": "y",
        },
    )
    assert response.status_code == 422
    assert "Cette personne est déjà suivie par MDS de Condom." in text(response)


def test_caseload_list_search_and_counts(app):
    with app.app_context():
        referent = make_referent()
        make_mentee(referent, first_name="Alice", last_name="Arnaud", commune="32013")
        make_mentee(referent, first_name="Bruno", last_name="Bernard", complete=False)
        in_pair = make_mentee(referent, first_name="Chloé", last_name="Castex", remote_ok=True)
        tutor = make_tutor(remote_ok=True)
        tutoring_request = request_service.open_request(
            in_pair, actor=referent, topics=["cv"], meeting_modes=["video"], message=""
        )
        db.session.flush()
        pair = pair_service.propose(tutoring_request, tutor.id, actor=referent)
        pair_service.answer(pair, side="tutor", accept=True, actor=tutor)
        pair_service.answer(pair, side="mentee", accept=True, actor=referent)
        pair_service.confirm(pair, actor=referent)
        make_mentee(make_referent(), first_name="Autre", last_name="Caseload")
        db.session.commit()
        email = referent.email
    browser = logged_in(app, email)
    html = text(browser.get("/referent/beneficiaires"))
    assert "Toutes (3)" in html and "En binôme (1)" in html and "Profil à compléter (1)" in html
    assert "Caseload" not in html
    found = text(browser.get("/referent/beneficiaires?q=bern"))
    assert "Bernard" in found and "Arnaud" not in found
    by_commune = text(browser.get("/referent/beneficiaires?q=auch"))
    assert "Arnaud" in by_commune
    only_pair = text(browser.get("/referent/beneficiaires?statut=in_pair"))
    assert "Castex" in only_pair and "Arnaud" not in only_pair
    assert browser.get("/referent/beneficiaires?statut=nimporte").status_code == 400


def test_admin_moves_a_whole_caseload_with_its_binomes(app):
    with app.app_context():
        admin = make_admin()
        leaving = make_referent(organisation="MDS d'Auch")
        staying = make_referent(organisation="MDS de Mirande")
        mentee = make_mentee(leaving, remote_ok=True)
        no_email = make_mentee(
            leaving,
            email=None,
            phone="06 99 99 99 99",
            street_address="3 rue Dessoles",
            postal_code="32000",
        )
        tutor = make_tutor(remote_ok=True)
        tutoring_request = request_service.open_request(
            mentee, actor=leaving, topics=["cv"], meeting_modes=["video"], message=""
        )
        db.session.flush()
        pair = pair_service.propose(tutoring_request, tutor.id, actor=leaving)
        db.session.commit()
        ids = (admin.email, leaving.id, staying.id, mentee.id, no_email.id, pair.id)
        staying_email = staying.email
    admin_email, leaving_id, staying_id, mentee_id, no_email_id, pair_id = ids
    browser = logged_in(app, admin_email)
    listing = text(browser.get(f"/admin/beneficiaires?referent={leaving_id}"))
    assert "Toutes (2)" in listing
    page = browser.get(f"/admin/transfert?de={leaving_id}")
    assert "Toutes les personnes suivies par" in text(page)
    same = browser.post(
        "/admin/transfert",
        {"from_referent": str(leaving_id), "to_referent": str(leaving_id)},
    )
    assert same.status_code == 422
    response = browser.post(
        "/admin/transfert",
        {"from_referent": str(leaving_id), "to_referent": str(staying_id), "reason": "Départ"},
    )
    assert response.status_code == 302, text(response)
    with app.app_context():
        referents = dict(
            db.session.execute(select(MenteeProfile.user_id, MenteeProfile.referent_id)).all()
        )
        assert referents == {mentee_id: staying_id, no_email_id: staying_id}
        changes = db.session.scalars(select(ReferentChange)).all()
        assert {(c.mentee_id, c.from_referent_id, c.to_referent_id, c.reason) for c in changes} == {
            (mentee_id, leaving_id, staying_id, "Départ"),
            (no_email_id, leaving_id, staying_id, "Départ"),
        }
        kinds = sorted(
            db.session.scalars(
                select(OutboxEmail.kind).where(OutboxEmail.kind.not_like("proposal%"))
            ).all()
        )
        assert kinds == ["caseload_given", "caseload_received", "referent_changed"]
        # The person without email is told by a letter, which her new référent prints.
        letter = db.session.scalars(select(Letter).where(Letter.kind == "referent_changed")).one()
        assert (letter.recipient_id, letter.referent_id) == (no_email_id, staying_id)
        assert (
            db.session.scalar(
                select(func.count()).select_from(AccessLog).where(AccessLog.action == "transfer")
            )
            == 2
        )
        assert db.session.get(Pair, pair_id).status == "proposed"
    # The new référent sees the binôme and may act on it; the former one no longer does.
    newcomer = logged_in(app, staying_email)
    assert newcomer.get(f"/referent/binomes/{pair_id}").status_code == 200
    person = newcomer.get(f"/referent/beneficiaires/{no_email_id}")
    assert person.status_code == 200
    # Her page tells the move: when, from whom to whom, by whom, why.
    moves = text(person).split("Référents successifs")[1].split("Note du référent")[0]
    assert "Départ" in moves and "par " in moves and moves.count("Le ") == 1


def test_admin_moves_some_people(app):
    with app.app_context():
        admin = make_admin()
        a = make_referent()
        b = make_referent()
        one, two = make_mentee(a), make_mentee(a)
        db.session.commit()
        admin_email, a_id, b_id, one_id, two_id = admin.email, a.id, b.id, one.id, two.id
    browser = logged_in(app, admin_email)
    page = text(browser.get(f"/admin/transfert?de={a_id}&mentee_ids={one_id}"))
    assert "Personnes concernées (1)" in page
    response = browser.post(
        "/admin/transfert",
        {"from_referent": str(a_id), "to_referent": str(b_id), "mentee_ids": [str(one_id)]},
    )
    assert response.status_code == 302
    with app.app_context():
        referents = dict(
            db.session.execute(select(MenteeProfile.user_id, MenteeProfile.referent_id)).all()
        )
        assert referents == {one_id: b_id, two_id: a_id}
