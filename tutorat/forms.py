"""Flask-WTF forms (CSRF on every POST), with French messages."""

from __future__ import annotations

import re
from typing import TypeVar

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.utils import unset_value
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)

from tutorat import vocab
from tutorat.models import Commune, MenteeProfile, Role, TutorProfile
from tutorat.services import emails, profiles, reference, vetting
from tutorat.services.reference import MetierHit

REQUIRED = "Ce champ est obligatoire."


def no_control_chars(form, field):
    """Refuse NUL and other control characters (PostgreSQL refuses NUL; none is ever meant)."""
    value = field.data or ""
    if isinstance(value, str) and any(ord(c) < 32 and c not in "\r\n\t" for c in value):
        field.errors = []
        raise StopValidation("Ce texte contient des caractères invisibles non autorisés.")


# Characters that break a line (or hide in one): CR, LF, tab and the other C0 controls, DEL, the
# C1 controls (NEL…), Unicode's line and paragraph separators, and the invisible ones (zero-width
# spaces and joiners, word joiner, bidirectional marks and overrides, byte-order mark) that make
# two names look alike or reorder what is shown.
_NOT_ON_ONE_LINE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2028\u2029\u2060-\u2064\u2066-\u2069\ufeff]"
)


def one_line(form, field):
    """Refuse line breaks and control characters in a one-line field (a name, a place…).

    They have no place there, and once stored they can split an email header, a CSV export
    line or a log line, or hide part of a value on screen.
    """
    value = field.data
    if isinstance(value, str) and _NOT_ON_ONE_LINE.search(value):
        field.errors = []
        raise StopValidation(
            "Ce champ tient sur une seule ligne : retirez les retours à la ligne, tabulations "
            "et caractères invisibles."
        )


def is_one_line(field_class: type) -> bool:
    """A text field typed on one line: every StringField (email, password, hidden…) but a textarea."""
    return issubclass(field_class, StringField) and not issubclass(field_class, TextAreaField)


class Form(FlaskForm):
    """Base form: French messages; every text field checked for control characters first, and
    every one-line field for line breaks."""

    class Meta:
        # WTForms' own messages in French (WTF_I18N_ENABLED is off: no Flask-Babel).
        locales = ("fr",)

        def bind_field(self, form, unbound_field, options):
            if issubclass(unbound_field.field_class, StringField):
                first = one_line if is_one_line(unbound_field.field_class) else no_control_chars
                options["validators"] = [first, *unbound_field.kwargs.get("validators", ())]
            return unbound_field.bind(form=form, **options)


def _too_long(n: int) -> str:
    return f"{n} caractères au maximum."


class ChoiceField(RadioField):
    """Radio buttons; a value not in the list gets a message that says what to do."""

    def pre_validate(self, form):
        if self.data not in {c.value for c in self.choices}:
            raise ValidationError("Choisissez une des options proposées.")


class ListField(SelectField):
    def pre_validate(self, form):
        if self.data not in {c.value for c in self.choices}:
            raise ValidationError("Choisissez une des options de la liste.")


class NumberField(IntegerField):
    """An integer with a French message when what was typed is not a whole number."""

    data: int | None

    def __init__(self, *args, invalid: str = "Indiquez un nombre entier.", **kwargs):
        super().__init__(*args, **kwargs)
        self.invalid = invalid

    def process_formdata(self, valuelist):
        if valuelist and str(valuelist[0]).strip():
            try:
                self.data = int(str(valuelist[0]).strip())
            except ValueError:
                self.data = None
                raise ValueError(self.invalid) from None


class FrenchDateField(DateField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Indiquez une date valide (jj/mm/aaaa).") from None


class FrenchTimeField(TimeField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Indiquez une heure valide (hh:mm), par exemple 14:30.") from None


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes; an unknown value gives a French message, not a 500."""

    def pre_validate(self, form):
        known = {str(c.value) for c in self.choices}
        for value in self.data or []:
            if str(value) not in known:
                raise ValidationError("Choix inconnu : choisissez dans la liste.")


class SlotsField(SelectMultipleField):
    """The 7 × 3 availability grid, as bit indices 0..20."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", [SelectChoice(b, vocab.slot_label(b)) for b in range(21)])
        kwargs.setdefault("coerce", int)
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist):
        try:
            self.data = [int(v) for v in valuelist]
        except ValueError:
            self.data = []
            raise ValueError("Créneau inconnu.") from None

    def pre_validate(self, form):
        if any(not 0 <= v < 21 for v in self.data or []):
            raise ValidationError("Créneau inconnu.")

    @property
    def mask(self) -> int:
        return sum(1 << b for b in set(self.data or []))

    def set_mask(self, mask: int) -> None:
        self.data = [b for b in range(21) if mask >> b & 1]


def _choices(vocabulary: dict) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in vocabulary.items()]


def _pairs(items) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in items]


class LoginForm(Form):
    email = EmailField("Adresse électronique", validators=[DataRequired(REQUIRED), Length(max=254)])
    password = PasswordField("Mot de passe", validators=[DataRequired(REQUIRED), Length(max=200)])


