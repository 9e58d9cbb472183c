"""The référent's pages: dashboard, a demande with ranked tutors, binômes, caseload, acting for a mentee."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import aliased

import matching
from tutorat.extensions import db
from tutorat.forms import (
    ActionForm,
    AnswerForm,
    CheckInForm,
    ContactForm,
    EndForm,
    HelpLaterForm,
    LettersSentForm,
    MenteeProfileForm,
    NewMenteeForm,
    NoteForm,
    OutsideRankingForm,
    ProposeForm,
    RequestForm,
    SocialNoteForm,
    WaitingListForm,
)
from tutorat.models import (
    CheckIn,
    Commune,
    EventEntity,
    Letter,
    Meeting,
    MenteeProfile,
    MessageStatus,
    Pair,
    PairReport,
    PairStatus,
    Role,
    RomeMetier,
    StatusEvent,
    TutoringRequest,
    TutorProfile,
    User,
)
from tutorat.models.pairs import PAIR_STATUS_LABELS
from tutorat.models.requests import UNMATCHED_REQUEST_STATUSES
from tutorat.permissions import (
    found_or_404,
    get_mentee_or_404,
    get_or_404,
    guard_blueprint,
    in_caseload,
    visible_letters,
    visible_pairs,
    visible_requests,
)
from tutorat.services import (
    accounts,
    caseload,
    checkins,
    contact,
    followup,
    loop,
    pair_record,
    profiles,
    suggestions,
    transparency,
    voices,
)
from tutorat.services import letters as letter_service
from tutorat.services import pairs as pair_service
from tutorat.services import requests as request_service
from tutorat.services.errors import Conflict, DomainError
from tutorat.services.reference import metier_labels, rome_code_labels
from tutorat.templating import PARIS, date_fr, date_short
from tutorat.views._helpers import handle_post, success

bp = Blueprint("referent", __name__, url_prefix="/referent")
guard_blueprint(bp, Role.REFERENT)


DASHBOARD_SECTIONS = {
    "": "Tout",
    "a-faire": "À faire",
    "demandes": "Autres demandes en attente",
    "propositions": "Propositions en attente de réponse",
    "actifs": "Binômes actifs",
    "recents": "Changements récents",
    "attente": "Liste d'attente",
}
# The list each section pages through.
_SECTION_LISTS = {
    "demandes": followup.CaseloadList.OPEN_REQUESTS,
    "propositions": followup.CaseloadList.PENDING_PAIRS,
    "actifs": followup.CaseloadList.ACTIVE_PAIRS,
    "recents": followup.CaseloadList.RECENT_FAILURES,
    "attente": followup.CaseloadList.WAITING_REQUESTS,
}


# Rows per list: the "Tout" view shows the first DASHBOARD_TO_DO items to do (they fit in the first
# screen at 1280 px) and the first DASHBOARD_PREVIEW rows of each other list, with a link to each
# list; a section view pages through its list DASHBOARD_ROWS at a time. The page then costs the same
# whatever the caseload (bench/README.md, "Pages web").
DASHBOARD_ROWS = 20
DASHBOARD_PREVIEW = 5
DASHBOARD_TO_DO = 6
NAME_MAX = 80


def _path_before_id(endpoint: str, key: str) -> str:
    """The path of `endpoint` up to its id ("/referent/binomes/"): a list of many rows links each
    row with a string join instead of one `url_for` per row (a tenth of the dashboard's cost)."""
    values: dict[str, Any] = {key: 0}
    path = url_for(endpoint, **values)
    assert path.endswith("/0"), path
    return path[:-1]


def _chase(proposed_at: datetime, reminders_sent: int, short: bool = False) -> str:
    """A proposal's reminder and expiry dates: when it was (or will be) chased, when it expires;
    `short`, the reminders sent only, in short dates ("À faire")."""
    config = current_app.config
    reminders = [
        (number <= reminders_sent, proposed_at + timedelta(days=days))
        for number, days in enumerate(config["REMINDER_DAYS"], start=1)
    ]
    end = proposed_at + timedelta(days=config["PROPOSAL_EXPIRY_DAYS"])
    if short:
        done = " et ".join(date_short(on) for sent, on in reminders if sent)
        return f"{f'relancée le {done}, ' if done else ''}expire le {date_short(end)}"
    chased = "".join(
        f"{'relancée' if sent else 'relance'} le {date_fr(on)}, " for sent, on in reminders
    )
    return f"{chased}expire le {date_fr(end)}"


def _page_number() -> int | None:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) <= 10_000 else None


