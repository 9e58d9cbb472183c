"""The registry of every kind of email: declared once here, sent by `notifications.queue_email`.

Each kind names its subject (a French `str.format` template over the email's context), its text
template (`templates/email/<name>.txt`), the preference that lets a person turn it off, or none when
it concerns the security of the account (invitation, new password), which is always sent.
The README (« Ajouter un type de courriel ») says how to add one.
"""

from __future__ import annotations

from dataclasses import dataclass

from tutorat.models import Role, User


@dataclass(frozen=True)
class Preference:
    """A choice on the account page ("Les courriels que vous recevez"), stored as a User column."""

    field: str  # the boolean column of User, also the form field's name
    label: str  # the checkbox's label
    export_key: str  # its key in the person's data export (privacy.my_data)
    roles: tuple[Role, ...] = ()  # who is offered it; () = everyone

    def offered_to(self, role: str) -> bool:
        return not self.roles or role in self.roles


PROPOSALS = Preference(
    "notify_proposals",
    "Les propositions de binôme, les réponses et les confirmations",
    "propositions",
)
REMINDERS = Preference(
    "notify_reminders",
    "Les rappels : une réponse attendue, une rencontre prévue le lendemain",
    "rappels",
)
DIGEST = Preference(
    "notify_digest",
    "Le résumé de la semaine (référents)",
    "resume_hebdomadaire",
    roles=(Role.REFERENT,),
)
# A safeguarding matter: its own choice, so that turning off the news of proposals never silences it.
REPORTS = Preference(
    "notify_reports",
    "Les signalements sur un binôme : problème, demande d’arrêt (référents)",
    "signalements",
    roles=(Role.REFERENT,),
)
PREFERENCES: tuple[Preference, ...] = (PROPOSALS, REMINDERS, DIGEST, REPORTS)


@dataclass(frozen=True)
class EmailKind:
    """One kind of email. `preference` is None exactly when it concerns the account's security."""

    name: str
    subject: str  # French; `{field}` placeholders are filled from the context passed to queue_email
    preference: Preference | None
    account_security: bool = False
    label: str = ""  # how the account page names a kind that is always sent
    # About a tutor application (services/vetting.py): to a person who has no account, hence no
    # preferences, yet (or who has just been given one).
    applicant: bool = False
    # False for a notice that a letter would bring too late (a meeting tomorrow): email and SMS only.
    by_letter: bool = True

    def __post_init__(self) -> None:
        # A security email cannot be turned off, an application's neither (nobody could), and
        # every other one can.
        if (self.account_security or self.applicant) != (self.preference is None):
            raise ValueError(f"{self.name}: account_security or applicant iff no preference")
        if self.account_security and self.applicant:
            raise ValueError(f"{self.name}: account_security or applicant, not both")
        if self.account_security and not self.label:
            raise ValueError(f"{self.name}: a security email needs a label for the account page")

    @property
    def template(self) -> str:
        return f"email/{self.name}.txt"

    def subject_for(self, context: dict[str, object]) -> str:
        return self.subject.format_map(context)

    def wanted_by(self, user: User) -> bool:
        return self.preference is None or bool(getattr(user, self.preference.field))


def _kinds(*kinds: EmailKind) -> dict[str, EmailKind]:
    return {kind.name: kind for kind in kinds}