class ForgotPasswordForm(Form):
    email = EmailField(
        "Adresse électronique",
        validators=[
            DataRequired(REQUIRED),
            Length(max=254),
            Email("Adresse électronique invalide."),
        ],
    )


class ChangePasswordForm(Form):
    current = PasswordField(
        "Mot de passe actuel", validators=[DataRequired(REQUIRED), Length(max=200)]
    )
    password = PasswordField(
        "Nouveau mot de passe", validators=[DataRequired(REQUIRED), Length(max=200)]
    )
    confirm = PasswordField(
        "Confirmez le nouveau mot de passe", validators=[DataRequired(REQUIRED), Length(max=200)]
    )

    def validate_confirm(self, field):
        if field.data != self.password.data:
            raise ValidationError("Les deux mots de passe ne sont pas identiques.")


class NotificationsForm(Form):
    """One checkbox per preference of the email registry (`services/emails.py`)."""


for _preference in emails.PREFERENCES:
    setattr(NotificationsForm, _preference.field, BooleanField(_preference.label))


class SetPasswordForm(Form):
    password = PasswordField(
        "Nouveau mot de passe", validators=[DataRequired(REQUIRED), Length(max=200)]
    )
    consent = BooleanField(
        "J'ai lu la notice sur mes données personnelles et j'accepte que Tutorat les utilise pour m'accompagner",
        validators=[
            DataRequired("Pour utiliser Tutorat, cochez cette case après avoir lu la notice.")
        ],
    )
    confirm = PasswordField(
        "Confirmez le mot de passe", validators=[DataRequired(REQUIRED), Length(max=200)]
    )

    def validate_confirm(self, field):
        if field.data != self.password.data:
            raise ValidationError("Les deux mots de passe ne sont pas identiques.")


T = TypeVar("T")


def validated(value: T | None) -> T:
    """What a required field's validation set, read once the form has validated (never None)."""
    if value is None:
        raise ValueError("a required value read before the form was validated")
    return value


class SuggestedField(StringField):
    """A commune or a job title typed in a forgiving search box (with or without JavaScript).

    What was typed is never silently replaced by a guess: when it names nothing for sure, the
    form comes back with « Vouliez-vous dire … ? » and the closest choices as radio buttons
    (`did_you_mean`: (value, label) pairs, drawn by the `field` macro and named `<name>_choix`).
    The one picked is what the next submission reads; « none of these » leaves the text as typed.
    """

    CHOICE_SUFFIX = "_choix"

    def process(self, formdata, data=unset_value, extra_filters=None):
        super().process(formdata, data, extra_filters)
        self.did_you_mean: list[tuple[str, str]] = []
        self.none_of_these = ""
        self.picked = False
        if formdata is not None:
            choice = str(formdata.get(self.name + self.CHOICE_SUFFIX) or "").strip()
            if choice:
                self.data = choice[:300]
                self.raw_data = [self.data]
                self.picked = True

    def suggest(self, choices: list[tuple[str, str]], *, feminine: bool) -> ValidationError:
        """The error that asks « Vouliez-vous dire … ? » with `choices` to pick from."""
        self.did_you_mean = choices[:5]
        self.none_of_these = (
            "Aucune de celles-là : je corrige ce que j'ai tapé"
            if feminine
            else "Aucun de ceux-là : je corrige ce que j'ai tapé"
        )
        what = "l'une des communes proposées" if feminine else "l'un des métiers proposés"
        return ValidationError(
            f"« {self.data.strip()} » n'est pas dans la liste : vouliez-vous dire {what} "
            "ci-dessous ? Cochez votre choix, ou corrigez ce que vous avez tapé."
        )


class CommuneMixin:
    commune_obj: Commune | None = None  # set by validate_commune

    def validate_commune(self, field):
        commune, close = reference.resolve_commune(field.data)
        if commune is None:
            if close and isinstance(field, SuggestedField):
                raise field.suggest([(c.code_insee, c.label) for c in close], feminine=True)
            if close:
                names = ", ".join(c.label for c in close[:5])
                raise ValidationError(f"Précisez la commune parmi : {names}.")
            raise ValidationError(
                "Commune inconnue dans le Gers. Tapez son nom ou son code postal."
            )
        self.commune_obj = commune
        field.data = commune.label  # shown as such if another field sends the form back


def _resolve_metier(field, required: bool) -> MetierHit | None:
    if not (field.data or "").strip():
        if required:
            raise ValidationError(
                "Indiquez un métier : tapez un intitulé, par exemple « boulanger »."
            )
        return None
    hit, close = reference.resolve_metier(field.data)
    if hit is None:
        if close and isinstance(field, SuggestedField):
            raise field.suggest([(h.display, h.title) for h in close], feminine=False)
        if close:
            titles = " ; ".join(h.display for h in close[:5])
            raise ValidationError(f"Précisez le métier, par exemple : {titles}.")
        raise ValidationError(
            "Métier introuvable dans le répertoire ROME. Essayez un autre intitulé."
        )
    field.data = hit.display
    return hit


