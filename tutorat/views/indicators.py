"""Indicators for the département (admin) and for each référent's caseload: figures, charts, CSV exports."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from tutorat import charts
from tutorat.models import Role
from tutorat.permissions import guard_blueprint
from tutorat.services import fairness, indicators, shortage
from tutorat.services.indicators import (
    DELAY_BUCKETS,
    MEETING_BUCKETS,
    MONTHS_SHORT,
    Period,
    PeriodError,
    Report,
)
from tutorat.services.indicators import checkins as checkin_rates
from tutorat.services.indicators import recruitment as recruitment_service

bp = Blueprint("indicators", __name__, url_prefix="/indicateurs")
guard_blueprint(bp, Role.ADMIN, Role.REFERENT)


_NO_FIGURE = Markup(
    '<span aria-hidden="true">—</span><span class="visually-hidden">aucune donnée</span>'
)


def _fr(value, unit: str = "") -> Markup:
    """A figure in French; a dash (read "aucune donnée") when there is none."""
    text = indicators.display(value)
    if text is None:
        return _NO_FIGURE
    return Markup.escape(text + unit)


@bp.context_processor
def _helpers():
    return {"fr": _fr}


class _KeyFigures:
    """The main page's key figures, each computed and written once (`fig` in home.html: some
    appear twice, and the template calls no helper for them)."""

    def __init__(self, report: Report) -> None:
        rate, mean = report.acceptance_rate, report.meetings_mean
        self.has_acceptance_rate = rate is not None
        self.has_meetings_mean = mean is not None
        self.requests_created = _fr(report.requests_created)
        self.proposals = _fr(report.proposals)
        self.acceptance_rate = _fr(rate)
        self.to_proposal_median = _fr(report.to_proposal.median, "\u00a0j")
        self.to_active_median = _fr(report.to_active.median, "\u00a0j")
        self.meetings_mean = _fr(mean)
        self.meetings_median = _fr(report.meetings_median)
        self.tutors_live = _fr(report.tutors_live)
        self.tutors_repeat = _fr(report.tutors_repeat)
        self.pairs_started = _fr(report.pairs_started)
        self.pairs_ended = _fr(report.pairs_ended)


def _referent_id() -> int | None:
    """Whose figures: the admin sees the whole département, a référent only their caseload."""
    if current_user.role == Role.ADMIN:
        return None
    if current_user.role == Role.REFERENT:
        return current_user.id
    abort(403)  # the blueprint guard already refuses other roles: deny by default all the same


def _period() -> Period:
    return indicators.parse_period(
        request.args.get("du"), request.args.get("au"), today=datetime.now(UTC).date()
    )


def _bucket_labels(report: Report, buckets: list[tuple[str, str, int, int]]) -> list[str]:
    labels = []
    for i, (key, _, _, _) in enumerate(buckets):
        if report.period.by_year:
            labels.append(key)
            continue
        month = MONTHS_SHORT[int(key[5:]) - 1]
        labels.append(f"{month}\n{key[:4]}" if i == 0 or key.endswith("-01") else month)
    return labels


def _charts(report: Report) -> dict[str, Markup]:
    buckets = report.series_by_bucket()
    delay_labels = [
        b[3].replace(" à ", " à\n", 1) if " à " in b[3] else b[3] for b in DELAY_BUCKETS
    ]
    reasons = report.reason_rows()
    outcomes = report.outcome_rows()
    meetings = report.meeting_rows()
    answers = report.table("reponses").rows
    to_proposal, to_active = report.to_proposal.buckets(), report.to_active.buckets()
    return {
        "mois": charts.line_chart(
            "graphique-mois",
            "Demandes créées et propositions faites, "
            + ("par an" if report.period.by_year else "par mois"),
            _bucket_labels(report, buckets),
            [
                charts.Series("Demandes créées", [b[2] for b in buckets], charts.ARMAGNAC),
                charts.Series("Propositions faites", [b[3] for b in buckets], charts.BLUE),
            ],
            desc=charts.describe(
                [b[1] for b in buckets],
                [
                    charts.Series("Demandes créées", [b[2] for b in buckets]),
                    charts.Series("Propositions faites", [b[3] for b in buckets]),
                ],
            ),
        ),
        "delais": charts.column_chart(
            "graphique-delais",
            "Délai entre la demande et la première proposition, puis le binôme actif",
            delay_labels,
            [
                charts.Series("Première proposition", to_proposal, charts.BLUE),
                charts.Series("Binôme actif", to_active, charts.GREEN),
            ],
            desc=charts.describe(
                [b[2] for b in DELAY_BUCKETS],
                [
                    charts.Series("Demandes arrivées à la première proposition", to_proposal),
                    charts.Series("Demandes arrivées au binôme actif", to_active),
                ],
            ),
        ),
        "reponses": charts.bar_chart(
            "graphique-reponses",
            "Réponses aux propositions faites pendant la période",
            [r[0] for r in answers],
            [charts.Series("Propositions", [r[1] for r in answers], charts.GREEN)],
        ),
        "raisons": charts.bar_chart(
            "graphique-raisons",
            "Raisons des refus et des expirations",
            [r[0] for r in reasons],
            [
                charts.Series("Refus", [r[1] for r in reasons], charts.ARMAGNAC),
                charts.Series("Expirations", [r[2] for r in reasons], charts.PURPLE),
            ],
        ),
        "rencontres": charts.column_chart(
            "graphique-rencontres",
            "Nombre de rencontres par binôme commencé pendant la période",
            [str(k) for k in range(MEETING_BUCKETS)] + [f"{MEETING_BUCKETS}\nou plus"],
            [charts.Series("Binômes", [r[1] for r in meetings], charts.GREEN)],
            desc=charts.describe(
                [r[0] for r in meetings], [charts.Series("Binômes", [r[1] for r in meetings])]
            ),
        ),
        "resultats": charts.bar_chart(
            "graphique-resultats",
            "Résultats des binômes terminés pendant la période",
            [r[0] for r in outcomes],
            [charts.Series("Binômes terminés", [r[1] for r in outcomes], charts.GREEN)],
        ),
    }


def _territory_charts(report: Report) -> dict[str, Markup]:
    demand, supply = "Demandes ouvertes", "Places libres"
    return {
        "cantons": charts.bar_chart(
            "graphique-cantons",
            "Demandes ouvertes et places libres de tuteurs, par canton",
            [t.name for t in report.cantons],
            [
                charts.Series(demand, [t.open_requests for t in report.cantons], charts.ARMAGNAC),
                charts.Series(supply, [t.places for t in report.cantons], charts.BLUE),
            ],
        ),
        "epci": charts.bar_chart(
            "graphique-epci",
            "Demandes ouvertes et places libres de tuteurs, par EPCI",
            [t.name for t in report.epcis],
            [
                charts.Series(demand, [t.open_requests for t in report.epcis], charts.ARMAGNAC),
                charts.Series(supply, [t.places for t in report.epcis], charts.BLUE),
            ],
        ),
    }


def _map(report: Report) -> Markup:
    return charts.dot_map(
        "carte-gers",
        "Carte du Gers : demandes ouvertes et places libres de tuteurs par commune",
        [
            charts.MapPoint(c.name, c.lat, c.lon, c.population, c.open_requests, c.places)
            for c in report.communes
        ],
    )


@bp.get("/communes")
def communes():
    """The map and the 458 communes: today's figures (no period), on their own heavier page."""
    period = indicators.default_period(datetime.now(UTC).date())
    report = indicators.build_report(period, referent_id=_referent_id(), communes=True)
    return render_template(
        "indicators/communes.html",
        report=report,
        table=report.tables()["communes"],
        carte=_map(report),
    )


