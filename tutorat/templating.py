"""Template filters and globals: French dates, labels of codes."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Mapping, MutableMapping
from datetime import UTC, date, datetime, timedelta
from numbers import Number
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Flask, current_app, request
from flask.templating import Environment as FlaskEnvironment

import matching
from matching.types import NO_CAR_MAX_KM
from tutorat import links, vocab
from tutorat.models import (
    ApplicationStatus,
    CaseloadStatus,
    CheckInAnswer,
    EventEntity,
    GoalStatus,
    ImportRowStatus,
    MessageStatus,
    PairAnswer,
    PairStatus,
    ReportKind,
    Role,
    TutoringRequestStatus,
)
from tutorat.models.access import ACCESS_ACTION_LABELS
from tutorat.models.applications import APPLICATION_STATUS_LABELS
from tutorat.models.pairs import PAIR_STATUS_LABELS
from tutorat.models.requests import TUTORING_REQUEST_STATUS_LABELS
from tutorat.models.users import ROLE_PLURAL_LABELS
from tutorat.services.disclosure import pair_view, proposal_brief
from tutorat.services.reference import with_rome_labels

PARIS = ZoneInfo("Europe/Paris")
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def date_fr(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(PARIS).date()
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


MONTHS_SHORT = (
    "janv.",
    "févr.",
    "mars",
    "avr.",
    "mai",
    "juin",
    "juil.",
    "août",
    "sept.",
    "oct.",
    "nov.",
    "déc.",
)


WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


def day_fr(value: date | None) -> str:
    """ "jeudi 10 décembre 2026" (a planned meeting: the day of the week matters)."""
    if value is None:
        return ""
    return f"{WEEKDAYS[value.weekday()]} {date_fr(value)}"


def day_sms(value: date | None) -> str:
    """ "jeudi 10/12" (an SMS counts its characters)."""
    if value is None:
        return ""
    return f"{WEEKDAYS[value.weekday()]} {value:%d/%m}"


def date_short(value: date | datetime | None) -> str:
    """ "4 déc.", with the year only if it is not this year (compact tables)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(PARIS).date()
    text = f"{value.day} {MONTHS_SHORT[value.month - 1]}"
    return text if value.year == datetime.now(PARIS).year else f"{text} {value.year}"


def datetime_fr(value: datetime | None) -> str:
    if value is None:
        return ""
    local = value.astimezone(PARIS)
    return f"{date_fr(local.date())} à {local.hour} h {local.minute:02d}"


def days_since(value: date | datetime | None) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return (datetime.now(UTC) - value).days
    return (datetime.now(PARIS).date() - value).days


def ago(value: date | datetime | None) -> str:
    """ "aujourd'hui", "il y a 1 jour", "il y a 12 jours" (a filter: far cheaper than a macro in
    the dashboard's rows)."""
    days = days_since(value)
    if days <= 0:
        return "aujourd'hui"
    return "il y a 1 jour" if days == 1 else f"il y a {days} jours"


def pair_names(row) -> str:
    """ "Mentee Name avec Tutor Name" of a dashboard row (the tutor if the row has one)."""
    text = f"{row.mentee_first_name} {row.mentee_last_name}"
    if row.tutor_first_name:
        text += f" avec {row.tutor_first_name} {row.tutor_last_name}"
    return text


def waiting_for(row) -> str:
    """Whose answer a proposal awaits: "les deux", "le tuteur" or "le bénéficiaire"."""
    if row.tutor_answer is None:
        return "les deux" if row.mentee_answer is None else "le tuteur"
    return "le bénéficiaire"


def add_days(value: date | datetime, days: int) -> date | datetime:
    """A date `days` later (a proposal's reminder and expiry dates)."""
    return value + timedelta(days=days)


def _brief(pair, viewer):
    """`brief(pair, viewer)` in templates and emails: what a tutor needs to answer knowingly."""
    return proposal_brief(pair, viewer, expiry_days=current_app.config["PROPOSAL_EXPIRY_DAYS"])


def number_fr(value: float, digits: int = 1) -> str:
    return f"{value:.{digits}f}".replace(".", ",")


