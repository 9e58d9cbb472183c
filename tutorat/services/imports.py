"""Import beneficiaries from a spreadsheet saved as CSV: read, check every row, preview, import.

The file is read as French spreadsheets save it (`;` or `,`, UTF-8 with or without BOM, or
Windows-1252), its headers matched without case or accents, with synonyms. Every row gets a status
(will be created, already followed, error) and, for an error, the French reason next to its cell.
Nothing is written by the check; `run` writes the valid rows in the caller's transaction (one
commit: all of them or none), queues the invitation of each person with an email, and notes the
import in the access log. Checking again at import time makes the import idempotent: a row created
once is "already followed" the second time.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import defer

from tutorat.extensions import db
from tutorat.models import (
    AccessAction,
    BeneficiaryImport,
    Commune,
    ImportRowStatus,
    MenteeProfile,
    Role,
    User,
)
from tutorat.services import accounts, audit
from tutorat.services.db import allocate_ids, insert_many
from tutorat.services.duplicates import Duplicate, DuplicateIndex, Known, may_see, name_key
from tutorat.services.errors import Conflict, DomainError
from tutorat.services.notifications import queue_many
from tutorat.services.reference import normalize, search_communes

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
BATCH = 1_000

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Column:
    field: str
    label: str
    synonyms: tuple[str, ...]
    required: bool = False
    admin_only: bool = False


# The columns a file may have, in the order of the sample file (docs/exemple-import.csv).
COLUMNS = (
    Column(
        "last_name", "nom", ("nom", "nom de famille", "nom usage", "nom d usage", "last name"), True
    ),
    Column("first_name", "prénom", ("prenom", "prenoms", "first name"), True),
    Column(
        "commune",
        "commune",
        ("commune", "ville", "localite", "commune de residence", "code insee", "insee"),
        True,
    ),
    Column(
        "birth_date",
        "date de naissance",
        ("date de naissance", "naissance", "ne le", "ne e le", "date naissance", "ddn"),
    ),
    Column(
        "email",
        "courriel",
        ("courriel", "email", "e mail", "mail", "adresse electronique", "adresse mail", "mel"),
    ),
    Column(
        "phone",
        "téléphone",
        ("telephone", "tel", "portable", "mobile", "numero de telephone", "tel portable"),
    ),
    Column("street_address", "adresse", ("adresse", "adresse postale", "rue", "voie")),
    Column("postal_code", "code postal", ("code postal", "cp")),
    Column(
        "caf_number",
        "numéro allocataire",
        (
            "numero allocataire",
            "n allocataire",
            "no allocataire",
            "num allocataire",
            "allocataire",
            "matricule caf",
            "numero caf",
        ),
    ),
    Column(
        "referent_email",
        "référent",
        ("referent", "referente", "courriel referent", "email referent", "referent unique"),
        admin_only=True,
    ),
)
_BY_SYNONYM = {syn: col for col in COLUMNS for syn in col.synonyms}
_LABEL = {col.field: col.label for col in COLUMNS}

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)
_CAF = re.compile(r"^[0-9A-Z]{4,20}$")
_FORMULA = re.compile(r"^[=@\t\r]|^[+-](?![\d\s(])")
_DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d", "%d/%m/%y")


class ImportFileError(DomainError):
    """The file as a whole cannot be read: nothing of it is previewed or written."""

    def __init__(self, message: str):
        super().__init__(message, field="file")


# ---- Reading the file ----


@dataclass
class Table:
    """The rows of a file, with the column each field was found in."""

    positions: dict[str, int]
    headers: list[str]
    ignored: list[str]
    rows: list[tuple[int, list[str]]]  # (line number in the file, cells)
    delimiter: str
    encoding: str
    # The commune column is headed "code INSEE": its 5 digits are INSEE codes, not postal codes.
    insee: bool = False


def decode(content: bytes) -> tuple[str, str]:
    """The text of a file and the name of its encoding, or ImportFileError in French."""
    if not content.strip():
        raise ImportFileError("Le fichier est vide.")
    if content.startswith(b"PK\x03\x04") or content.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            "Ce fichier est un classeur (Excel ou LibreOffice), pas un fichier CSV : ouvrez-le et "
            "enregistrez-le au format « CSV (séparateur : point-virgule) »."
        )
    if b"\x00" in content:
        raise ImportFileError(
            "Ce fichier n'est pas un fichier texte CSV (il est peut-être en UTF-16 ou binaire) : "
            "enregistrez-le au format « CSV UTF-8 »."
        )
    if content.startswith(b"\xef\xbb\xbf"):
        try:
            return content[3:].decode("utf-8"), "UTF-8 (avec BOM)"
        except UnicodeDecodeError:
            raise ImportFileError(_MIXED) from None
    try:
        return content.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    # Not UTF-8: Windows-1252, unless UTF-8 sequences sit beside lone Windows bytes (two files
    # pasted together, or a column edited in another program): no guess would be right.
    if re.search(rb"[\xc3\xc5\xe2][\x80-\xbf]", content):
        raise ImportFileError(_MIXED)
    try:
        return content.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        raise ImportFileError(_MIXED) from None


_MIXED = (
    "Le fichier mélange deux encodages de caractères (UTF-8 et Windows-1252) : les accents ne "
    "peuvent pas être lus sûrement. Enregistrez-le de nouveau au format « CSV UTF-8 »."
)


def header_key(text: str) -> str:
    return normalize(text.replace("°", " ").replace("'", " "))


def read_table(content: bytes, *, admin: bool) -> Table:
    """Parse a CSV file; ImportFileError if it is empty, too large, unreadable or has no known column."""
    if len(content) > MAX_BYTES:
        raise ImportFileError(
            f"Le fichier dépasse {MAX_BYTES // (1024 * 1024)} Mo : coupez-le en plusieurs fichiers."
        )
    text, encoding = decode(content)
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    delimiter = max((";", ",", "\t"), key=first.count)
    if first.count(delimiter) == 0:
        delimiter = ";"
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
        raw_rows = [(reader.line_num, row) for row in reader]
    except csv.Error:
        raise ImportFileError(
            "Ce fichier n'a pas pu être lu comme un fichier CSV : vérifiez qu'il a bien été "
            "enregistré au format CSV."
        ) from None
    raw_rows = [(n, row) for n, row in raw_rows if any(cell.strip() for cell in row)]
    if not raw_rows:
        raise ImportFileError("Le fichier est vide.")
    headers = raw_rows[0][1]
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for i, header in enumerate(headers):
        column = _BY_SYNONYM.get(header_key(header))
        if column is None or column.field in positions or (column.admin_only and not admin):
            if header.strip():
                ignored.append(header.strip())
            continue
        positions[column.field] = i
    if not positions:
        raise ImportFileError(
            "Aucune colonne du fichier n'est reconnue. La première ligne doit nommer les colonnes : "
            + ", ".join(c.label for c in COLUMNS if not c.admin_only or admin)
            + "."
        )
    missing = [c.label for c in COLUMNS if c.required and c.field not in positions]
    if missing:
        raise ImportFileError(
            "Colonne"
            + ("s" if len(missing) > 1 else "")
            + " obligatoire"
            + ("s" if len(missing) > 1 else "")
            + " absente"
            + ("s" if len(missing) > 1 else "")
            + " : "
            + ", ".join(missing)
            + "."
        )
    rows = raw_rows[1:]
    if not rows:
        raise ImportFileError("Le fichier n'a que la ligne des noms de colonnes, aucune personne.")
    if len(rows) > MAX_ROWS:
        raise ImportFileError(
            f"Le fichier a {len(rows)} lignes ; la limite est de {MAX_ROWS} : coupez-le en "
            "plusieurs fichiers."
        )
    insee = "insee" in header_key(headers[positions["commune"]])
    return Table(positions, headers, ignored, rows, delimiter, encoding, insee)


# ---- Checking every row ----


@dataclass
class Row:
    """A row of the file as the preview shows it."""

    line: int
    cells: list[str]
    values: dict[str, str]
    status: ImportRowStatus = ImportRowStatus.CREATE
    errors: dict[str, str] = field(default_factory=dict)
    duplicate: Duplicate | None = None
    clean: dict = field(default_factory=dict)

    @property
    def reason(self) -> str:
        if self.errors:
            return " ; ".join(f"{_LABEL.get(f, f)} : {m}" for f, m in self.errors.items())
        if self.duplicate is not None:
            return self.duplicate.message
        return ""


@dataclass
class Preview:
    table: Table
    rows: list[Row]

    def count(self, status: ImportRowStatus) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @property
    def counts(self) -> dict[ImportRowStatus, int]:
        return {s: self.count(s) for s in ImportRowStatus}

    @property
    def columns(self) -> list[str]:
        return [c.field for c in COLUMNS if c.field in self.table.positions]


class CommuneIndex:
    """The Gers communes in memory: by INSEE code, postal code, name and former name."""

    def __init__(self) -> None:
        self.by_code: dict[str, Commune] = {}
        self.by_postal: dict[str, list[Commune]] = {}
        self.by_name: dict[str, list[Commune]] = {}
        self.close: dict[str, list[Commune]] = {}
        for commune in db.session.scalars(select(Commune)):
            self.by_code[commune.code_insee] = commune
            for postal in commune.codes_postaux.split(";"):
                self.by_postal.setdefault(postal.strip(), []).append(commune)
            self.by_name.setdefault(commune.nom_normalise, []).append(commune)
            for old in (commune.anciens_noms or "").split(";"):
                if normalize(old):
                    self.by_name.setdefault(normalize(old), []).append(commune)

    def resolve(
        self, text: str, postal: str = "", *, insee: bool = False
    ) -> tuple[Commune | None, str]:
        """The commune `text` names (postal code, INSEE code, name, "Name (32000)"), else a reason.

        Five digits are read as a postal code (what people write), or as an INSEE code when the
        column says so or no commune has that postal code.
        """
        raw = text.strip()
        match = re.fullmatch(r"(.+?)\s*\(?(\d{5})\)?", raw)
        if match and not raw.isdigit():
            raw, postal = match.group(1), postal or match.group(2)
        if re.fullmatch(r"\d{5}", raw):
            found = self.by_postal.get(raw, [])
            if raw in self.by_code and (insee or not found):
                return self.by_code[raw], ""
            if len(found) == 1:
                return found[0], ""
            if found:
                names = ", ".join(sorted(c.nom for c in found)[:6])
                more = "…" if len(found) > 6 else ""
                return None, (
                    f"le code postal {raw} est celui de {len(found)} communes ({names}{more}) : "
                    "indiquez le nom de la commune."
                )
            return None, f"aucune commune du Gers n'a le code {raw}."
        key = normalize(raw)
        found = self.by_name.get(key, [])
        if len(found) > 1 and postal:
            found = [c for c in found if postal in c.codes_postaux.split(";")]
        if len(found) == 1:
            return found[0], ""
        # The forgiving search (typos, missing words, "st" for "saint") names the close matches;
        # a file repeats its mistakes, so each is searched once.
        if key not in self.close:
            self.close[key] = search_communes(raw, limit=3)
        close = self.close[key]
        if close:
            names = ", ".join(f"« {c.nom} »" for c in close)
            return None, f"commune inconnue dans le Gers : « {raw} ». Vouliez-vous dire {names} ?"
        return None, f"commune inconnue dans le Gers : « {raw} »."


def clean_phone(text: str) -> tuple[str | None, str]:
    """A French phone number written "06 12 34 56 78", or a reason. A spreadsheet that took the
    number for a figure dropped its first 0: it is put back."""
    digits = re.sub(r"[\s.\-/()]", "", text)
    if digits.startswith("+33"):
        digits = "0" + digits[3:]
    elif digits.startswith("0033"):
        digits = "0" + digits[4:]
    if re.fullmatch(r"[1-9]\d{8}", digits):
        digits = "0" + digits
    if not re.fullmatch(r"0[1-9]\d{8}", digits):
        return None, "numéro de téléphone invalide (10 chiffres, par exemple 06 12 34 56 78)."
    return " ".join(digits[i : i + 2] for i in range(0, 10, 2)), ""


def clean_date(text: str, today: date) -> tuple[date | None, str]:
    raw = text.strip()
    # A spreadsheet may add a time to a date ("12/03/1985 00:00:00").
    raw = raw.split(" ")[0] if re.fullmatch(r"\S+ \d{1,2}:\d{2}(:\d{2})?", raw) else raw
    for fmt in _DATE_FORMATS:
        try:
            value = datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
        if fmt == "%d/%m/%y" and value > today:
            value = value.replace(year=value.year - 100)
        if value > today:
            return None, "date dans le futur."
        if value.year < 1900:
            return None, "date trop ancienne."
        return value, ""
    return None, "date illisible (écrivez-la jj/mm/aaaa, par exemple 24/05/1987)."


class Checker:
    """Checks rows against the base (one index read once) and against each other."""

    def __init__(self, actor: User, referent: User | None) -> None:
        self.actor = actor
        self.referent = referent
        self.communes = CommuneIndex()
        self.duplicates = DuplicateIndex.load()
        self.referents: dict[str, int] = {
            (email or "").lower(): uid
            for uid, email in db.session.execute(
                select(User.id, User.email).where(
                    User.role == Role.REFERENT, User.active.is_(True), User.email.is_not(None)
                )
            )
        }
        self.today = datetime.now(UTC).date()
        self.seen_lines: dict[int, int] = {}  # id of a row's Known → its line

    def check(
        self, line: int, cells: list[str], positions: dict[str, int], *, insee: bool = False
    ) -> Row:
        values = {f: (cells[i].strip() if i < len(cells) else "") for f, i in positions.items()}
        row = Row(line, cells, values)
        errors = row.errors
        for f, value in values.items():
            if _FORMULA.match(value):
                errors[f] = "formule de tableur refusée : saisissez la valeur elle-même."
        if errors:
            row.status = ImportRowStatus.ERROR
            return row
        clean: dict = {}
        for f, limit in (("last_name", 80), ("first_name", 80)):
            value = " ".join(values.get(f, "").split())
            if not value:
                errors[f] = "obligatoire."
            elif len(value) > limit:
                errors[f] = f"{limit} caractères au plus."
            elif not re.search(r"[^\W\d_]", value):
                errors[f] = "ce n'est pas un nom."
            clean[f] = value
        commune_text = values.get("commune", "")
        postal = re.sub(r"\s", "", values.get("postal_code", ""))
        commune = None
        if not commune_text:
            errors["commune"] = "obligatoire (nom, code postal ou code INSEE)."
        else:
            commune, reason = self.communes.resolve(commune_text, postal, insee=insee)
            if commune is None:
                errors["commune"] = reason
        clean["commune_code"] = commune.code_insee if commune else None
        if postal:
            if not re.fullmatch(r"\d{5}", postal):
                errors["postal_code"] = "un code postal a 5 chiffres."
            elif commune is not None and postal not in commune.codes_postaux.split(";"):
                errors["postal_code"] = (
                    f"{postal} n'est pas un code postal de {commune.nom} "
                    f"({commune.codes_postaux.replace(';', ', ')})."
                )
        clean["postal_code"] = postal or None
        address = " ".join(values.get("street_address", "").split())
        if len(address) > 200:
            errors["street_address"] = "200 caractères au plus."
        clean["street_address"] = address or None
        birth = None
        if values.get("birth_date"):
            birth, reason = clean_date(values["birth_date"], self.today)
            if reason:
                errors["birth_date"] = reason
        clean["birth_date"] = birth
        email = values.get("email", "").lower() or None
        if email and (len(email) > 254 or not _EMAIL.match(email)):
            errors["email"] = "adresse électronique invalide."
        elif email and email in self.duplicates.other_emails:
            errors["email"] = (
                "cette adresse est déjà celle d'un autre compte (tuteur ou professionnel)."
            )
        clean["email"] = email
        phone = None
        if values.get("phone"):
            phone, reason = clean_phone(values["phone"])
            if reason:
                errors["phone"] = reason
        clean["phone"] = phone
        caf = re.sub(r"\s", "", values.get("caf_number", "")).upper() or None
        if caf and not _CAF.match(caf):
            errors["caf_number"] = "de 4 à 20 chiffres ou lettres."
        clean["caf_number"] = caf
        referent_id = self.referent.id if self.referent is not None else None
        if self.actor.role == Role.ADMIN and values.get("referent_email"):
            referent_id = self.referents.get(values["referent_email"].lower())
            if referent_id is None:
                errors["referent_email"] = (
                    f"aucun référent actif n'a l'adresse « {values['referent_email']} »."
                )
        elif referent_id is None:
            errors["referent_email" if "referent_email" in positions else "commune"] = (
                "référent manquant : choisissez-le avant l'envoi, ou indiquez son adresse "
                "électronique dans une colonne « référent »."
            )
        clean["referent_id"] = referent_id
        if errors:
            row.status = ImportRowStatus.ERROR
            return row
        found = self.duplicates.find(
            email=email,
            phone=phone,
            caf_number=caf,
            first_name=clean["first_name"],
            last_name=clean["last_name"],
            birth_date=birth,
            commune_code=clean["commune_code"],
            referent_id=referent_id,
        )
        if found is not None:
            known, criterion = found
            if known.user_id < 0:
                row.status = ImportRowStatus.ERROR
                errors["last_name"] = (
                    f"même personne que la ligne {self.seen_lines[known.user_id]} ({criterion})."
                )
                return row
            row.status = ImportRowStatus.EXISTS
            row.duplicate = Duplicate(known, criterion, may_see(self.actor, known))
            return row
        # Later rows are checked against this one (a negative id: not yet in the base).
        pending = Known(-line, referent_id or 0, f"{clean['first_name']} {clean['last_name']}", "")
        self.seen_lines[-line] = line
        self.duplicates.add(
            pending,
            email=email,
            phone=phone,
            caf_number=caf,
            first_name=clean["first_name"],
            last_name=clean["last_name"],
            birth_date=birth,
            commune_code=clean["commune_code"],
        )
        row.clean = clean
        return row


def preview(
    content: bytes,
    *,
    actor: User,
    referent: User | None,
    progress: Progress | None = None,
) -> Preview:
    """Every row of the file with its status and reasons; nothing is written."""
    admin = actor.role == Role.ADMIN
    table = read_table(content, admin=admin)
    if not admin:
        referent = actor
    checker = Checker(actor, referent)
    rows: list[Row] = []
    total = len(table.rows)
    for i, (line, cells) in enumerate(table.rows, 1):
        rows.append(checker.check(line, cells, table.positions, insee=table.insee))
        if progress is not None and (i % BATCH == 0 or i == total):
            progress("vérification", i, total)
    return Preview(table, rows)


# ---- The upload, the import, the report ----


def upload(
    content: bytes, filename: str, *, actor: User, referent: User | None
) -> BeneficiaryImport:
    """Keep a file for its preview, after checking it can be read at all; the caller commits."""
    if actor.role not in (Role.REFERENT, Role.ADMIN):
        raise DomainError("Seuls les référents et l'administration importent des bénéficiaires.")
    if actor.role == Role.REFERENT:
        referent = actor
    elif referent is not None and (referent.role != Role.REFERENT or not referent.active):
        raise DomainError("Choisissez un référent actif.", field="referent")
    table = read_table(content, admin=actor.role == Role.ADMIN)
    if actor.role == Role.ADMIN and referent is None and "referent_email" not in table.positions:
        raise DomainError(
            "Choisissez le référent de ces personnes, ou ajoutez au fichier une colonne "
            "« référent » avec son adresse électronique.",
            field="referent",
        )
    item = BeneficiaryImport(
        uploaded_by_id=actor.id,
        referent_id=referent.id if referent is not None else None,
        filename=(filename or "")[-200:],
        content=content,
        row_count=len(table.rows),
    )
    db.session.add(item)
    db.session.flush()
    return item


@dataclass(frozen=True)
class Outcome:
    created: int
    existing: int
    rejected: int
    invited: int


def run(
    item: BeneficiaryImport,
    *,
    actor: User,
    progress: Progress | None = None,
) -> Outcome:
    """Create the valid rows of an uploaded file; the caller commits once (all rows or none)."""
    return run_with_preview(item, actor=actor, progress=progress)[0]


def run_with_preview(
    item: BeneficiaryImport,
    *,
    actor: User,
    progress: Progress | None = None,
) -> tuple[Outcome, Preview]:
    """`run`, and the rows as they were checked just before the import (for a report)."""
    if item.imported_at is not None:
        raise Conflict("Ce fichier a déjà été importé : envoyez-le de nouveau pour le réimporter.")
    result = preview(item.content, actor=actor, referent=item.referent, progress=progress)
    created = create_rows(
        [r for r in result.rows if r.status == ImportRowStatus.CREATE],
        actor=actor,
        progress=progress,
    )
    item.imported_at = datetime.now(UTC)
    item.created_count = len(created)
    invited = invite(created, actor=actor, progress=progress)
    audit.note(
        AccessAction.IMPORT,
        target=f"import n° {item.id} : {len(created)} créés",
        actor=actor,
    )
    outcome = Outcome(
        len(created),
        result.count(ImportRowStatus.EXISTS),
        result.count(ImportRowStatus.ERROR),
        invited,
    )
    return outcome, result


def create_rows(rows: list[Row], *, actor: User, progress: Progress | None = None) -> list[int]:
    """Insert the accounts and profiles of checked rows, a batch at a time; their ids.

    Multi-row INSERTs (`db.insert_many`), with the ids taken beforehand (RETURNING in parameter
    order would go row by row); the columns' defaults apply as for any insert."""
    now = datetime.now(UTC)
    ids: list[int] = []
    total = len(rows)
    for start in range(0, total, BATCH):
        batch = rows[start : start + BATCH]
        new_ids = allocate_ids(db.session, "user_account", len(batch))
        insert_many(
            db.session,
            User.__table__,
            [
                {
                    "id": uid,
                    "role": Role.MENTEE,
                    "email": r.clean["email"],
                    "first_name": r.clean["first_name"],
                    "last_name": r.clean["last_name"],
                    "phone": r.clean["phone"],
                    "street_address": r.clean["street_address"],
                    "postal_code": r.clean["postal_code"],
                    "created_by_id": actor.id,
                    "active": True,
                    "session_version": 1,
                    "created_at": now,
                    # Informed by their référent, who records their consent (as accounts.invite).
                    "consent_at": now,
                    "consent_by_id": actor.id,
                }
                for uid, r in zip(new_ids, batch, strict=True)
            ],
        )
        insert_many(
            db.session,
            MenteeProfile.__table__,
            [
                {
                    "user_id": uid,
                    "referent_id": r.clean["referent_id"],
                    "commune_code": r.clean["commune_code"],
                    "birth_date": r.clean["birth_date"],
                    "caf_number": r.clean["caf_number"],
                }
                for uid, r in zip(new_ids, batch, strict=True)
            ],
        )
        ids.extend(new_ids)
        if progress is not None:
            progress("création", len(ids), total)
    return ids