class _PlaceForm(CommuneMixin, Form):
    commune = SuggestedField(
        "Votre commune",
        validators=[DataRequired(REQUIRED), Length(max=120, message=_too_long(120))],
    )
    slots = SlotsField("Vos disponibilités")
    has_car = ChoiceField(
        "Avez-vous une voiture ?",
        choices=_pairs([("yes", "Oui"), ("no", "Non")]),
        validators=[InputRequired("Indiquez si vous avez une voiture.")],
    )
    max_km = NumberField(
        "Distance maximale que vous pouvez parcourir (en km)",
        invalid="Indiquez une distance en kilomètres.",
        validators=[
            InputRequired("Indiquez une distance en kilomètres."),
            NumberRange(0, 200, "Indiquez une distance entre 0 et 200 km."),
        ],
    )
    remote_ok = BooleanField("J'accepte les rencontres à distance (téléphone, visio)")
    obstacles = MultiCheckboxField(choices=_choices(vocab.OBSTACLES))

    def validate_slots(self, field):
        if not field.data:
            raise ValidationError("Cochez au moins un moment où vous êtes disponible.")

    def _fill_place(self, profile: MenteeProfile | TutorProfile) -> None:
        """Where and when, as saved (both profiles ask the same)."""
        if profile.commune is not None:
            self.commune.data = profile.commune.label
        if profile.availability:
            self.slots.set_mask(profile.availability)
        self.has_car.data = "yes" if profile.has_car else ("no" if profile.completed_at else None)
        self.max_km.data = profile.max_km
        self.remote_ok.data = profile.remote_ok
        self.obstacles.data = profile.obstacle_codes

    def _place_values(self) -> dict:
        """Where and when, validated, as the profile services take them."""
        return {
            "commune_code": validated(self.commune_obj).code_insee,
            "availability": self.slots.mask,
            "has_car": self.has_car.data == "yes",
            "max_km": validated(self.max_km.data),
            "remote_ok": bool(self.remote_ok.data),
            "obstacles": list(self.obstacles.data or []),
        }


class MenteeProfileForm(_PlaceForm):
    metier_1 = SuggestedField("Métier visé", validators=[Length(max=200, message=_too_long(200))])
    metier_2 = SuggestedField(
        "Autre métier visé (facultatif)", validators=[Length(max=200, message=_too_long(200))]
    )
    shares = MultiCheckboxField(
        choices=_pairs(
            [
                ("first_name", "Mon prénom"),
                ("commune", "Ma commune"),
                ("phone", "Mon numéro de téléphone"),
                ("email", "Mon adresse électronique"),
                ("metier", "Le métier que je vise"),
                ("obstacles", "Mes difficultés"),
            ]
        )
    )
    metier_hits: list[MetierHit] = []

    def validate_metier_1(self, field):
        self.metier_hits = [validated(_resolve_metier(field, required=True))]

    def validate_metier_2(self, field):
        hit = _resolve_metier(field, required=False)
        if hit is not None:
            self.metier_hits = [*self.metier_hits, hit]

    def fill(self, profile: MenteeProfile) -> None:
        """Show the saved profile (the mentee's own page and their référent's, acting for them)."""
        self._fill_place(profile)
        labels = reference.metier_labels(profile.metier_codes)
        titles = profile.metier_titles
        for field, code in zip((self.metier_1, self.metier_2), profile.metier_codes, strict=False):
            field.data = f"{titles.get(code) or labels.get(code, code)} — {code}"
        self.shares.data = [f for f in profiles.SHARE_FIELDS if getattr(profile, f"share_{f}")]

    def service_values(self) -> dict:
        """The validated answers, as `profiles.update_mentee_profile` takes them."""
        return {
            **self._place_values(),
            "metier_codes": [h.code for h in self.metier_hits],
            "metier_titles": [h.title for h in self.metier_hits],
            "shares": {f: f in (self.shares.data or []) for f in profiles.SHARE_FIELDS},
        }


class TutorProfileForm(_PlaceForm):
    metier = SuggestedField(
        "Votre métier actuel", validators=[Length(max=200, message=_too_long(200))]
    )
    capacity = ListField(
        "Combien de personnes pouvez-vous suivre en même temps ?",
        choices=_pairs([(1, "1"), (2, "2"), (3, "3")]),
        coerce=int,
        validate_choice=True,
    )
    experience_note = TextAreaField(
        "Ce qui vous a aidé à retrouver un emploi (facultatif)",
        validators=[Length(max=1000, message=_too_long(1000))],
    )
    unavailable_until = FrenchDateField(
        "Indisponible jusqu'au (facultatif)", validators=[Optional()]
    )
    metier_hit: MetierHit | None = None

    def validate_metier(self, field):
        self.metier_hit = _resolve_metier(field, required=True)

    def fill(self, profile: TutorProfile) -> None:
        """Show the saved profile."""
        self._fill_place(profile)
        self.unavailable_until.data = profile.unavailable_until
        if profile.metier is not None:
            title = profile.metier_title or profile.metier.label_rome4
            self.metier.data = f"{title} — {profile.metier_code}"
        self.capacity.data = profile.capacity
        self.experience_note.data = profile.experience_note

    def service_values(self) -> dict:
        """The validated answers, as `profiles.update_tutor_profile` takes them."""
        return {
            **self._place_values(),
            "metier_code": validated(self.metier_hit).code,
            "metier_title": validated(self.metier_hit).title,
            "capacity": self.capacity.data,
            "experience_note": self.experience_note.data or "",
            "unavailable_until": self.unavailable_until.data,
        }


