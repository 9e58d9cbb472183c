"""Is this person already followed? Same email, phone, numéro allocataire, or name and birth date.

One index of every beneficiary, read in one query, serves the import of a file (thousands of rows
checked against it and against each other) and the creation of a single beneficiary. What the
person who asks may learn of a match is decided here too: their own beneficiary (or, for the
admin, anyone) is named with a link; someone else's is only "already followed by <service>".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from tutorat.extensions import db
from tutorat.models import MenteeProfile, Role, User
from tutorat.services.errors import DomainError

OTHER_SERVICE = "un autre service du Département"


def name_key(text: str) -> str:
    """Names compared without case, accents, hyphens or extra spaces ("Marie-Hélène" = "MARIE HELENE")."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def phone_key(text: str | None) -> str:
    """A French phone number as its 10 digits (0612345678), whatever its spaces, dots or +33."""
    digits = re.sub(r"\D", "", text or "")
    if digits.startswith("0033"):
        digits = "0" + digits[4:]
    elif digits.startswith("33") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits


@dataclass(frozen=True)
class Known:
    """A beneficiary already in the base, as the index holds them."""

    user_id: int
    referent_id: int
    name: str
    service: str


@dataclass(frozen=True)
class Duplicate:
    """A match: who, on which criterion, and whether the person asking may see them."""

    known: Known
    criterion: str
    visible: bool

    @property
    def message(self) -> str:
        if self.visible:
            return f"Cette personne est déjà suivie ({self.criterion}) : {self.known.name}."
        return f"Cette personne est déjà suivie par {self.known.service}."


class DuplicateIndex:
    """Every beneficiary by email, phone, numéro allocataire, name and birth date (and the emails
    of every other account, which a beneficiary may not take)."""

    def __init__(self) -> None:
        self.by_email: dict[str, Known] = {}
        self.by_phone: dict[str, Known] = {}
        self.by_caf: dict[str, Known] = {}
        self.by_name_birth: dict[tuple[str, str, date], Known] = {}
        # Without a birth date, the same name and commune in the same caseload is taken for the
        # same person: importing a file twice must create nothing the second time.
        self.by_name_place: dict[tuple[str, str, str | None, int], Known] = {}
        self.other_emails: set[str] = set()

    @classmethod
    def load(cls) -> DuplicateIndex:
        index = cls()
        referent = aliased(User)
        rows = db.session.execute(
            select(
                User.id,
                User.email,
                User.phone,
                User.first_name,
                User.last_name,
                MenteeProfile.referent_id,
                MenteeProfile.caf_number,
                MenteeProfile.birth_date,
                MenteeProfile.commune_code,
                referent.organisation,
            )
            .join(MenteeProfile, MenteeProfile.user_id == User.id)
            .join(referent, referent.id == MenteeProfile.referent_id)
            .where(User.anonymised_at.is_(None))
        )
        for uid, email, phone, first, last, ref_id, caf, birth, commune, organisation in rows:
            known = Known(uid, ref_id, f"{first} {last}".strip(), organisation or OTHER_SERVICE)
            index.add(
                known,
                email=email,
                phone=phone,
                caf_number=caf,
                first_name=first,
                last_name=last,
                birth_date=birth,
                commune_code=commune,
            )
        index.other_emails = {
            e
            for (e,) in db.session.execute(
                select(func.lower(User.email)).where(
                    User.role != Role.MENTEE, User.email.is_not(None)
                )
            )
        }
        return index

    def add(
        self,
        known: Known,
        *,
        email: str | None,
        phone: str | None,
        caf_number: str | None,
        first_name: str,
        last_name: str,
        birth_date: date | None,
        commune_code: str | None,
    ) -> None:
        if email:
            self.by_email.setdefault(email.lower(), known)
        if phone_key(phone):
            self.by_phone.setdefault(phone_key(phone), known)
        if caf_number:
            self.by_caf.setdefault(caf_number, known)
        names = (name_key(last_name), name_key(first_name))
        if birth_date is not None:
            self.by_name_birth.setdefault((*names, birth_date), known)
        self.by_name_place.setdefault((*names, commune_code, known.referent_id), known)

    def find(
        self,
        *,
        email: str | None,
        phone: str | None,
        caf_number: str | None,
        first_name: str,
        last_name: str,
        birth_date: date | None,
        commune_code: str | None,
        referent_id: int | None,
    ) -> tuple[Known, str] | None:
        """The beneficiary this person already is, with the criterion that matched, or None."""
        names = (name_key(last_name), name_key(first_name))
        checks: list[tuple[Known | None, str]] = [
            (self.by_caf.get(caf_number) if caf_number else None, "même numéro allocataire"),
            (self.by_email.get(email.lower()) if email else None, "même adresse électronique"),
            (
                self.by_phone.get(phone_key(phone)) if phone_key(phone) else None,
                "même numéro de téléphone",
            ),
            (
                self.by_name_birth.get((*names, birth_date)) if birth_date else None,
                "mêmes nom, prénom et date de naissance",
            ),
        ]
        if birth_date is None and referent_id is not None:
            checks.append(
                (
                    self.by_name_place.get((*names, commune_code, referent_id)),
                    "mêmes nom, prénom et commune",
                )
            )
        for known, criterion in checks:
            if known is not None:
                return known, criterion
        return None


def may_see(actor: User, known: Known) -> bool:
    """The admin sees every beneficiary; a référent only their own caseload."""
    return actor.role == Role.ADMIN or known.referent_id == actor.id


def check_new_mentee(
    actor: User,
    *,
    email: str | None,
    phone: str | None,
    first_name: str,
    last_name: str,
    referent_id: int,
    caf_number: str | None = None,
    birth_date: date | None = None,
    commune_code: str | None = None,
) -> None:
    """Refuse (DomainError) to create a beneficiary who is already followed."""
    found = DuplicateIndex.load().find(
        email=email,
        phone=phone,
        caf_number=caf_number,
        first_name=first_name,
        last_name=last_name,
        birth_date=birth_date,
        commune_code=commune_code,
        referent_id=referent_id if commune_code else None,
    )
    if found is not None:
        raise DuplicateError(Duplicate(found[0], found[1], may_see(actor, found[0])))


class DuplicateError(DomainError):
    """A beneficiary who is already followed; `duplicate` says who, if the actor may know."""

    def __init__(self, duplicate: Duplicate):
        super().__init__(duplicate.message)
        self.duplicate = duplicate


__all__ = [
    "Duplicate",
    "DuplicateError",
    "DuplicateIndex",
    "Known",
    "check_new_mentee",
    "may_see",
    "name_key",
    "phone_key",
]