KINDS: dict[str, EmailKind] = _kinds(
    # A référent proposes a binôme.
    EmailKind("proposal_tutor", "Une personne pourrait avoir besoin de vous", PROPOSALS),
    EmailKind("proposal_mentee", "Un tuteur vous est proposé", PROPOSALS),
    # Answers, to the référent.
    EmailKind("pair_accepted", "Un binôme attend votre confirmation", PROPOSALS),
    EmailKind("pair_answer", "Une réponse à votre proposition de binôme", PROPOSALS),
    EmailKind("pair_declined", "Une proposition de binôme a été refusée", PROPOSALS),
    # The référent confirms, then the binôme ends.
    EmailKind("pair_confirmed_tutor", "Votre binôme commence", PROPOSALS),
    EmailKind("pair_confirmed_mentee", "Votre binôme commence", PROPOSALS),
    EmailKind("pair_ended", "Votre binôme est terminé", PROPOSALS),
    # An account is deactivated.
    EmailKind(
        "pair_person_deactivated",
        "Une personne d'un binôme actif n'est plus inscrite",
        PROPOSALS,
    ),
    EmailKind("pair_withdrawn", "Une proposition de binôme est retirée", PROPOSALS),
    # The admin moves beneficiaries to another référent (services/caseload.py::transfer).
    EmailKind("caseload_received", "Des bénéficiaires vous sont confiés", PROPOSALS),
    EmailKind("caseload_given", "Vos bénéficiaires sont suivis par un autre référent", PROPOSALS),
    EmailKind("referent_changed", "Votre référent change", PROPOSALS),
    # The mentee or the tutor pauses, asks to stop, reports a problem (services/voices.py).
    EmailKind("pair_paused", "Votre binôme est en pause", PROPOSALS),
    EmailKind("pair_resumed", "Votre binôme reprend", PROPOSALS),
    EmailKind("pair_stop_other", "Un arrêt de votre binôme est demandé", PROPOSALS),
    EmailKind(
        "pair_report_referent",
        "À traiter : un signalement sur le binôme n° {pair.id}",
        REPORTS,
    ),
    # Cron jobs (flask run-reminders, flask send-digests).
    EmailKind("reminder", "Rappel : une proposition de binôme attend votre réponse", REMINDERS),
    EmailKind("expired", "Une proposition de binôme est annulée faute de réponse", REMINDERS),
    EmailKind(
        "waiting_candidate",
        "Un tuteur est possible pour une demande en liste d'attente",
        PROPOSALS,
    ),
    # The loop (services/loop.py): she said yes at the end of her binôme; by email or letter.
    EmailKind("former_mentee_invitation", "Aider à votre tour : devenir tuteur ?", PROPOSALS),
    EmailKind("checkin", "Comment se passe le tutorat ?", REMINDERS),
    EmailKind(
        "meeting_tomorrow",
        "Rappel : votre rencontre de tutorat demain",
        REMINDERS,
        by_letter=False,
    ),
    EmailKind("digest", "Tutorat : votre résumé de la semaine {week}", DIGEST),
    # The account's security: always sent.
    EmailKind(
        "invitation",
        "Votre compte Tutorat",
        None,
        account_security=True,
        label="invitation",
    ),
    # Tutor applications: the person has no account (or a new one) and cannot choose; always sent.
    EmailKind(
        "application_received",
        "Votre candidature pour devenir tuteur",
        None,
        applicant=True,
    ),
    EmailKind(
        "application_invitation",
        "Et si vous deveniez tuteur ?",
        None,
        applicant=True,
    ),
    EmailKind(
        "application_validated",
        "Votre candidature de tuteur est validée",
        None,
        applicant=True,
    ),
    EmailKind(
        "application_refused",
        "Votre candidature de tuteur",
        None,
        applicant=True,
    ),
    EmailKind(
        "password_reset",
        "Choisir un nouveau mot de passe",
        None,
        account_security=True,
        label="nouveau mot de passe",
    ),
)


def kind(name: str) -> EmailKind:
    """The registered kind, or a loud error: an email nobody declared is never sent."""
    try:
        return KINDS[name]
    except KeyError:
        raise LookupError(f"Type de courriel inconnu : {name!r} (à déclarer dans KINDS)") from None


def preferences_for(role: str) -> tuple[Preference, ...]:
    return tuple(p for p in PREFERENCES if p.offered_to(role))


def security_labels() -> list[str]:
    """What the account page lists as always sent."""
    return [k.label for k in KINDS.values() if k.account_security]
