"""How a person is reached: postal address, phone number (checked with `phonenumbers`), and the
ways they accept (email, SMS, courrier — several allowed)."""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from tutorat.extensions import db
from tutorat.models import Commune, User
from tutorat.services.errors import DomainError

_POSTAL = re.compile(r"^\d{5}$")


def parse_phone(raw: str):
    """A French (or international, with +) number; DomainError when it is not a real number."""
    try:
        number = phonenumbers.parse(raw, "FR")
    except NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise DomainError(
            "Ce numéro de téléphone n'existe pas : vérifiez-le (par exemple 06 12 34 56 78).",
            field="phone",
        )
    return number


def is_mobile(number) -> bool:
    return phonenumbers.number_type(number) in (
        PhoneNumberType.MOBILE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


def mobile_e164(raw: str | None) -> str | None:
    """The E.164 form of a mobile number (+33612345678), or None when it is not one."""
    if not raw:
        return None
    try:
        number = parse_phone(raw)
    except DomainError:
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164) if is_mobile(number) else None


def display_phone(number) -> str:
    """As French people write it: 06 12 34 56 78 (international numbers keep their +)."""
    if number.country_code == 33:
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


def commune_of(user: User) -> Commune | None:
    profile = user.mentee_profile or user.tutor_profile
    return profile.commune if profile is not None else None


def check_postal_code(postal_code: str, commune: Commune | None) -> None:
    if not _POSTAL.match(postal_code):
        raise DomainError(
            "Le code postal compte 5 chiffres, par exemple 32000.", field="postal_code"
        )
    if commune is None:
        return
    codes = [c for c in commune.codes_postaux.split(";") if c]
    if codes and postal_code not in codes:
        raise DomainError(
            f"Le code postal {postal_code} n'est pas celui de {commune.nom} "
            f"({', '.join(codes)}). Corrigez le code postal, ou la commune dans le profil.",
            field="postal_code",
        )


def has_postal_address(user: User) -> bool:
    return bool(user.street_address and user.postal_code and commune_of(user) is not None)


def postal_lines(user: User) -> list[str]:
    """The address block of a letter: name, street, postal code and commune in capitals."""
    commune = commune_of(user)
    lines = [user.full_name]
    if user.street_address:
        lines.extend(line.strip() for line in user.street_address.splitlines() if line.strip())
    if user.postal_code and commune is not None:
        lines.append(f"{user.postal_code} {commune.nom.upper()}")
    return lines


def update_contact(
    user: User,
    *,
    street_address: str | None,
    postal_code: str | None,
    phone: str | None,
    contact_email: bool,
    contact_sms: bool,
    contact_letter: bool,
) -> User:
    """Record how `user` is reached; every check first, nothing written when one refuses."""
    street = (street_address or "").strip() or None
    code = (postal_code or "").strip().replace(" ", "") or None
    raw_phone = (phone or "").strip() or None
    if street and len(street) > 200:
        raise DomainError("L'adresse ne doit pas dépasser 200 caractères.", field="street_address")
    if code:
        check_postal_code(code, commune_of(user))
    if bool(street) != bool(code):
        raise DomainError(
            "Indiquez l'adresse (numéro et rue) et le code postal, ou aucun des deux.",
            field="street_address" if not street else "postal_code",
        )
    number = parse_phone(raw_phone) if raw_phone else None
    if contact_email and not user.email:
        raise DomainError(
            "Sans adresse électronique, cette personne ne peut pas recevoir de courriels.",
            field="contact_email",
        )
    if contact_sms and (number is None or not is_mobile(number)):
        raise DomainError(
            "Pour recevoir des SMS, indiquez un numéro de téléphone portable (06 ou 07).",
            field="phone",
        )
    if contact_letter and not (street and code):
        raise DomainError(
            "Pour recevoir des courriers, indiquez l'adresse postale (rue et code postal).",
            field="street_address",
        )
    if contact_letter and commune_of(user) is None and (user.mentee_profile or user.tutor_profile):
        raise DomainError(
            "Pour recevoir des courriers, indiquez d'abord la commune dans le profil.",
            field="postal_code",
        )
    if not (contact_email or contact_sms or contact_letter):
        raise DomainError("Choisissez au moins une façon d'être prévenu.", field="contact_email")
    if user.tutor_profile is not None and not contact_email and not (street and code):
        # Without emails Tutorat writes by post; no référent follows a tutor to notice the gap.
        raise DomainError(
            "Sans courriels, Tutorat vous écrit par courrier : indiquez votre adresse postale "
            "(rue et code postal), ou gardez les courriels.",
            field="street_address",
        )
    user.street_address = street
    user.postal_code = code
    user.phone = display_phone(number) if number is not None else None
    user.contact_email = contact_email
    if contact_sms and not user.contact_sms:
        # Ticking SMS again lifts an earlier STOP.
        user.sms_stopped_at = None
    user.contact_sms = contact_sms
    user.contact_letter = contact_letter
    db.session.flush()
    return user