class RequestForm(Form):
    topics = MultiCheckboxField("Sur quoi voulez-vous de l'aide ?", choices=_choices(vocab.TOPICS))
    meeting_modes = MultiCheckboxField(
        "Comment préférez-vous rencontrer votre tuteur ?", choices=_choices(vocab.MEETING_MODES)
    )
    message = TextAreaField(
        "En quelques mots, qu'attendez-vous d'un tuteur ?",
        validators=[DataRequired(REQUIRED), Length(max=1000, message=_too_long(1000))],
    )
    constraints = TextAreaField(
        "Vos contraintes (horaires, enfants, transport…) — facultatif",
        validators=[Optional(), Length(max=1000, message=_too_long(1000))],
    )

    def validate_topics(self, field):
        if not field.data:
            raise ValidationError("Choisissez au moins un sujet.")

    def validate_meeting_modes(self, field):
        if not field.data:
            raise ValidationError("Choisissez au moins une façon de vous rencontrer.")

    def service_values(self) -> dict:
        """The validated answers, as `requests.open_request` takes them."""
        return {
            "topics": list(self.topics.data or []),
            "meeting_modes": list(self.meeting_modes.data or []),
            "message": self.message.data or "",
            "constraints": self.constraints.data or "",
        }


class ProposeForm(Form):
    tutor_id = HiddenField(validators=[DataRequired("Choisissez un tuteur.")])

    def validate_tutor_id(self, field):
        if not re.fullmatch(r"[0-9]{1,9}", str(field.data)):
            raise ValidationError("Tuteur inconnu.")


class ActionForm(Form):
    """A form with only the CSRF token (confirm, withdraw…)."""


class OutsideRankingForm(ProposeForm):
    """Propose a tutor the référent chose, outside the ranking: the reason is mandatory."""

    reason = TextAreaField(
        "Pourquoi ce tuteur, hors classement ?",
        validators=[
            DataRequired("Indiquez pourquoi vous proposez ce tuteur hors classement."),
            Length(max=500, message=_too_long(500)),
        ],
    )


class WaitingListForm(Form):
    reason = TextAreaField(
        "Raison",
        default="Aucun tuteur possible pour l'instant",
        validators=[
            DataRequired("Indiquez pourquoi la demande passe en liste d'attente."),
            Length(max=500, message=_too_long(500)),
        ],
    )


class AnswerForm(Form):
    decision = ChoiceField(
        "Votre réponse",
        choices=_pairs([("accept", "J'accepte"), ("decline", "Je refuse")]),
        validators=[InputRequired("Choisissez d'accepter ou de refuser.")],
    )
    reason = SelectField(
        "Raison du refus",
        choices=[SelectChoice("", "—"), *_choices(vocab.DECLINE_REASONS)],
        validate_choice=False,
    )
    detail = TextAreaField(
        "Précisions (facultatif)", validators=[Length(max=500, message=_too_long(500))]
    )

    def validate_reason(self, field):
        if self.decision.data == "decline":
            if field.data not in vocab.DECLINE_REASONS:
                raise ValidationError("Choisissez la raison du refus.")
            if field.data == "other" and not (self.detail.data or "").strip():
                self.detail.errors = [*self.detail.errors, "Précisez la raison du refus."]
                raise ValidationError("Précisez la raison du refus ci-dessous.")

    def service_values(self) -> dict:
        """The validated answer, as `pairs.answer` takes it."""
        return {
            "accept": self.decision.data == "accept",
            "reason": self.reason.data,
            "detail": self.detail.data or "",
        }


class EndForm(Form):
    outcomes = MultiCheckboxField(
        "Résultats (cochez tout ce qui s'applique)", choices=_choices(vocab.OUTCOMES)
    )
    stop_reason = SelectField(
        "Raison de l'arrêt (si arrêt sans résultat)",
        choices=[SelectChoice("", "—"), *_choices(vocab.STOP_REASONS)],
        validate_choice=False,
    )
    contract = SelectField(
        "Type de contrat (si emploi)",
        choices=[SelectChoice("", "—"), *_choices(vocab.CONTRACT_TYPES)],
        validate_choice=False,
    )
    rights = MultiCheckboxField(
        "Droits ouverts (si de nouveaux droits)", choices=_choices(vocab.RIGHTS)
    )
    detail = TextAreaField(
        "Précisions (type de contrat, formation, droit ouvert, raison de l'arrêt…)",
        validators=[Length(max=500, message=_too_long(500))],
    )
    confirm = BooleanField(
        "Je confirme la fin de ce binôme : le tuteur et le bénéficiaire en seront informés.",
        validators=[DataRequired("Cochez la case pour confirmer la fin du binôme.")],
    )

    def validate_outcomes(self, field):
        chosen = set(field.data or [])
        if not chosen:
            raise ValidationError("Choisissez au moins un résultat.")
        if vocab.STOPPED_OUTCOME in chosen and len(chosen) > 1:
            raise ValidationError(
                "« Arrêt sans résultat » ne se combine pas avec un autre résultat."
            )

    def validate_stop_reason(self, field):
        if field.data and field.data not in vocab.STOP_REASONS:
            raise ValidationError("Choisissez une raison dans la liste.")
        if vocab.STOPPED_OUTCOME in (self.outcomes.data or []) and not field.data:
            raise ValidationError("Indiquez pourquoi le binôme s'arrête.")

    def validate_contract(self, field):
        if field.data and field.data not in vocab.CONTRACT_TYPES:
            raise ValidationError("Choisissez un type de contrat dans la liste.")
        if "job" in (self.outcomes.data or []) and not field.data:
            raise ValidationError("Pour un emploi, indiquez le type de contrat.")

    def validate_rights(self, field):
        if "rights" in (self.outcomes.data or []) and not field.data:
            raise ValidationError("Indiquez quels droits ont été ouverts.")

    def service_values(self) -> dict:
        return {
            "outcomes": list(self.outcomes.data or []),
            "stop_reason": self.stop_reason.data or None,
            "detail": self.detail.data or "",
            "contract": self.contract.data or None,
            "rights": list(self.rights.data or []),
        }