class _LazyTables:
    """`tables.cantons` in a template: each table built when the page asks for it, not before
    (the communes' table is for /indicateurs/communes and the CSV exports only)."""

    def __init__(self, report) -> None:
        self._report = report

    def __getattr__(self, key: str):
        return self._report.table(key)

    __getitem__ = __getattr__


@bp.get("/manques")
def shortage_page():
    """The demandes no tutor fits today, by canton and EPCI: where to recruit tutors."""
    return render_template(
        "indicators/shortage.html",
        shortage=shortage.shortage(referent_id=_referent_id()),
    )


@bp.get("/territoires")
def territories():
    """Today's supply and demand by canton and EPCI (no period): charts and tables, on their own page."""
    period = indicators.default_period(datetime.now(UTC).date())
    report = indicators.build_report(period, referent_id=_referent_id())
    return render_template(
        "indicators/territories.html",
        report=report,
        tables=_LazyTables(report),
        charts=_territory_charts(report),
    )


@bp.get("/tableau/<table>")
def table_page(table: str):
    """One table of the indicators (the figures of a chart), for the period asked: the main page
    shows the charts and links here, so that it stays light."""
    if table not in indicators.TABLES:
        abort(404)
    if table == "communes":
        return redirect(url_for("indicators.communes", _anchor="communes"))
    try:
        period = _period()
    except PeriodError as error:
        return render_template(
            "errors/error.html", code=400, title="Période invalide", text=error.message
        ), 400
    report = indicators.build_report(
        period, referent_id=_referent_id(), territories=table in indicators.TERRITORY_TABLES
    )
    return render_template("indicators/table.html", report=report, table=report.table(table))


# A table's key inside the addresses of the table pages and CSV files (_table_links).
_TABLE_KEY = "__tableau__"
# Per script root: the table page's and the CSV's addresses, the key still to put in. URL strings
# as base.html's site links (tutorat/templating.py::SiteLinks), never rendered HTML.
_TABLE_ADDRESSES: dict[str, tuple[str, str]] = {}