@bp.get("/")
def dashboard():
    section = request.args.get("statut", "")
    territory = request.args.get("territoire", "")
    name = " ".join(request.args.get("nom", "").split())
    errors: dict[str, str] = {}  # flashed in this order
    if section not in DASHBOARD_SECTIONS:
        errors["section"] = "Filtre inconnu : choisissez un des statuts proposés."
        section = ""
    if len(name) > NAME_MAX:
        errors["name"] = f"Nom trop long : {NAME_MAX} caractères au plus."
        name = ""
    if "\x00" in name:  # PostgreSQL refuses it in a text value
        errors["name"] = "Nom invalide : il contient un caractère non autorisé."
        name = ""
    page = _page_number()
    if page is None:
        errors["page"] = "Numéro de page inconnu : la première page est affichée."
        page = 1
    scope = followup.Scope(followup.Territory.parse(territory), name)
    now = datetime.now(UTC)
    # One query for every count and list (each list shown is a slice of it), the territories of
    # the filter and the « Adresse manquante » notice.
    items = followup.caseload(current_user.id, now, scope, with_people=True)
    assert items.people is not None
    people = items.people
    territories = people.territories
    if territory and territory not in {code for code, _ in territories}:
        errors["territory"] = (
            "Territoire inconnu : choisissez un canton ou une intercommunalité de la liste."
        )
        territory = ""
        if scope.territory is not None:  # read again for the whole caseload (this 400 only)
            scope = followup.Scope(None, name)
            items = followup.caseload(current_user.id, now, scope)
    status = 400 if errors else 200
    for key in ("section", "territory", "name", "page"):
        if key in errors:
            flash(errors[key], "error")
    totals = items.counts

    def rows(which: str) -> list:
        """The rows shown of a list: a page of it in its own view, its first rows in "Tout"."""
        shown = None if which == "a-faire" else _SECTION_LISTS[which]
        if section == which:
            return items.page(shown, (page - 1) * DASHBOARD_ROWS, page * DASHBOARD_ROWS)
        if section or which == "attente":  # "Tout" names the waiting list, with a link
            return []
        return items.page(shown, 0, DASHBOARD_TO_DO if which == "a-faire" else DASHBOARD_PREVIEW)

    section_total = (
        (totals.to_do if section == "a-faire" else len(items.lists[_SECTION_LISTS[section]]))
        if section
        else 0
    )
    config = current_app.config
    return render_template(
        "referent/dashboard.html",
        to_do=rows("a-faire"),
        requests_open=rows("demandes"),
        pending=rows("propositions"),
        active=rows("actifs"),
        recent=rows("recents"),
        waiting=rows("attente"),
        totals=totals,
        page=page,
        pages=max(1, -(-section_total // DASHBOARD_ROWS)),
        preview=DASHBOARD_PREVIEW,
        preview_to_do=DASHBOARD_TO_DO,
        sections=DASHBOARD_SECTIONS,
        section=section,
        territories=territories,
        territory=territory,
        name=name,
        ToDo=followup.ToDo,
        pair_path=_path_before_id("referent.pair", "pair_id"),
        # A list's link keeps the name and territory searched: one url_for for them all.
        section_href=url_for(
            "referent.dashboard", statut="_", territoire=territory or None, nom=name or None
        )
        .replace("statut=_", "statut={}", 1)
        .format,
        chase=_chase,
        missing_addresses=(people.missing_total, people.missing_names)
        if section in ("", "a-faire")
        else (0, []),
        request_path=_path_before_id("referent.request_detail", "request_id"),
        open_days=config["ALERT_OPEN_REQUEST_DAYS"],
        no_meeting_days=config["ALERT_NO_MEETING_DAYS"],
        reminder_days=config["REMINDER_DAYS"],
        expiry_days=config["PROPOSAL_EXPIRY_DAYS"],
        recent_days=config["RECENT_CHANGES_DAYS"],
        accepted_late_days=config["ALERT_ACCEPTED_DAYS"],
        pair_status_labels=PAIR_STATUS_LABELS,
    ), status


# The demande and binôme pages' statements are built once, the ids bound at each request: building a
# statement with its loader options, and its cache key, costs more than running it
# (bench/README.md, "Pages web").


class _Row:
    """Columns of one row as attributes, with the properties of the model they come from (the
    demande page reads rows, not ORM objects; the properties are the models' own)."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


class _PersonRow(_Row):
    full_name = User.full_name


class _RequestRow(_Row):
    status_label = TutoringRequest.status_label
    topic_codes = TutoringRequest.topic_codes
    mode_codes = TutoringRequest.mode_codes


class _ProfileRow(_Row):
    metier_codes = MenteeProfile.metier_codes
    metier_titles = MenteeProfile.metier_titles
    obstacle_codes = MenteeProfile.obstacle_codes
    is_complete = MenteeProfile.is_complete


class _CommuneRow(_Row):
    label = Commune.label


_creator = aliased(User, name="creator")
_REQUEST_COLUMNS = {
    "request": (
        TutoringRequest.id,
        TutoringRequest.mentee_id,
        TutoringRequest.created_by_id,
        TutoringRequest.status,
        TutoringRequest.topics,
        TutoringRequest.meeting_modes,
        TutoringRequest.message,
        TutoringRequest.constraints,
        TutoringRequest.created_at,
    ),
    "mentee": (User.id, User.first_name, User.last_name),
    "creator": (_creator.id, _creator.first_name, _creator.last_name),
    "profile": (
        MenteeProfile.user_id,
        MenteeProfile.commune_code,
        MenteeProfile.target_metiers,
        MenteeProfile.target_titles,
        MenteeProfile.availability,
        MenteeProfile.max_km,
        MenteeProfile.has_car,
        MenteeProfile.remote_ok,
        MenteeProfile.obstacles,
    ),
    "commune": (
        Commune.code_insee,
        Commune.nom,
        Commune.codes_postaux,
        Commune.latitude,
        Commune.longitude,
        Commune.population,
    ),
}
# The demande page's one row: the demande, its mentee, her profile and commune, who made it, in
# the référent's caseload (the access check of `visible_requests`, written once in `in_caseload`,
# which joins the profile), built once. Plain columns: no ORM objects to build.
# It carries the tutors' pool settings too (its token is read before the pool, one query fewer).
_REQUEST_ROW = (
    in_caseload(
        select(
            *(
                column.label(f"{part}__{column.key}")
                for part, columns in _REQUEST_COLUMNS.items()
                for column in columns
            ),
            *suggestions.POOL_SETTINGS,
        ),
        TutoringRequest.mentee_id,
        bindparam("referent_id"),
    )
    .join(User, User.id == TutoringRequest.mentee_id)
    .join(_creator, _creator.id == TutoringRequest.created_by_id)
    .outerjoin(Commune, Commune.code_insee == MenteeProfile.commune_code)
    .where(TutoringRequest.id == bindparam("id"))
)
# Each part's class, column names and place in the row.
_ROW_PARTS: list[tuple[str, type[_Row], list[str], int, int]] = []
_start = 0
for _part, _class in (
    ("request", _RequestRow),
    ("mentee", _PersonRow),
    ("creator", _PersonRow),
    ("profile", _ProfileRow),
    ("commune", _CommuneRow),
):
    _keys = [c.key for c in _REQUEST_COLUMNS[_part]]
    _ROW_PARTS.append((_part, _class, _keys, _start, _start + len(_keys)))
    _start += len(_keys)
# A demande's proposals as plain rows, with their tutor's name and whether they were made outside
# the ranking (read from the explanation kept with each).
_REQUEST_PAIRS = (
    select(
        Pair.id,
        Pair.status,
        Pair.proposed_at,
        Pair.decline_reason,
        Pair.explanation,
        User.first_name,
        User.last_name,
        # What suggestions.declined_among reads: who declined this demande, when, why.
        Pair.tutor_id,
        Pair.updated_at,
        Pair.decline_detail,
        Pair.tutor_answer,
    )
    .join(User, User.id == Pair.tutor_id)
    .where(Pair.request_id == bindparam("id"))
    .order_by(Pair.proposed_at.desc(), Pair.id.desc())
)
# The binôme page: the pair and the names, places and métier it shows, as plain columns (not nine
# ORM objects), in one query that is also the access check (the référent's caseload, :referent_id,
# whose join on the mentee's profile gives her commune too).
_mentee, _tutor, _proposer = (aliased(User, name=n) for n in ("mentee", "tutor", "proposer"))
_tutor_profile = aliased(TutorProfile)
_mentee_commune, _tutor_commune = aliased(Commune), aliased(Commune)
_PAIR_PAGE = (
    in_caseload(
        select(
            *pair_record.PAIR_COLUMNS,
            _mentee.first_name.label("mentee_first_name"),
            _mentee.last_name.label("mentee_last_name"),
            _mentee_commune.nom.label("mentee_commune"),
            _tutor.first_name.label("tutor_first_name"),
            _tutor.last_name.label("tutor_last_name"),
            _tutor.email.label("tutor_email"),
            _tutor.phone.label("tutor_phone"),
            _tutor_commune.nom.label("tutor_commune"),
            _tutor_profile.metier_code.label("metier_code"),
            _tutor_profile.metier_title.label("metier_title"),
            RomeMetier.label.label("metier_label"),
            TutoringRequest.created_at.label("request_created_at"),
            TutoringRequest.status.label("request_status"),
            _proposer.first_name.label("proposer_first_name"),
            _proposer.last_name.label("proposer_last_name"),
        ),
        Pair.mentee_id,
        bindparam("referent_id"),
    )
    .join(_mentee, _mentee.id == Pair.mentee_id)
    .outerjoin(_mentee_commune, _mentee_commune.code_insee == MenteeProfile.commune_code)
    .join(_tutor, _tutor.id == Pair.tutor_id)
    .outerjoin(_tutor_profile, _tutor_profile.user_id == Pair.tutor_id)
    .outerjoin(_tutor_commune, _tutor_commune.code_insee == _tutor_profile.commune_code)
    .outerjoin(RomeMetier, RomeMetier.code == _tutor_profile.metier_code)
    .join(TutoringRequest, TutoringRequest.id == Pair.request_id)
    .join(_proposer, _proposer.id == Pair.proposed_by_id)
    .where(Pair.id == bindparam("id"))
)
_PAIR_WIDTH = len(pair_record.PAIR_COLUMNS)
# The binôme page's links that take one id: (name, endpoint, the id's argument, the binôme's field
# that gives it). Their addresses are built by `url_for` once per application and script root,
# with a placeholder id, and the page puts its ids in: ten `url_for` per page cost as much as its
# timeline (bench/README.md, "Pages web"). A link with two ids (a report, a question) keeps url_for.
_PAIR_LINKS = (
    ("end", "referent.end", "pair_id", "id"),
    ("resume", "referent.resume", "pair_id", "id"),
    ("confirm", "referent.confirm", "pair_id", "id"),
    ("withdraw", "referent.withdraw", "pair_id", "id"),
    ("mentee_answer", "referent.mentee_answer", "pair_id", "id"),
    ("help_later", "referent.help_later", "pair_id", "id"),
    ("explanation", "referent.explanation", "pair_id", "id"),
    ("summary_pdf", "referent.pair_summary_pdf", "pair_id", "id"),
    ("request", "referent.request_detail", "request_id", "request_id"),
    ("mentee", "referent.mentee", "user_id", "mentee_id"),
)
_LINK_ID = 987654321
_PAIR_LINK_PARTS = "tutorat_pair_link_parts"


def pair_links(pair: Any) -> dict[str, str]:
    """The addresses of `pair`'s page links by name (`_PAIR_LINKS`), as `url_for` builds them."""
    by_root: dict[str, list[tuple[str, str, str, str]]] = current_app.extensions.setdefault(
        _PAIR_LINK_PARTS, {}
    )
    parts = by_root.get(request.script_root)
    if parts is None:
        parts = []
        for name, endpoint, key, field in _PAIR_LINKS:
            values: dict[str, Any] = {key: _LINK_ID}
            before, after = url_for(endpoint, **values).split(str(_LINK_ID))
            parts.append((name, before, field, after))
        if len(by_root) < 4:  # one script root in any real deployment
            by_root[request.script_root] = parts
    return {name: f"{before}{getattr(pair, field)}{after}" for name, before, field, after in parts}


# A binôme's or a demande's status changes as plain rows, with who acted (and for whom) by name.
_actor, _on_behalf_of = aliased(User, name="actor"), aliased(User, name="on_behalf_of")


def _event_rows(entity: EventEntity):
    return (
        select(
            StatusEvent.id,
            StatusEvent.at,
            StatusEvent.from_status,
            StatusEvent.to_status,
            StatusEvent.reason,
            StatusEvent.actor_id,
            (_actor.first_name + " " + _actor.last_name).label("actor_name"),
            (_on_behalf_of.first_name + " " + _on_behalf_of.last_name).label("on_behalf_of_name"),
        )
        .outerjoin(_actor, _actor.id == StatusEvent.actor_id)
        .outerjoin(_on_behalf_of, _on_behalf_of.id == StatusEvent.on_behalf_of_id)
        .where(StatusEvent.entity == entity, StatusEvent.entity_id == bindparam("id"))
        .order_by(StatusEvent.at, StatusEvent.id)
    )


_REQUEST_EVENTS = _event_rows(EventEntity.REQUEST)
_PAIR_MEETINGS = (
    select(Meeting)
    .where(Meeting.pair_id == bindparam("id"))
    .order_by(Meeting.date.desc(), Meeting.id.desc())
)


# How many ranked tutors a demande page may show (?nombre=): the first CANDIDATES_SHOWN by default,
# more on request, so the usual page stays light (bench/README.md, "Pages web").
CANDIDATES_MAX = 100


def _request_page(
    request_id: int,
    status: int = 200,
    propose_form=None,
    outside_form=None,
    wait_form=None,
):
    tutoring_request = _request_or_404(request_id)
    shown_max = current_app.config["CANDIDATES_SHOWN"]
    raw = request.args.get("nombre", "")
    if raw:
        if raw.isascii() and raw.isdigit() and 0 < int(raw) <= CANDIDATES_MAX:
            shown_max = int(raw)
        else:
            flash(
                f"Nombre de tuteurs inconnu : choisissez un nombre de 1 à {CANDIDATES_MAX}.",
                "error",
            )
            status = 400
    candidates: list = []
    feasible, error, overview = 0, None, None
    searched, found = None, []
    unmatched = tutoring_request.status in UNMATCHED_REQUEST_STATUSES
    pairs = db.session.connection().execute(_REQUEST_PAIRS, {"id": tutoring_request.id}).all()
    profile = tutoring_request.profile
    # The ROME labels of the profile's codes, read once: shown, and checked before the ranking.
    rome = rome_code_labels(profile.metier_codes)
    declined: dict = {}
    if unmatched:
        declined = suggestions.declined_among(pairs)
        try:
            candidates, feasible, overview = suggestions.request_overview(
                tutoring_request,
                shown_max,
                declined,
                rome,
                (profile, profile.commune),
                tutoring_request.pool_settings,
            )
        except DomainError as exc:
            error = exc.message
        searched = request.args.get("tuteur")
        if searched is not None:
            try:
                found = suggestions.search_tutors(searched)
            except DomainError as exc:
                flash(exc.message, "error")
                status = 400
    events = db.session.connection().execute(_REQUEST_EVENTS, {"id": tutoring_request.id}).all()
    return render_template(
        "referent/request.html",
        tutoring_request=tutoring_request,
        profile=profile,
        candidates=candidates,
        feasible=feasible,
        shown=len(candidates),
        error=error,
        overview=overview,
        searched=searched,
        found=found,
        pairs=pairs,
        events=events,
        # Forms are built only to show their errors: the page writes its few fields itself.
        outside_form=outside_form,
        wait_form=wait_form,
        # Métiers only (what `metier_labels` gives the other pages).
        metiers={code: label for code, label in rome.items() if len(code) == 5},
        reason_labels=matching.LEFT_OUT_REASONS,
        unmatched=unmatched,
        declined_ids=set(declined),
        now=datetime.now(UTC),
    ), status


def _request_or_404(request_id: int) -> Any:
    """The demande `request_id` of the current référent's caseload as a `_RequestRow`, with its
    `mentee`, `created_by`, `profile` and the profile's `commune` (None if not given), or 404."""
    row = (
        db.session.connection()
        .execute(_REQUEST_ROW, {"id": request_id, "referent_id": current_user.id})
        .first()
    )
    row = found_or_404(row, row.request__mentee_id if row is not None else None)
    rows: dict[str, Any] = {
        part: cls(**dict(zip(names, row[start:end], strict=True)))
        for part, cls, names, start, end in _ROW_PARTS
    }
    found = rows["request"]
    found.mentee, found.created_by = rows["mentee"], rows["creator"]
    found.profile = rows["profile"]
    found.profile.commune = rows["commune"] if rows["commune"].code_insee is not None else None
    found.pool_settings = suggestions.pool_settings_of(row)
    return found


@bp.get("/demandes/<int:request_id>")
def request_detail(request_id: int):
    return _request_page(request_id)


@bp.get("/demandes/<int:request_id>/ecartes")
def request_left_out(request_id: int):
    """The tutors left out of a demande's ranking, with the closest people of each reason: on their
    own page, so that the demande's page stays light (it shows the reasons and their counts)."""
    tutoring_request = _request_or_404(request_id)
    if tutoring_request.status not in UNMATCHED_REQUEST_STATUSES:
        flash(
            "Cette demande a déjà un binôme : il n'y a plus de classement ni de tuteurs écartés.",
            "info",
        )
        return redirect(url_for("referent.request_detail", request_id=request_id))
    feasible, overview, error = 0, None, None
    try:
        profile = tutoring_request.profile
        feasible, overview = suggestions.left_out_for(
            tutoring_request,
            suggestions.declined_tutors(tutoring_request.id),
            (profile, profile.commune),
        )
    except DomainError as exc:
        error = exc.message
    return render_template(
        "referent/left_out.html",
        tutoring_request=tutoring_request,
        feasible=feasible,
        overview=overview,
        error=error,
    )


@bp.post("/demandes/<int:request_id>/proposer")
def propose(request_id: int):
    tutoring_request = get_or_404(visible_requests, TutoringRequest, request_id)
    form = ProposeForm()
    return handle_post(
        form,
        lambda: pair_service.propose(tutoring_request, int(form.tutor_id.data), actor=current_user),
        on_success=lambda pair: success(
            "La proposition est envoyée au tuteur et au bénéficiaire.",
            url_for("referent.pair", pair_id=pair.id),
        ),
        render=lambda status: _request_page(request_id, status, form),
    )


@bp.post("/demandes/<int:request_id>/hors-classement")
def propose_outside(request_id: int):
    tutoring_request = get_or_404(visible_requests, TutoringRequest, request_id)
    form = OutsideRankingForm(prefix="outside")
    return handle_post(
        form,
        lambda: pair_service.propose_outside(
            tutoring_request,
            int(form.tutor_id.data),
            reason=form.reason.data or "",
            actor=current_user,
        ),
        on_success=lambda pair: success(
            "La proposition hors classement est envoyée au tuteur et au bénéficiaire ; "
            "votre raison est enregistrée avec elle.",
            url_for("referent.pair", pair_id=pair.id),
        ),
        render=lambda status: _request_page(request_id, status, outside_form=form),
    )


@bp.post("/demandes/<int:request_id>/liste-attente")
def waiting_list(request_id: int):
    tutoring_request = get_or_404(visible_requests, TutoringRequest, request_id)
    form = WaitingListForm(prefix="wait")
    return handle_post(
        form,
        lambda: request_service.put_on_waiting_list(
            tutoring_request, actor=current_user, reason=form.reason.data or ""
        ),
        on_success=lambda _: success(
            "La demande est en liste d'attente. Elle sort des demandes urgentes ; vous serez "
            "prévenu par courriel dès qu'un tuteur sera possible.",
            url_for("referent.request_detail", request_id=tutoring_request.id),
        ),
        render=lambda status: _request_page(request_id, status, wait_form=form),
    )


@bp.post("/demandes/<int:request_id>/reprendre")
def leave_waiting_list(request_id: int):
    tutoring_request = get_or_404(visible_requests, TutoringRequest, request_id)
    return handle_post(
        ActionForm(),
        lambda: request_service.leave_waiting_list(
            tutoring_request, actor=current_user, reason="Reprise par le référent"
        ),
        on_success=lambda _: success(
            "La demande revient dans votre file.",
            url_for("referent.request_detail", request_id=tutoring_request.id),
        ),
        render=lambda status: _request_page(request_id, status),
    )


def _pair_page(
    pair_id: int, status: int = 200, answer_form=None, check_in_form=None, help_form=None
):
    """The binôme page (a 404 outside the référent's caseload); `answer_form`, `check_in_form`
    and `help_form` with their errors."""
    row = (
        db.session.connection()
        .execute(_PAIR_PAGE, {"id": pair_id, "referent_id": current_user.id})
        .first()
    )
    pair = found_or_404(
        pair_record.PairRow(*row[:_PAIR_WIDTH]) if row else None, row.mentee_id if row else None
    )
    # Its meetings, status changes, questions, reports, goals, outcomes…: plain rows, one query.
    record = pair_record.read(pair.id)
    pair.outcome_rows = record.outcomes
    meetings, events = record.meetings, record.events
    # One timeline: status changes and meetings, oldest first (a meeting has a date, no time).
    timeline = sorted(
        [(e.at.astimezone(PARIS).date(), 0, "event", e) for e in events]
        + [(m.date, 1, "meeting", m) for m in meetings],
        key=lambda item: (item[0], item[1], item[3].id),
    )
    # The mentee's answer is entered here only while a proposal awaits it.
    answering = pair.mentee_answer is None and pair.status in (
        PairStatus.PROPOSED,
        PairStatus.TUTOR_ACCEPTED,
    )
    check_ins = record.check_ins
    asks_to_help = loop.asks_to_help(pair)
    # The mentee's answer to « aider à son tour », noted here until the invitation has gone: the
    # form is built only then (a form costs as much as the rest of the view).
    if asks_to_help and not pair.help_invited_at:
        help_form = help_form or HelpLaterForm(prefix="help")
    # The answer a person gave by phone, recorded by the référent: one form per open question.
    check_in_forms = {
        c.id: CheckInForm(prefix=f"point{c.id}")
        for c in (checkins.still_open(check_ins) if pair.is_running else [])
    }
    if check_in_form is not None:
        check_in_forms[check_in_form[0]] = check_in_form[1]
    return render_template(
        "referent/pair.html",
        pair=pair,
        people=row,
        meetings=meetings,
        events=events,
        timeline=timeline,
        answer_form=(answer_form or AnswerForm(prefix="answer")) if answering else None,
        asks_to_help=asks_to_help,
        help_form=help_form,
        no_meeting_days=current_app.config["ALERT_NO_MEETING_DAYS"],
        reminder_days=current_app.config["REMINDER_DAYS"],
        expiry_days=current_app.config["PROPOSAL_EXPIRY_DAYS"],
        reports=record.reports,
        check_ins=check_ins,
        check_in_forms=check_in_forms,
        goals=record.goals,
        checkin_days=current_app.config["CHECKIN_DAYS"],
        next_meeting=record.next_meeting,
        meeting_changes=record.changes,
        links=pair_links(pair),
    ), status


@bp.get("/binomes/<int:pair_id>")
def pair(pair_id: int):
    return _pair_page(pair_id)


@bp.post("/binomes/<int:pair_id>/points/<int:check_in_id>")
def check_in_answer(pair_id: int, check_in_id: int):
    """The answer to « Comment se passe le tutorat ? » a person gave by phone (asked by letter or
    SMS), recorded by their référent on their behalf."""
    pair = get_or_404(visible_pairs, Pair, pair_id)
    check_in = db.session.scalars(
        select(CheckIn).where(CheckIn.id == check_in_id, CheckIn.pair_id == pair.id)
    ).first()
    if check_in is None:
        abort(404)
    form = CheckInForm(prefix=f"point{check_in.id}")
    return handle_post(
        form,
        lambda: checkins.answer(
            check_in,
            actor=current_user,
            answer=form.answer.data,
            comment=form.comment.data or "",
        ),
        on_success=lambda _: success(
            f"La réponse de {check_in.person.full_name} est enregistrée.",
            url_for("referent.pair", pair_id=pair.id),
        ),
        render=lambda status: _pair_page(pair.id, status, check_in_form=(check_in.id, form)),
    )


def _pair_action(pair_id: int, action, success_message: str, form=None, form_kw: str | None = None):
    pair = get_or_404(visible_pairs, Pair, pair_id)
    form = form or ActionForm()
    page_kw = {form_kw: form} if form_kw else {}
    return handle_post(
        form,
        lambda: action(pair, form),
        on_success=lambda _: success(success_message, url_for("referent.pair", pair_id=pair.id)),
        render=lambda status: _pair_page(pair.id, status, **page_kw),
    )


@bp.post("/binomes/<int:pair_id>/aider-plus-tard")
def help_later(pair_id: int):
    """The référent notes the mentee's answer (given by phone, or to a letter) to « aider à son
    tour plus tard »."""
    return _pair_action(
        pair_id,
        lambda pair, form: loop.record_answer(
            pair, actor=current_user, yes=form.would_help.data == "yes"
        ),
        "La réponse de la personne est enregistrée (saisie par vous, en son nom).",
        HelpLaterForm(prefix="help"),
        "help_form",
    )


@bp.post("/binomes/<int:pair_id>/reponse-beneficiaire")
def mentee_answer(pair_id: int):
    return _pair_action(
        pair_id,
        lambda pair, form: pair_service.answer(
            pair,
            side=Role.MENTEE,
            actor=current_user,
            **form.service_values(),
        ),
        "La réponse du bénéficiaire est enregistrée (saisie par vous, en son nom).",
        AnswerForm(prefix="answer"),
        "answer_form",
    )


@bp.post("/binomes/<int:pair_id>/confirmer")
def confirm(pair_id: int):
    return _pair_action(
        pair_id,
        lambda pair, form: pair_service.confirm(pair, actor=current_user),
        "Le binôme est confirmé. Le tuteur et le bénéficiaire reçoivent leurs coordonnées.",
    )


@bp.post("/binomes/<int:pair_id>/retirer")
def withdraw(pair_id: int):
    return _pair_action(
        pair_id,
        lambda pair, form: pair_service.withdraw(pair, actor=current_user),
        "La proposition est retirée ; la demande revient dans votre file.",
    )


@bp.post("/binomes/<int:pair_id>/reprendre")
def resume(pair_id: int):
    """Resume a paused binôme, or one whose stop was requested, after talking with both people."""
    return _pair_action(
        pair_id,
        lambda pair, form: voices.resume(pair, actor=current_user, note=form.note.data or ""),
        "Le binôme reprend. Le tuteur et le bénéficiaire sont prévenus.",
        NoteForm(),
    )


@bp.post("/binomes/<int:pair_id>/signalements/<int:report_id>/traiter")
def handle_report(pair_id: int, report_id: int):
    """Mark a problem reported on this binôme as handled (with what was done)."""

    def action(pair: Pair, form: NoteForm) -> None:
        report = db.session.scalars(
            select(PairReport).where(PairReport.id == report_id, PairReport.pair_id == pair.id)
        ).first()
        if report is None:
            abort(404)
        voices.handle_report(report, pair, actor=current_user, note=form.note.data or "")

    return _pair_action(pair_id, action, "Le signalement est marqué comme traité.", NoteForm())


@bp.route("/binomes/<int:pair_id>/terminer", methods=["GET", "POST"])
def end(pair_id: int):
    """Ending a binôme, on a page of its own: the binôme's page, opened far more often, stays light."""
    pair = get_or_404(visible_pairs, Pair, pair_id)
    form = EndForm(prefix="end")
    return handle_post(
        form,
        lambda: pair_service.end(pair, actor=current_user, **form.service_values()),
        on_success=lambda _: success(
            "Le binôme est terminé et son résultat enregistré.",
            url_for("referent.pair", pair_id=pair.id),
        ),
        render=lambda status: (
            render_template("referent/pair_end.html", pair=pair, end_form=form),
            status,
        ),
    )


@bp.get("/beneficiaires")
def mentees():
    filters, number, ok = caseload.parse_filters(request.args, referent_id=current_user.id)
    result = caseload.list_caseload(filters, number)
    return render_template(
        "referent/mentees.html",
        result=result,
        filters=filters,
        sorts=caseload.SORTS,
        territories=followup.caseload_territories(current_user.id),
    ), (200 if ok else 400)


@bp.route("/beneficiaires/nouveau", methods=["GET", "POST"])
def new_mentee():
    form = NewMenteeForm()

    def created(user: User):
        return success(
            "Le compte est créé. "
            + (
                "Un courriel l'invite à choisir son mot de passe."
                if user.email
                else "Sans adresse électronique, c'est vous qui agirez pour cette personne."
            ),
            url_for("referent.mentee", user_id=user.id),
        )

    return handle_post(
        form,
        # Informed by their référent, who records their consent (the person may have no email).
        lambda: accounts.invite(
            role=Role.MENTEE,
            email=form.email.data,
            first_name=form.first_name.data,
            last_name=form.last_name.data,
            phone=form.phone.data,
            inviter=current_user,
        ),
        on_success=created,
        render=lambda status: (render_template("referent/new_mentee.html", form=form), status),
    )


@bp.route("/beneficiaires/<int:user_id>", methods=["GET", "POST"])
def mentee(user_id: int):
    user = get_mentee_or_404(user_id)
    profile = user.require_mentee_profile()
    form = SocialNoteForm(prefix="note")
    if request.method == "GET":
        form.social_note.data = profile.social_note

    def page(status: int):
        requests_ = db.session.scalars(
            select(TutoringRequest)
            .where(TutoringRequest.mentee_id == user.id)
            .order_by(TutoringRequest.created_at.desc())
        ).all()
        pairs = db.session.scalars(
            select(Pair).where(Pair.mentee_id == user.id).order_by(Pair.proposed_at.desc())
        ).all()
        return render_template(
            "referent/mentee.html",
            mentee=user,
            profile=profile,
            form=form,
            requests=requests_,
            pairs=pairs,
            letters=letter_service.history_of(user),
            missing_address=letter_service.reached_by_letter(user)
            and not contact.has_postal_address(user),
            referent_changes=caseload.history(user.id),
            metiers=metier_labels(profile.metier_codes),
        ), status

    return handle_post(
        form,
        lambda: profiles.set_social_note(profile, form.social_note.data or ""),
        on_success=lambda _: success(
            "La note est enregistrée.", url_for("referent.mentee", user_id=user.id)
        ),
        render=page,
    )


@bp.route("/beneficiaires/<int:user_id>/profil", methods=["GET", "POST"])
def mentee_profile(user_id: int):
    user = get_mentee_or_404(user_id)
    profile = user.require_mentee_profile()
    form = MenteeProfileForm()
    if request.method == "GET":
        form.fill(profile)
    return handle_post(
        form,
        lambda: profiles.update_mentee_profile(profile, **form.service_values()),
        on_success=lambda _: success(
            f"Le profil de {user.full_name} est enregistré.",
            url_for("referent.mentee", user_id=user.id),
        ),
        render=lambda status: (
            render_template(
                "referent/mentee_profile.html",
                form=form,
                mentee=user,
                profile=profile,
                action=url_for("referent.mentee_profile", user_id=user.id),
            ),
            status,
        ),
    )


@bp.route("/beneficiaires/<int:user_id>/demande", methods=["GET", "POST"])
def mentee_request(user_id: int):
    user = get_mentee_or_404(user_id)
    form = RequestForm()
    return handle_post(
        form,
        lambda: request_service.open_request(user, actor=current_user, **form.service_values()),
        on_success=lambda tutoring_request: success(
            f"La demande de {user.full_name} est enregistrée (faite par vous, en son nom).",
            url_for("referent.request_detail", request_id=tutoring_request.id),
        ),
        render=lambda status: (
            render_template(
                "referent/mentee_request.html",
                form=form,
                mentee=user,
                action=url_for("referent.mentee_request", user_id=user.id),
            ),
            status,
        ),
    )


@bp.get("/binomes/<int:pair_id>/explication")
def explanation(pair_id: int):
    """The explanation of the algorithm's part in this proposal (CRPA L311-3-1), printable."""
    pair = get_or_404(visible_pairs, Pair, pair_id)
    return render_template(
        "transparency/explanation.html",
        **transparency.explanation_context(pair, current_user),
        pdf_url=url_for("referent.explanation_pdf", pair_id=pair.id),
    )


@bp.get("/binomes/<int:pair_id>/explication.pdf")
def explanation_pdf(pair_id: int):
    """The explanation as a PDF one can print or hand over (same content, addresses printed)."""
    pair = get_or_404(visible_pairs, Pair, pair_id)
    response = current_app.response_class(
        transparency.explanation_pdf(pair, current_user), mimetype="application/pdf"
    )
    response.headers["Content-Disposition"] = (
        f'attachment; filename="explication-proposition-{pair.id}.pdf"'
    )
    return response


@bp.route("/beneficiaires/<int:user_id>/coordonnees", methods=["GET", "POST"])
def mentee_contact(user_id: int):
    """Postal address, phone and how the person accepts to be reached (letters, SMS, email)."""
    user = get_mentee_or_404(user_id)
    form = ContactForm()
    if request.method == "GET":
        form.fill(user)
    return handle_post(
        form,
        lambda: contact.update_contact(user, **form.service_values()),
        on_success=lambda _: success(
            f"Les coordonnées de {user.full_name} sont enregistrées.",
            url_for("referent.mentee", user_id=user.id),
        ),
        render=lambda status: (
            render_template(
                "referent/mentee_contact.html",
                form=form,
                mentee=user,
                commune=contact.commune_of(user),
            ),
            status,
        ),
    )


@bp.get("/courriers")
def letters():
    """« Courriers à envoyer »: the letters queued for this référent, and those recently posted."""
    return _letters_page(200)


def _letters_page(status: int):
    pending = letter_service.pending_for(current_user)
    rows = [(letter, contact.has_postal_address(letter.recipient_user)) for letter in pending]
    sent = db.session.scalars(
        visible_letters(current_user)
        .where(Letter.status == MessageStatus.SENT)
        .order_by(Letter.sent_at.desc())
        .limit(20)
    ).all()
    printable = [letter.id for letter, ok in rows if ok]
    form = LettersSentForm()
    form.letter_ids.data = ",".join(map(str, printable))
    return render_template(
        "referent/letters.html",
        rows=rows,
        sent=sent,
        printable=printable,
        form=form,
        missing=letter_service.missing_addresses(current_user.id),
    ), status


def _pdf_response(data: bytes, filename: str):
    response = current_app.response_class(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/courriers/a-envoyer.pdf")
def letters_pdf():
    """Every pending letter that has an address, one PDF, one letter per sheet."""
    printable = [
        letter
        for letter in letter_service.pending_for(current_user)
        if contact.has_postal_address(letter.recipient_user)
    ]
    if not printable:
        flash("Aucun courrier à imprimer : la liste est vide.", "error")
        return _letters_page(404)
    try:
        data = letter_service.render_pdf_or_record(printable)
    except DomainError as error:
        flash(error.message, "error")
        return _letters_page(503)
    return _pdf_response(data, f"courriers-tutorat-{datetime.now(UTC):%Y-%m-%d}.pdf")


@bp.get("/courriers/<int:letter_id>.pdf")
def letter_pdf(letter_id: int):
    letter = get_or_404(visible_letters, Letter, letter_id)
    try:
        letter_service.printable(letter)
        data = letter_service.render_pdf_or_record([letter])
    except letter_service.LetterRenderError as error:
        flash(error.message, "error")
        return _letters_page(503)
    except DomainError as error:
        flash(error.message, "error")
        return _letters_page(409 if isinstance(error, Conflict) else 422)
    return _pdf_response(data, f"courrier-{letter.reference}.pdf")


@bp.post("/courriers/envoyes")
def letters_sent():
    form = LettersSentForm()
    chosen = (
        db.session.scalars(visible_letters(current_user).where(Letter.id.in_(form.ids()))).all()
        if form.validate_on_submit()
        else []
    )
    return handle_post(
        form,
        lambda: letter_service.mark_sent(chosen, current_user),
        on_success=lambda count: success(
            f"{count} courrier(s) marqué(s) comme envoyé(s) ; ils restent dans l'historique de "
            "chaque personne.",
            url_for("referent.letters"),
        ),
        render=_letters_page,
    )


@bp.get("/binomes/<int:pair_id>/fiche.pdf")
def pair_summary_pdf(pair_id: int):
    """One page to hand to the person at a meeting: her binôme as she may see it."""
    pair = get_or_404(visible_pairs, Pair, pair_id)
    meetings = db.session.scalars(_PAIR_MEETINGS, {"id": pair.id}).all()
    return _pdf_response(
        letter_service.pair_summary_pdf(pair, meetings), f"fiche-binome-{pair.id}.pdf"
    )