class TutorWishForm(Form):
    wants_again = ChoiceField(
        "Souhaitez-vous accompagner une autre personne ?",
        choices=_pairs(
            [
                ("yes", "Oui, quand une personne aura besoin de moi"),
                ("no", "Non, pas pour l'instant"),
            ]
        ),
        validators=[InputRequired("Choisissez une réponse.")],
    )


class HelpLaterForm(Form):
    """At the end of a binôme that led to a job: would she like, later, to help in turn?"""

    would_help = ChoiceField(
        "Aimeriez-vous, plus tard, aider à votre tour une personne au RSA ?",
        choices=_pairs(
            [
                ("yes", "Oui, invitez-moi à devenir tuteur ou tutrice dans quelques mois"),
                ("no", "Non merci"),
            ]
        ),
        validators=[InputRequired("Choisissez une réponse.")],
    )


class LoopMonthsForm(Form):
    """The administration's setting: after how many months a former mentee is invited."""

    months = IntegerField(
        "Inviter à devenir tuteur, combien de mois après la fin du binôme ?",
        validators=[
            InputRequired("Indiquez un nombre de mois."),
            NumberRange(min=1, max=24, message="Entre 1 et 24 mois."),
        ],
    )


class MeetingForm(Form):
    date = FrenchDateField(
        "Date de la rencontre", validators=[InputRequired("Indiquez une date valide (jj/mm/aaaa).")]
    )
    duration = NumberField(
        "Durée (en minutes)",
        invalid="Indiquez la durée en minutes (un nombre entier).",
        validators=[
            InputRequired("Indiquez la durée en minutes."),
            NumberRange(1, 720, "La durée doit être comprise entre 1 et 720 minutes."),
        ],
    )
    mode = ChoiceField(
        "Comment vous êtes-vous rencontrés ?",
        choices=_choices(vocab.MEETING_MODES),
        validators=[InputRequired("Choisissez comment la rencontre s'est faite.")],
    )
    place = StringField("Lieu (facultatif)", validators=[Length(max=150, message=_too_long(150))])
    topics = MultiCheckboxField("Sujets abordés", choices=_choices(vocab.TOPICS))
    note = TextAreaField(
        "Une courte note (facultatif)", validators=[Length(max=1000, message=_too_long(1000))]
    )

    def validate_date(self, field):
        # "Today" is the Gers' day: at 00:30 in Paris the UTC date is still yesterday.
        if field.data and field.data > profiles.local_today():
            raise ValidationError("La date de la rencontre ne peut pas être dans le futur.")
        if field.data and field.data.year < 2000:
            raise ValidationError("Indiquez une date valide.")

    def service_values(self) -> dict:
        return {
            "day": self.date.data,
            "duration_minutes": self.duration.data,
            "mode": self.mode.data,
            "place": self.place.data or "",
            "topics": list(self.topics.data or []),
            "note": self.note.data or "",
        }


class NextMeetingFields:
    """The next meeting, optional: a date, and if wished an hour and a place."""

    next_date = FrenchDateField("Date de la prochaine rencontre", validators=[Optional()])
    next_time = FrenchTimeField("Heure", validators=[Optional()])
    next_place = StringField("Lieu", validators=[Length(max=150, message=_too_long(150))])

    def validate_next_date(self, field):
        if field.data and field.data < profiles.local_today():
            raise ValidationError(
                "La prochaine rencontre ne peut pas être dans le passé : choisissez aujourd'hui "
                "ou un jour à venir."
            )

    def next_values(self) -> dict:
        return {
            "day": self.next_date.data,
            "at_time": self.next_time.data,
            "place": self.next_place.data or "",
        }


class NewMeetingForm(MeetingForm, NextMeetingFields):
    """Log a meeting, and plan the next one if already agreed."""

    def validate_next_time(self, field):
        if field.data and not self.next_date.data:
            raise ValidationError("Indiquez aussi la date de la prochaine rencontre.")

    def validate_next_place(self, field):
        if (field.data or "").strip() and not self.next_date.data:
            raise ValidationError("Indiquez aussi la date de la prochaine rencontre.")