def invite(user_ids: list[int], *, actor: User, progress: Progress | None = None) -> int:
    """Queue the invitation of each created person who has an email; how many."""
    sent = 0
    total = len(user_ids)
    for start in range(0, total, BATCH):
        chunk = user_ids[start : start + BATCH]
        users = db.session.scalars(
            select(User).where(User.id.in_(chunk), User.email.is_not(None))
        ).all()
        sent += queue_many(
            "invitation",
            [(user, {"token": accounts.password_token(user), "inviter": actor}) for user in users],
        )
        if progress is not None:
            progress("invitations", min(start + BATCH, total), total)
    return sent


def report_csv(result: Preview) -> str:
    """The rejected rows as the file had them, plus a « motif du refus » column (`;`, UTF-8 BOM)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([*result.table.headers, "motif du refus", "ligne"])
    width = len(result.table.headers)
    for row in result.rows:
        if row.status != ImportRowStatus.ERROR:
            continue
        cells = [_neutralise(c) for c in (row.cells + [""] * width)[:width]]
        writer.writerow([*cells, row.reason, row.line])
    return "\ufeff" + out.getvalue()


def _neutralise(cell: str) -> str:
    """A cell a spreadsheet would run as a formula is written as text (leading apostrophe)."""
    return "'" + cell if _FORMULA.match(cell) else cell


def visible_imports(actor: User):
    """The files a person uploaded (nobody else's)."""
    return select(BeneficiaryImport).where(BeneficiaryImport.uploaded_by_id == actor.id)


def recent_imports(actor: User, limit: int = 10) -> list[BeneficiaryImport]:
    """The files a person uploaded lately, newest first (without their content)."""
    return list(
        db.session.scalars(
            visible_imports(actor)
            .options(defer(BeneficiaryImport.content))
            .order_by(BeneficiaryImport.created_at.desc(), BeneficiaryImport.id.desc())
            .limit(limit)
        )
    )


def referent_by_email(email: str) -> User | None:
    return db.session.scalars(
        select(User).where(
            func.lower(User.email) == (email or "").strip().lower(), User.role == Role.REFERENT
        )
    ).first()


__all__ = [
    "COLUMNS",
    "MAX_BYTES",
    "MAX_ROWS",
    "Checker",
    "CommuneIndex",
    "ImportFileError",
    "Outcome",
    "Preview",
    "Row",
    "clean_date",
    "clean_phone",
    "decode",
    "name_key",
    "preview",
    "read_table",
    "report_csv",
    "run",
    "upload",
]