def _table_links(period: Period) -> dict[str, tuple[str, str]]:
    """Each table's page and CSV for the period: what `url_for(…, table=key, du=…, au=…)` gives
    (two ISO dates: nothing in them to quote), without its sixteen calls per page."""
    root = request.script_root
    addresses = _TABLE_ADDRESSES.get(root)
    if addresses is None:
        addresses = (
            url_for("indicators.table_page", table=_TABLE_KEY),
            url_for("indicators.export", table=_TABLE_KEY),
        )
        if len(_TABLE_ADDRESSES) < 4:
            _TABLE_ADDRESSES[root] = addresses
    query = f"?du={period.start.isoformat()}&au={period.end.isoformat()}"  # Period.query_args
    page, csv = addresses[0] + query, addresses[1] + query
    return {
        key: (page.replace(_TABLE_KEY, key), csv.replace(_TABLE_KEY, key))
        for key in indicators.TABLES
    }


@bp.get("/")
def home():
    try:
        period = _period()
    except PeriodError as error:
        return _period_error("indicators/home.html", error, report=None)
    # The period's figures and charts; each chart's table, and today's supply and demand by
    # territory, on their own pages (links): the page a référent opens stays light.
    report = indicators.build_report(period, referent_id=_referent_id(), territories=False)
    return render_template(
        "indicators/home.html",
        error=None,
        du=period.start.isoformat(),
        au=period.end.isoformat(),
        report=report,
        titles=indicators.TABLES,
        links=_table_links(period),
        fig=_KeyFigures(report),
        charts=_charts(report),
    )


@bp.get("/export/<table>.csv")
def export(table: str):
    if table not in indicators.TABLES:
        abort(404)
    try:
        period = _period()
    except PeriodError as error:
        return render_template(
            "errors/error.html", code=400, title="Période invalide", text=error.message
        ), 400
    report = indicators.build_report(
        period,
        referent_id=_referent_id(),
        communes=table == "communes",
        territories=table in indicators.TERRITORY_TABLES,
    )
    scope = "departement" if report.whole_department else "mes-beneficiaires"
    filename = f"tutorat-{table}-{scope}-{period.start.isoformat()}-{period.end.isoformat()}.csv"
    return _csv(report.table(table).csv_bytes(), filename)


@bp.get("/equite")
def fairness_page():
    """Who waits longer: the audit by group (the admin: the département; a référent: their caseload)."""
    return render_template(
        "indicators/fairness.html", report=fairness.report(referent_id=_referent_id())
    )


@bp.get("/equite.csv")
def fairness_export():
    report = fairness.report(referent_id=_referent_id())
    scope = "departement" if report.whole_department else "mes-beneficiaires"
    day = datetime.now(UTC).date().isoformat()
    return _csv(report.table().csv_bytes(), f"tutorat-equite-{scope}-{day}.csv")


def _period_error(template: str, error: PeriodError, **empty):
    """The page again, with the period typed and why it cannot be used (400)."""
    return render_template(
        template,
        error=error,
        du=request.args.get("du", ""),
        au=request.args.get("au", ""),
        **empty,
    ), 400


def _csv(data: bytes, filename: str) -> Response:
    return Response(
        data,
        mimetype="text/csv",
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{filename}"',
        },
    )


@bp.get("/points")
def checkins_page():
    """« Comment se passe le tutorat ? »: answer rates, Bien / Moyen / Pas bien, missed."""
    try:
        period = _period()
    except PeriodError as error:
        return _period_error("indicators/checkins.html", error, table=None)
    table = checkin_rates.check_in_rates(period, referent_id=_referent_id(), now=datetime.now(UTC))
    return render_template(
        "indicators/checkins.html",
        error=None,
        du=period.start.isoformat(),
        au=period.end.isoformat(),
        period=period,
        table=table,
    )


@bp.get("/points.csv")
def checkins_export():
    try:
        period = _period()
    except PeriodError as error:
        return render_template(
            "errors/error.html", code=400, title="Période invalide", text=error.message
        ), 400
    referent_id = _referent_id()
    table = checkin_rates.check_in_rates(period, referent_id=referent_id, now=datetime.now(UTC))
    scope = "departement" if referent_id is None else "mes-beneficiaires"
    filename = f"tutorat-points-{scope}-{period.start.isoformat()}-{period.end.isoformat()}.csv"
    return _csv(table.csv_bytes(), filename)


def _admin_only() -> None:
    # Applications are seen by the administration only (services/vetting.py).
    if current_user.role != Role.ADMIN:
        abort(403)


@bp.get("/recrutement")
def recruitment():
    """Recruiting tutors: the pipeline with its delays, supply and demand by canton and EPCI."""
    _admin_only()
    report = recruitment_service.recruitment()
    return render_template(
        "indicators/recruitment.html",
        report=report,
        tables=[report.table(key) for key in recruitment_service.TABLES],
    )


@bp.get("/recrutement/<table>.csv")
def recruitment_export(table: str):
    _admin_only()
    if table not in recruitment_service.TABLES:
        abort(404)
    day = datetime.now(UTC).date().isoformat()
    return Response(
        recruitment_service.recruitment().table(table).csv_bytes(),
        mimetype="text/csv",
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="tutorat-{table}-{day}.csv"',
        },
    )