class NextMeetingForm(Form, NextMeetingFields):
    """Plan (or move) the next meeting on its own, from the binôme page: the date is required."""

    next_date = FrenchDateField(
        "Date de la prochaine rencontre",
        validators=[InputRequired("Indiquez la date de la prochaine rencontre (jj/mm/aaaa).")],
    )


class DeleteMeetingForm(Form):
    confirm = BooleanField(
        "Oui, supprimer cette rencontre",
        validators=[DataRequired("Cochez la case pour confirmer la suppression.")],
    )


class PersonForm(Form):
    first_name = StringField(
        "Prénom", validators=[DataRequired(REQUIRED), Length(max=80, message=_too_long(80))]
    )
    last_name = StringField(
        "Nom", validators=[DataRequired(REQUIRED), Length(max=80, message=_too_long(80))]
    )
    email = EmailField(
        "Adresse électronique",
        validators=[
            Optional(),
            Length(max=254, message=_too_long(254)),
            Email("Adresse électronique invalide."),
        ],
    )
    phone = StringField(
        "Téléphone (facultatif)", validators=[Optional(), Length(max=20, message=_too_long(20))]
    )

    def validate_phone(self, field):
        digits = "".join(c for c in field.data or "" if c.isdigit())
        if field.data and (
            len(digits) < 10 or any(c not in "0123456789 +.-()" for c in field.data)
        ):
            raise ValidationError(
                "Numéro de téléphone invalide (10 chiffres, par exemple 06 12 34 56 78)."
            )


class NewMenteeForm(PersonForm):
    consent = BooleanField(
        "J'ai remis à la personne la notice sur ses données personnelles et elle accepte d'utiliser Tutorat",
        validators=[DataRequired("Cochez cette case une fois la personne informée et d'accord.")],
    )


class NewAccountForm(PersonForm):
    role = ChoiceField(
        "Type de compte",
        choices=_pairs([(r, r.label) for r in (Role.REFERENT, Role.TUTOR)]),
        validators=[InputRequired("Choisissez le type de compte.")],
    )
    organisation = StringField(
        "Structure (pour un référent : Maison des Solidarités, France Travail…)",
        validators=[Optional(), Length(max=150, message=_too_long(150))],
    )

    def validate_email(self, field):
        if not field.data:
            raise ValidationError("L'adresse électronique est obligatoire pour ce type de compte.")


class WeightsForm(Form):
    """The weight of each part of the score (the admin sets them; matching.Weights validates)."""

    distance = NumberField(
        "Distance",
        invalid="Indiquez un nombre entier entre 0 et 100.",
        validators=[InputRequired(REQUIRED), NumberRange(0, 100, "Entre 0 et 100.")],
    )
    sector = NumberField(
        "Métier",
        invalid="Indiquez un nombre entier entre 0 et 100.",
        validators=[InputRequired(REQUIRED), NumberRange(0, 100, "Entre 0 et 100.")],
    )
    availability = NumberField(
        "Disponibilités",
        invalid="Indiquez un nombre entier entre 0 et 100.",
        validators=[InputRequired(REQUIRED), NumberRange(0, 100, "Entre 0 et 100.")],
    )
    experience = NumberField(
        "Expérience vécue",
        invalid="Indiquez un nombre entier entre 0 et 100.",
        validators=[InputRequired(REQUIRED), NumberRange(0, 100, "Entre 0 et 100.")],
    )

    def validate_experience(self, field):
        values = [self.distance.data, self.sector.data, self.availability.data, field.data]
        if all(isinstance(v, int) for v in values) and sum(values) == 0:
            raise ValidationError("Au moins un poids doit être plus grand que 0.")


class MinScoreForm(Form):
    """The minimum score, in % (empty or 0: none); under it no tutor is ranked nor paired."""

    min_score = NumberField(
        "Note minimale (en %)",
        invalid="Indiquez un nombre entier entre 0 et 100, ou laissez vide.",
        validators=[Optional(), NumberRange(0, 100, "Entre 0 et 100.")],
    )


class SocialNoteForm(Form):
    social_note = TextAreaField(
        "Note du référent (jamais visible par le tuteur)",
        validators=[Length(max=4000, message=_too_long(4000))],
    )


class ImportForm(Form):
    """A CSV file of beneficiaries; the admin also chooses their référent (or the file names it)."""

    file = FileField(
        "Fichier CSV (5 Mo et 20 000 lignes au plus)",
        validators=[FileRequired("Choisissez le fichier à importer.")],
    )
    referent = SelectField("Référent de ces personnes", choices=[], validate_choice=False)

    def referent_choices(self, referents) -> None:
        self.referent.choices = [
            SelectChoice("", "— celui de la colonne « référent » du fichier —"),
            *[SelectChoice(str(r.id), f"{r.last_name} {r.first_name}") for r in referents],
        ]

    def validate_referent(self, field):
        if field.data and field.data not in {c.value for c in field.choices}:
            raise ValidationError("Choisissez un référent de la liste.")