def score_rows(parts: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """A score's table (`score_parts` in _macros.html): each criterion's label, note out of 100,
    share of the score (or weight), points; "—" where the explanation has no figure. A filter: the
    template's tests and arithmetic per cell cost more than the table."""

    def number(value: Any) -> bool:
        return isinstance(value, Number)

    rows = []
    for name, part in parts.items():
        value, share, weight, points = (part.get(key) for key in _SCORE_FIGURES)
        rows.append(
            (
                part.get("label") or matching.PART_LABELS.get(name) or name,
                str(round(value * 100)) if number(value) else "—",
                f"{round(share * 100)} %"
                if number(share)
                else number_fr(weight, 2)
                if number(weight)
                else "—",
                number_fr(points * 100, 1) if number(points) else "—",
            )
        )
    return rows


_SCORE_FIGURES = ("value", "share", "weight", "contribution")


def _rome_labels(text: str) -> str:
    return with_rome_labels(text)


# The main menu of each role: (endpoint, text), in order (templates/base.html).
MENUS: dict[Role, tuple[tuple[str, str], ...]] = {
    Role.MENTEE: (("mentee.home", "Accueil"), ("mentee.profile", "Mon profil")),
    Role.TUTOR: (("tutor.home", "Accueil"), ("tutor.profile", "Mon profil")),
    Role.REFERENT: (
        ("referent.dashboard", "Tableau de bord"),
        ("referent.mentees", "Mes bénéficiaires"),
        ("referent.new_mentee", "Nouveau bénéficiaire"),
        ("referent.letters", "Courriers"),
        ("recruit.suggest", "Proposer un tuteur"),
        ("indicators.home", "Indicateurs"),
    ),
    Role.ADMIN: (
        ("admin.home", "Accueil"),
        ("applications.index", "Candidatures"),
        ("admin.beneficiaries", "Bénéficiaires"),
        ("admin.accounts_list", "Comptes"),
        ("admin.new_account", "Créer un compte"),
        ("admin.emails", "Courriels"),
        ("admin.access_log", "Journal"),
        ("admin.erasures", "Effacements"),
        ("indicators.home", "Indicateurs"),
    ),
}
# Pages and static files every page links to (base.html), without arguments.
SITE_ENDPOINTS = (
    "main.index",
    "main.about",
    "main.accessibility",
    "main.privacy",
    "auth.login",
    "auth.logout",
    "account.settings",
)
SITE_STATIC = ("css/tutorat.css", "favicon.svg", "js/autocomplete.js")
# What werkzeug leaves unquoted in a query string it builds (werkzeug.urls._urlencode).
_QUERY_SAFE = "!$'()*,/:;?@"
# Addresses are kept for so many script roots at most (one in any real deployment).
_MAX_ROOTS = 4


class SiteLinks:
    """The addresses base.html links to on every page: URL strings, never rendered HTML.

    Built by `url_for` once per application (and script root): an endpoint without arguments has
    the same address on every request. The error pages pass their own builder (they render
    without a URL adapter, tutorat/errorpages.py): their links are built each time.
    """

    def __init__(self, build: Callable[..., str]) -> None:
        self.page = {endpoint: build(endpoint) for endpoint in SITE_ENDPOINTS}
        self._report = build("main.report_problem")
        self.static = {name: build("static", filename=name) for name in SITE_STATIC}
        # role -> ((endpoint, url, text), ...)
        self.menu = {
            role: tuple((endpoint, build(endpoint), text) for endpoint, text in items)
            for role, items in MENUS.items()
        }

    def report_problem(self, page: str | None) -> str:
        """`url_for("main.report_problem", page=page)`: the footer's link, with this page's path."""
        if page is None:
            return self._report
        return f"{self._report}?{urlencode({'page': page}, safe=_QUERY_SAFE)}"


def site_links_for(app: Flask) -> Callable[[Callable[..., str]], SiteLinks]:
    """`site_links(url_for)` in app's templates: the SiteLinks of that builder."""
    built: dict[str, SiteLinks] = {}
    standard = app.jinja_env.globals["url_for"]  # Flask's, bound to app

    def site_links(build: Callable[..., str]) -> SiteLinks:
        if build is not standard:
            return SiteLinks(build)
        root = request.script_root
        found = built.get(root)
        if found is None:
            found = SiteLinks(build)
            if len(built) < _MAX_ROOTS:
                built[root] = found
        return found

    return site_links


class _TemplateGlobals(ChainMap):
    """A template's globals: Jinja's ChainMap over the environment's, whose `keys()` is a set.

    At every `{% from … import … %}` Jinja subtracts the imported template's global names from the
    page's (`Template._get_default_module`); a ChainMap's keys view answers each `in` by a loop over
    its maps in Python, about forty names per import (2.5 % of the binôme page, bench/README.md).
    A set of the same names is subtracted in C. The template's own globals still overlay the
    environment's without changing them, as with Jinja's ChainMap.
    """

    def keys(self):
        return set().union(*self.maps)


class Environment(FlaskEnvironment):
    """Flask's Jinja environment, with `_TemplateGlobals` for each template's globals."""

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return _TemplateGlobals({} if d is None else d, self.globals)


def register(app: Flask) -> None:
    app.jinja_env.filters.update(
        date_fr=date_fr,
        date_short=date_short,
        day_fr=day_fr,
        day_sms=day_sms,
        datetime_fr=datetime_fr,
        days_since=days_since,
        ago=ago,
        pair_names=pair_names,
        waiting_for=waiting_for,
        add_days=add_days,
        number_fr=number_fr,
        score_rows=score_rows,
        slots=vocab.slots_labels,
        rome_labels=_rome_labels,
    )
    # `disclose(pair, viewer)`: what `viewer` may see of `pair` (every page and email about a pair).
    app.jinja_env.globals.update(
        vocab=vocab, slot_label=vocab.slot_label, disclose=pair_view, brief=_brief
    )
    # Without a car, the distance kept for the matching is capped (matching/types.py): the forms say so.
    app.jinja_env.globals.update(NO_CAR_MAX_KM=int(NO_CAR_MAX_KM))
    # Statuses, answers and roles are compared to these enums in templates, never to strings.
    app.jinja_env.globals.update(
        PairStatus=PairStatus,
        PairAnswer=PairAnswer,
        TutoringRequestStatus=TutoringRequestStatus,
        MessageStatus=MessageStatus,
        Role=Role,
        EventEntity=EventEntity,
        ImportRowStatus=ImportRowStatus,
        CaseloadStatus=CaseloadStatus,
        ReportKind=ReportKind,
        CheckInAnswer=CheckInAnswer,
        GoalStatus=GoalStatus,
        PAIR_STATUS_LABELS=PAIR_STATUS_LABELS,
        ACCESS_ACTION_LABELS=ACCESS_ACTION_LABELS,
        TUTORING_REQUEST_STATUS_LABELS=TUTORING_REQUEST_STATUS_LABELS,
        ROLE_PLURAL_LABELS=ROLE_PLURAL_LABELS,
        ApplicationStatus=ApplicationStatus,
        APPLICATION_STATUS_LABELS=APPLICATION_STATUS_LABELS,
    )
    app.jinja_env.globals.update(site_links=site_links_for(app))
    # Absolute links for emails, from BASE_URL only (tutorat/links.py).
    links.init_app(app)
