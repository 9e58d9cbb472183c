"""Importing beneficiaries from a CSV file: encodings, headers, reasons, duplicates, idempotence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.factories import make_admin, make_mentee, make_referent, make_tutor
from tutorat.extensions import db
from tutorat.models import (
    AccessLog,
    ImportRowStatus,
    MenteeProfile,
    OutboxEmail,
    Role,
    User,
)
from tutorat.services import imports
from tutorat.services.duplicates import DuplicateError, check_new_mentee

HEADER = (
    "Nom;Prénom;Commune;Date de naissance;Courriel;Téléphone;Adresse;Code postal;Numéro allocataire"
)


def csv_bytes(*lines: str, encoding: str = "utf-8", header: str = HEADER) -> bytes:
    return ("\r\n".join([header, *lines]) + "\r\n").encode(encoding)


def mentee_count() -> int:
    return db.session.scalar(select(func.count()).select_from(MenteeProfile))


def statuses(result) -> list[ImportRowStatus]:
    return [r.status for r in result.rows]


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("cp1252", b"")],
)
def test_encodings_give_the_same_accents(ctx, encoding, prefix):
    referent = make_referent()
    content = prefix + csv_bytes(
        "Lefèvre;Hélène;Auch;12/03/1985;helene@exemple.fr;06 12 34 56 78;3 rue d'Étigny;32000;1234567",
        encoding=encoding,
    )
    result = imports.preview(content, actor=referent, referent=None)
    assert statuses(result) == [ImportRowStatus.CREATE]
    row = result.rows[0]
    assert row.clean["last_name"] == "Lefèvre"
    assert row.clean["first_name"] == "Hélène"
    assert row.clean["street_address"] == "3 rue d'Étigny"
    assert row.clean["commune_code"] == "32013"


def test_comma_and_synonyms_and_accentless_headers(ctx):
    referent = make_referent()
    content = csv_bytes(
        'MARTIN,Paul,32000,paul@exemple.fr,"0612345679",1985-03-12',
        header="NOM DE FAMILLE,prenom,Ville,E-mail,Tel,Né le",
    )
    result = imports.preview(content, actor=referent, referent=None)
    assert statuses(result) == [ImportRowStatus.CREATE], result.rows[0].errors
    clean = result.rows[0].clean
    assert clean["email"] == "paul@exemple.fr"
    assert clean["phone"] == "06 12 34 56 79"
    assert clean["birth_date"].isoformat() == "1985-03-12"


def test_each_error_has_its_french_reason_next_to_its_cell(ctx):
    referent = make_referent()
    future = (datetime.now(UTC) + timedelta(days=30)).strftime("%d/%m/%Y")
    content = csv_bytes(
        ";Jeanne;Auch;;;;;;",  # missing name
        "Durand;Léa;Auchh;;;;;;",  # unknown commune, close match
        "Petit;Marc;Auch;;pas-une-adresse;;;;",
        "Roux;Anne;Auch;;;12 34;;;",
        f"Blanc;Luc;Auch;{future};;;;;",
        "Noir;Eve;Auch;;;;;32500;",  # postal code of another commune
        "Vert;Yves;Auch;;;=cmd|' /C calc'!A0;;;",
        "Bon;Jean;Auch;;;;;;",
    )
    result = imports.preview(content, actor=referent, referent=None)
    rows = result.rows
    assert rows[0].errors == {"last_name": "obligatoire."}
    assert (
        "commune inconnue" in rows[1].errors["commune"] and "« Auch »" in rows[1].errors["commune"]
    )
    assert rows[2].errors == {"email": "adresse électronique invalide."}
    assert "numéro de téléphone invalide" in rows[3].errors["phone"]
    assert rows[4].errors == {"birth_date": "date dans le futur."}
    assert "n'est pas un code postal de Auch" in rows[5].errors["postal_code"]
    assert "formule" in rows[6].errors["phone"]
    assert rows[7].status == ImportRowStatus.CREATE
    assert [r.line for r in rows] == [2, 3, 4, 5, 6, 7, 8, 9]
    report = imports.report_csv(result)
    assert report.startswith("\ufeffNom;Prénom;")
    lines = report.strip().split("\r\n")
    assert len(lines) == 1 + 7
    assert lines[-1].startswith("Vert;Yves;Auch;;;'=cmd")
    assert "motif du refus" in lines[0]


def test_postal_code_shared_by_several_communes_asks_for_the_name(ctx):
    referent = make_referent()
    result = imports.preview(csv_bytes("A;B;32300;;;;;;"), actor=referent, referent=None)
    reason = result.rows[0].errors["commune"]
    assert "32300" in reason and "indiquez le nom" in reason


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "vide"),
        (b"PK\x03\x04xlsx", "classeur"),
        (b"foo;bar\r\n1;2\r\n", "Aucune colonne"),
        ("Nom;Prénom\r\nA;B\r\n".encode(), "Colonne obligatoire absente : commune"),
        (HEADER.encode() + b"\r\n", "aucune personne"),
        ("Nom;Prénom;Commune\r\nHélène;B;Auch\r\n".encode() + b"L\xe9a;C;Auch\r\n", "mélange"),
        (b"\xff\xfeN\x00o\x00m\x00", "UTF-16"),
    ],
)
def test_unreadable_files_are_refused_whole(ctx, content, message):
    referent = make_referent()
    with pytest.raises(imports.ImportFileError) as caught:
        imports.upload(content, "f.csv", actor=referent, referent=None)
    assert message in caught.value.message
    assert mentee_count() == 0


def test_too_many_rows(ctx, monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROWS", 3)
    content = csv_bytes(*[f"N{i};P;Auch;;;;;;" for i in range(4)])
    with pytest.raises(imports.ImportFileError, match="la limite est de 3"):
        imports.read_table(content, admin=False)


def test_import_creates_valid_rows_invites_those_with_email_and_is_idempotent(ctx):
    referent = make_referent()
    content = csv_bytes(
        "Lefèvre;Hélène;Auch;12/03/1985;helene@exemple.fr;06 12 34 56 78;;;1234567",
        "Sans;Courriel;Condom;;;;;;",
        "Faux;Ligne;Nulle-Part;;;;;;",
    )
    item = imports.upload(content, "liste.csv", actor=referent, referent=None)
    outcome = imports.run(item, actor=referent)
    db.session.commit()
    assert (outcome.created, outcome.existing, outcome.rejected, outcome.invited) == (2, 0, 1, 1)
    helene = db.session.scalars(select(User).where(User.email == "helene@exemple.fr")).one()
    profile = helene.require_mentee_profile()
    assert (profile.referent_id, profile.commune_code, profile.caf_number) == (
        referent.id,
        "32013",
        "1234567",
    )
    assert helene.role == Role.MENTEE and helene.consent_by_id == referent.id
    mails = db.session.scalars(select(OutboxEmail)).all()
    assert [m.recipient for m in mails] == ["helene@exemple.fr"]
    assert (
        db.session.scalar(
            select(func.count()).select_from(AccessLog).where(AccessLog.action == "import")
        )
        == 1
    )
    # The same file again: nothing created.
    again = imports.upload(content, "liste.csv", actor=referent, referent=None)
    outcome = imports.run(again, actor=referent)
    db.session.commit()
    assert (outcome.created, outcome.existing, outcome.rejected) == (0, 2, 1)
    assert mentee_count() == 2
    with pytest.raises(imports.Conflict):
        imports.run(again, actor=referent)


def test_duplicates_in_the_file_and_in_the_base(ctx):
    referent = make_referent(organisation="MDS d'Auch")
    other = make_referent(organisation="MDS de Condom")
    mine = make_mentee(referent, email="a@exemple.fr", phone="0611111111")
    theirs = make_mentee(other, email="b@exemple.fr", phone="06 22 22 22 22")
    db.session.get(MenteeProfile, theirs.id).caf_number = "7654321"
    db.session.flush()
    content = csv_bytes(
        "X;Y;Auch;;a@exemple.fr;;;;",  # my own beneficiary, by email
        "X;Z;Auch;;;+33 6 22 22 22 22;;;",  # someone else's, by phone
        "W;V;Auch;;;;;;7654321",  # someone else's, by numéro allocataire
        "Neuf;Un;Auch;01/01/1990;;;;;",
        "NEUF;un;Auch;01/01/1990;;;;;",  # same as the line above
    )
    result = imports.preview(content, actor=referent, referent=None)
    assert statuses(result) == [
        ImportRowStatus.EXISTS,
        ImportRowStatus.EXISTS,
        ImportRowStatus.EXISTS,
        ImportRowStatus.CREATE,
        ImportRowStatus.ERROR,
    ]
    first, second, third = (r.duplicate for r in result.rows[:3])
    assert first.visible and first.known.user_id == mine.id
    assert mine.first_name in first.message
    # Someone else's: only "already followed, by which service", never who.
    assert (
        not second.visible and second.message == "Cette personne est déjà suivie par MDS de Condom."
    )
    assert theirs.first_name not in third.message and not third.visible
    assert "ligne 5" in result.rows[4].errors["last_name"]
    # The admin may see everyone.
    admin = make_admin()
    seen = imports.preview(content, actor=admin, referent=referent)
    assert seen.rows[1].duplicate.visible


def test_single_creation_refuses_a_duplicate_with_a_neutral_message(ctx):
    referent = make_referent(organisation="MDS d'Auch")
    other = make_referent(organisation="France Travail Condom")
    make_mentee(other, email="c@exemple.fr", phone="06 33 33 33 33")
    with pytest.raises(DuplicateError) as caught:
        check_new_mentee(
            referent,
            email=None,
            phone="0633333333",
            first_name="A",
            last_name="B",
            referent_id=referent.id,
        )
    assert caught.value.message == "Cette personne est déjà suivie par France Travail Condom."
    assert not caught.value.duplicate.visible


def test_email_of_a_tutor_is_refused(ctx):
    referent = make_referent()
    make_tutor(email="tuteur@exemple.fr")
    result = imports.preview(
        csv_bytes("A;B;Auch;;TUTEUR@exemple.fr;;;;"), actor=referent, referent=None
    )
    assert "autre compte" in result.rows[0].errors["email"]


def test_admin_file_names_each_referent(ctx):
    admin = make_admin()
    referent = make_referent(email="ref.auch@exemple.fr")
    content = csv_bytes(
        "A;B;Auch;REF.auch@exemple.fr",
        "C;D;Auch;inconnu@exemple.fr",
        header="nom;prénom;commune;référent",
    )
    item = imports.upload(content, "f.csv", actor=admin, referent=None)
    outcome = imports.run(item, actor=admin)
    db.session.commit()
    assert (outcome.created, outcome.rejected) == (1, 1)
    assert db.session.scalar(select(MenteeProfile.referent_id)) == referent.id
    # A référent's file may not choose another référent: the column is ignored.
    table = imports.read_table(content, admin=False)
    assert "référent" in table.ignored


def test_import_is_all_or_nothing(ctx, monkeypatch):
    referent = make_referent()
    content = csv_bytes(*[f"Nom{i};P;Auch;;;;;;" for i in range(5)])
    item = imports.upload(content, "f.csv", actor=referent, referent=None)
    db.session.commit()
    real = imports.invite

    def broken(*args, **kw):
        real(*args, **kw)
        raise RuntimeError("panne au milieu")

    monkeypatch.setattr(imports, "invite", broken)
    with pytest.raises(RuntimeError):
        imports.run(item, actor=referent)
    db.session.rollback()
    assert mentee_count() == 0


def test_command_dry_run_writes_nothing_then_imports(app, runner, tmp_path):
    with app.app_context():
        referent_id = make_referent(email="ref.cli@exemple.fr").id
        db.session.commit()
    path = tmp_path / "liste.csv"
    path.write_bytes(
        csv_bytes(
            "Lefèvre;Hélène;Auch;12/03/1985;helene@exemple.fr;;;;",
            "Faux;Ligne;Nulle-Part;;;;;;",
            encoding="cp1252",
        )
    )
    report = tmp_path / "refus.csv"
    dry = runner.invoke(
        args=[
            "import-beneficiaires",
            str(path),
            "--referent",
            "REF.cli@exemple.fr",
            "--dry-run",
            "--rapport",
            str(report),
        ]
    )
    assert dry.exit_code == 0, dry.output
    assert "2 ligne(s) lue(s) en Windows-1252" in dry.output
    assert "1 à créer, 0 déjà suivie(s), 1 en erreur." in dry.output
    assert "ligne 3 : commune : commune inconnue dans le Gers" in dry.output
    assert "Rien n'a été écrit" in dry.output
    assert "Faux;Ligne;Nulle-Part" in report.read_text(encoding="utf-8")
    with app.app_context():
        assert mentee_count() == 0
    done = runner.invoke(
        args=["import-beneficiaires", str(path), "--referent", "ref.cli@exemple.fr"]
    )
    assert done.exit_code == 0, done.output
    assert "1 créée(s)" in done.output and "1 invitation(s)" in done.output
    with app.app_context():
        assert mentee_count() == 1
        assert db.session.scalar(select(MenteeProfile.referent_id)) == referent_id
    again = runner.invoke(
        args=["import-beneficiaires", str(path), "--referent", "ref.cli@exemple.fr"]
    )
    assert "0 créée(s), 1 déjà suivie(s)" in again.output
    unknown = runner.invoke(args=["import-beneficiaires", str(path), "--referent", "x@y.fr"])
    assert unknown.exit_code != 0 and "Aucun référent actif" in unknown.output


_CELL = st.one_of(
    st.sampled_from(
        [
            "Auch",
            "32000",
            "32013",
            "Condom",
            "Auchh",
            "",
            "=1+1",
            "+33 6 12 34 56 78",
            "06 1",
            "12/03/1985",
            "31/02/1990",
            "2099-01-01",
            "a@b.fr",
            "pas@",
            "Hélène",
            "é;è",
            '"',
            "\x00",
        ]
    ),
    st.text(max_size=12),
)


@given(
    header=st.lists(
        st.sampled_from(["nom", "Prénom", "COMMUNE", "courriel", "tél", "ddn", "x", ""]),
        min_size=1,
        max_size=7,
    ),
    rows=st.lists(st.lists(_CELL, max_size=8), max_size=12),
    delimiter=st.sampled_from([";", ",", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_fuzzed_files_never_crash_and_never_half_import(ctx, header, rows, delimiter, encoding):
    referent = db.session.scalars(select(User).where(User.email == "fuzz@exemple.fr")).first()
    if referent is None:
        referent = make_referent(email="fuzz@exemple.fr")
    text = "\r\n".join(delimiter.join(r) for r in [header, *rows])
    content = text.encode(encoding, errors="replace")
    before = mentee_count()
    try:
        item = imports.upload(content, "f.csv", actor=referent, referent=None)
        result = imports.preview(item.content, actor=referent, referent=None)
        outcome = imports.run(item, actor=referent)
    except imports.ImportFileError as error:
        assert error.message and error.message[0].isupper()
        db.session.rollback()
        assert mentee_count() == before
        return
    for row in result.rows:
        assert row.status in ImportRowStatus
        assert (row.status == ImportRowStatus.ERROR) == bool(row.errors)
        assert all(message for message in row.errors.values())
    db.session.flush()
    assert mentee_count() == before + outcome.created
    assert outcome.created == result.count(ImportRowStatus.CREATE)
    db.session.rollback()