class TransferForm(Form):
    """The admin moves one, some or all of a référent's beneficiaries to another référent."""

    from_referent = ListField("Référent actuel", choices=[])
    to_referent = ListField("Nouveau référent", choices=[])
    mentee_ids = SelectMultipleField("Personnes", choices=[], validate_choice=False, coerce=str)
    reason = TextAreaField(
        "Motif (facultatif : départ, congé, réorganisation…)",
        validators=[Length(max=500, message=_too_long(500))],
    )

    def referent_choices(self, referents) -> None:
        choices = [SelectChoice("", "—")] + [
            SelectChoice(
                str(r.id),
                f"{r.last_name} {r.first_name}"
                + (f" ({r.organisation})" if r.organisation else ""),
            )
            for r in referents
        ]
        self.from_referent.choices = choices
        self.to_referent.choices = choices

    def validate_to_referent(self, field):
        if not field.data:
            raise ValidationError("Choisissez le nouveau référent.")
        if field.data == self.from_referent.data:
            raise ValidationError("Choisissez un autre référent que le référent actuel.")

    def validate_mentee_ids(self, field):
        if any(not (v.isascii() and v.isdigit()) for v in field.data or []):
            raise ValidationError("Sélection invalide : rechargez la page.")


class ContactForm(Form):
    """Postal address, phone and the ways a person accepts to be reached (services/contact.py)."""

    street_address = TextAreaField(
        "Adresse postale : numéro, rue, lieu-dit (facultatif)",
        validators=[Optional(), Length(max=200, message=_too_long(200))],
    )
    postal_code = StringField(
        "Code postal", validators=[Optional(), Length(max=5, message="5 chiffres.")]
    )
    phone = StringField(
        "Téléphone (facultatif ; un portable pour les SMS)",
        validators=[Optional(), Length(max=20, message=_too_long(20))],
    )
    contact_email = BooleanField("Par courriel")
    contact_sms = BooleanField("Par SMS (messages courts, sur un téléphone portable)")
    contact_letter = BooleanField("Par courrier postal")

    def fill(self, user) -> None:
        self.street_address.data = user.street_address or ""
        self.postal_code.data = user.postal_code or ""
        self.phone.data = user.phone or ""
        self.contact_email.data = bool(user.email) and user.contact_email
        self.contact_sms.data = user.contact_sms and user.sms_stopped_at is None
        self.contact_letter.data = user.contact_letter

    def service_values(self) -> dict:
        return {
            "street_address": self.street_address.data,
            "postal_code": self.postal_code.data,
            "phone": self.phone.data,
            "contact_email": bool(self.contact_email.data),
            "contact_sms": bool(self.contact_sms.data),
            "contact_letter": bool(self.contact_letter.data),
        }


class LettersSentForm(Form):
    """The letters the référent posted (their ids, from the list)."""

    letter_ids = StringField("Courriers", validators=[DataRequired(REQUIRED)])

    def ids(self) -> list[int]:
        return [int(v) for v in (self.letter_ids.data or "").split(",") if v.strip().isdigit()]


class AdoptWeightsForm(Form):
    """The admin adopts the suggested weights, as shown on the page (and the version they were read against)."""

    distance = DecimalField(
        validators=[InputRequired(REQUIRED), NumberRange(0, 1, "Entre 0 et 1.")]
    )
    sector = DecimalField(validators=[InputRequired(REQUIRED), NumberRange(0, 1, "Entre 0 et 1.")])
    availability = DecimalField(
        validators=[InputRequired(REQUIRED), NumberRange(0, 1, "Entre 0 et 1.")]
    )
    experience = DecimalField(
        validators=[InputRequired(REQUIRED), NumberRange(0, 1, "Entre 0 et 1.")]
    )
    version = IntegerField(validators=[InputRequired(REQUIRED), NumberRange(0, None)])

    def values(self) -> dict[str, float]:
        names = ("distance", "sector", "availability", "experience")
        return {name: float(getattr(self, name).data) for name in names}


# ---- The mentee's and the tutor's say over their binôme (services/voices.py) ----


class PauseForm(Form):
    until = FrenchDateField(
        "Jusqu'à quelle date ?",
        validators=[InputRequired("Indiquez une date valide (jj/mm/aaaa).")],
    )


class StopForm(Form):
    reason = ChoiceField(
        "Pourquoi souhaitez-vous arrêter ?",
        choices=_choices(vocab.STOP_REQUEST_REASONS),
        validators=[InputRequired("Choisissez une raison.")],
    )
    comment = TextAreaField(
        "Précisions pour le référent",
        validators=[Length(max=2000, message=_too_long(2000))],
    )


class ReportForm(Form):
    comment = TextAreaField(
        "Que se passe-t-il ?",
        validators=[
            InputRequired("Décrivez le problème en quelques mots."),
            Length(max=2000, message=_too_long(2000)),
        ],
    )


class NoteForm(Form):
    """The référent's note when resuming a binôme or handling a report."""

    note = TextAreaField(
        "Note (facultatif)",
        validators=[Length(max=2000, message=_too_long(2000))],
    )


class CheckInForm(Form):
    """« Comment se passe le tutorat ? » (services/checkins.py)."""

    answer = ChoiceField(
        "Comment se passe le tutorat ?",
        choices=_choices(vocab.CHECKIN_ANSWERS),
        validators=[InputRequired("Choisissez Bien, Moyen ou Pas bien.")],
    )
    comment = TextAreaField(
        "Un mot pour le référent",
        validators=[Length(max=1000, message=_too_long(1000))],
    )


# ---- Tutor applications (services/vetting.py) ----


class ApplicationForm(TutorProfileForm, PersonForm):
    """The public « Devenir tuteur » form: who, where, which trade, when, and two consents.

    `website` is a honeypot (hidden from people, filled by bots) and `started` the signed time the
    form was shown: the service treats a filled honeypot or a too-fast form as a bot.
    """

    experience_note = TextAreaField(
        "Quelques mots sur votre parcours (facultatif)",
        validators=[Length(max=1000, message=_too_long(1000))],
    )
    charter = BooleanField("J'ai lu la charte des tuteurs et je l'accepte")
    consent = BooleanField(
        "J'accepte que le Conseil départemental du Gers utilise ces informations pour examiner ma "
        "candidature"
    )
    website = StringField("Laissez ce champ vide", validators=[Optional(), Length(max=200)])
    started = HiddenField()

    def validate_email(self, field):
        if not field.data:
            raise ValidationError(
                "Indiquez votre adresse électronique : nous vous répondrons par courriel."
            )

    def validate_charter(self, field):
        if not field.data:
            raise ValidationError("Lisez la charte, puis cochez la case pour l'accepter.")

    def validate_consent(self, field):
        if not field.data:
            raise ValidationError(
                "Cochez la case pour que nous puissions examiner votre candidature."
            )

    def prefill(self, application) -> None:
        """What an invitation already knows (name, address; a former mentee's place and trade)."""
        self.first_name.data = application.first_name
        self.last_name.data = application.last_name
        self.email.data = application.email
        self.phone.data = application.phone
        if application.commune is not None:
            self.commune.data = application.commune.label
        if application.metier is not None:
            title = application.metier_title or application.metier.label_rome4
            self.metier.data = f"{title} — {application.metier_code}"
        if application.obstacles:
            self.obstacles.data = application.obstacle_codes

    def prefill_from(self, values: dict) -> None:
        """A former mentee's profile (services/loop.py), once she agreed to it being copied."""
        self.first_name.data = values["first_name"]
        self.last_name.data = values["last_name"]
        self.email.data = values["email"]
        self.phone.data = values["phone"]
        if values["commune"] is not None:
            self.commune.data = values["commune"].label
        if values["metier_code"]:
            code = values["metier_code"]
            title = values["metier_title"] or reference.metier_labels([code]).get(code, code)
            self.metier.data = f"{title} — {code}"
        self.obstacles.data = values["obstacles"]

    def application_values(self):
        from_profile = self.service_values()
        return vetting.ApplicationValues(
            first_name=self.first_name.data or "",
            last_name=self.last_name.data or "",
            email=self.email.data or "",
            phone=self.phone.data or None,
            commune_code=from_profile["commune_code"],
            metier_code=from_profile["metier_code"],
            metier_title=from_profile["metier_title"],
            availability=from_profile["availability"],
            capacity=from_profile["capacity"],
            has_car=from_profile["has_car"],
            max_km=from_profile["max_km"],
            remote_ok=from_profile["remote_ok"],
            obstacles=from_profile["obstacles"],
            experience_note=from_profile["experience_note"],
            charter_accepted=bool(self.charter.data),
            consent=bool(self.consent.data),
        )


class SuggestTutorForm(PersonForm):
    """A référent invites someone they know to apply."""

    note = TextAreaField(
        "Un mot pour la personne (facultatif, repris dans le courriel)",
        validators=[Length(max=1000, message=_too_long(1000))],
    )

    def validate_email(self, field):
        if not field.data:
            raise ValidationError(
                "Indiquez l'adresse électronique de la personne : l'invitation part par courriel."
            )


class CheckForm(Form):
    """One item of the vetting checklist: the day it was checked."""

    day = FrenchDateField("Date", validators=[InputRequired("Indiquez la date (jj/mm/aaaa).")])


class RefuseForm(Form):
    reason = TextAreaField(
        "Raison du refus (envoyée à la personne)",
        validators=[
            DataRequired(REQUIRED),
            Length(min=10, max=2000, message="Entre 10 et 2 000 caractères."),
        ],
    )


class GoalForm(Form):
    """A goal of the mentee: from the list, or in her own words (services/goals.py)."""

    code = SelectField(
        "Un objectif de la liste",
        choices=[SelectChoice("", "— ou écrivez le vôtre ci-dessous —"), *_choices(vocab.GOALS)],
        validate_choice=False,
    )
    text = StringField(
        "Votre objectif, avec vos mots", validators=[Length(max=200, message=_too_long(200))]
    )


class GoalStatusForm(Form):
    status = SelectField("Où en est cet objectif ?", choices=_choices(vocab.GOAL_STATUSES))
