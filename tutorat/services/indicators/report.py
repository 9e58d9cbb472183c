"""The indicators' report: the period, the figures and the tables built from them (no SQL here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property

from tutorat import vocab
from tutorat.models.pairs import STARTED_PAIR_STATUSES, UNANSWERED_PAIR_STATUSES, PairStatus
from tutorat.services.errors import DomainError
from tutorat.services.indicators.export import Column, Percent, Table

MIN_YEAR, MAX_YEAR = 2000, 2100
DEFAULT_MONTHS = 12
# Keys of `Report.outcomes` beside the outcome codes: binômes ended in the period, those without any
# outcome recorded, and the reasons of those stopped without result ("stop:<code>").
OUTCOME_ENDED, OUTCOME_NONE, OUTCOME_STOP_PREFIX = "*ended", "*none", "stop:"
# Beyond three years, the chart counts by year rather than by month.
MAX_MONTHLY_BUCKETS = 36
WITHIN_DAYS = (15, 30)

MONTHS_SHORT = (
    "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.",
)  # fmt: skip
MONTHS_LONG = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
    "novembre", "décembre",
)  # fmt: skip

# Pair statuses grouped by the answer they mean for the acceptance rate.
ANSWER_GROUPS: dict[str, tuple[str, frozenset[PairStatus]]] = {
    "accepted_by_both": (
        "Acceptées par les deux personnes",
        frozenset({PairStatus.ACCEPTED}) | STARTED_PAIR_STATUSES,
    ),
    "refused": ("Refusées", frozenset({PairStatus.DECLINED})),
    "lapsed": ("Expirées sans réponse", frozenset({PairStatus.EXPIRED})),
    "taken_back": ("Retirées par le référent", frozenset({PairStatus.WITHDRAWN})),
    "awaiting": ("En attente de réponse", UNANSWERED_PAIR_STATUSES),
}
# Reasons recorded by the system rather than chosen from vocab.DECLINE_REASONS.
OTHER_REASONS: dict[str | None, str] = {
    vocab.EXPIRY_REASON[0]: "Pas de réponse dans les délais",
    None: "Raison non enregistrée",
}

DELAY_BUCKETS = (
    (0, 7, "7 jours ou moins", "0 à 7 j"),
    (8, 15, "8 à 15 jours", "8 à 15 j"),
    (16, 30, "16 à 30 jours", "16 à 30 j"),
    (31, 60, "31 à 60 jours", "31 à 60 j"),
    (61, None, "Plus de 60 jours", "+ de 60 j"),
)
MEETING_BUCKETS = 6  # 0, 1, …, 5, then "6 ou plus"

TABLES = {
    "synthese": "Synthèse",
    "mois": "Demandes et propositions par mois",
    "delais": "Délais",
    "delais_repartition": "Répartition des délais",
    "reponses": "Réponses aux propositions",
    "raisons": "Raisons des refus et des expirations",
    "rencontres": "Rencontres par binôme",
    "resultats": "Résultats des binômes terminés",
    "cantons": "Offre et demande par canton",
    "epci": "Offre et demande par EPCI",
    "communes": "Offre et demande par commune",
}


# ---- The period ----


class PeriodError(DomainError):
    """The period typed cannot be used; the message says why, in French."""


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both days included."""

    start: date
    end: date

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end + 1 day) as UTC datetimes."""
        return (
            datetime.combine(self.start, time.min, UTC),
            datetime.combine(self.end + timedelta(days=1), time.min, UTC),
        )

    @cached_property
    def months(self) -> list[str]:
        """Each month of the period, as YYYY-MM (computed once: the charts ask for it 17 times)."""
        out, year, month = [], self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            out.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out

    @cached_property
    def by_year(self) -> bool:
        return len(self.months) > MAX_MONTHLY_BUCKETS

    def query_args(self) -> dict[str, str]:
        return {"du": self.start.isoformat(), "au": self.end.isoformat()}


def default_period(today: date) -> Period:
    """The last twelve months: from the first day of the month eleven months ago, to today."""
    months = today.year * 12 + today.month - 1 - (DEFAULT_MONTHS - 1)
    return Period(date(months // 12, months % 12 + 1, 1), today)


def _parse_date(value: str | None, which: str) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    parsed = None
    if len(value) <= 10:
        for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                parsed = datetime.strptime(value, fmt).date()
                break
            except ValueError:
                continue
    if parsed is None:
        shown = f" « {value} »" if len(value) <= 20 and value.isprintable() else ""
        raise PeriodError(
            f"La date {which}{shown} n'est pas une date valide. "
            "Écrivez-la sous la forme jj/mm/aaaa, par exemple 01/03/2026.",
            field="du" if which == "de début" else "au",
        )
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise PeriodError(
            f"La date {which} doit être comprise entre l'an {MIN_YEAR} et l'an {MAX_YEAR}.",
            field="du" if which == "de début" else "au",
        )
    return parsed


def parse_period(du: str | None, au: str | None, *, today: date) -> Period:
    """The period of the filter form; empty fields take the default (the last twelve months)."""
    start = _parse_date(du, "de début")
    end = _parse_date(au, "de fin") or today
    if start is None:
        start = default_period(end).start
    if start > end:
        raise PeriodError(
            f"La date de début ({_date_fr(start)}) est après la date de fin ({_date_fr(end)}) : "
            "la période est à l'envers. Choisissez une date de début plus ancienne que la date de fin.",
            field="du",
        )
    return Period(start, end)


def _date_fr(value: date) -> str:
    return f"{value.day} {MONTHS_LONG[value.month - 1]} {value.year}"


# ---- Figures ----


@dataclass(frozen=True)
class Delay:
    """Whole days from a demande's creation to a step, over the demandes created in the period."""

    label: str
    created: int
    counts: dict[int, int]  # whole days → demandes

    @property
    def reached(self) -> int:
        return sum(self.counts.values())

    @property
    def waiting(self) -> int:
        return self.created - self.reached

    @property
    def median(self) -> float | int | None:
        return _number(median_of_counts(self.counts))

    def within(self, days: int) -> Percent | None:
        if not self.reached:
            return None
        n = sum(c for d, c in self.counts.items() if d <= days)
        return Percent(100 * n / self.reached)

    def buckets(self) -> list[int]:
        return [
            sum(c for d, c in self.counts.items() if lo <= d and (hi is None or d <= hi))
            for lo, hi, _, _ in DELAY_BUCKETS
        ]


@dataclass(frozen=True)
class Territory:
    """Open demandes and tutors' free places in a commune, canton or EPCI."""

    code: str
    name: str
    open_requests: int = 0
    tutors: int = 0
    places: int = 0

    @property
    def gap(self) -> int:
        """Free places minus open demandes: negative where tutors are missing."""
        return self.places - self.open_requests

    @property
    def situation(self) -> str:
        if self.gap < 0:
            n = -self.gap
            return f"Il manque {n} place{'s' if n > 1 else ''}"
        if self.gap == 0:
            return "Autant de places que de demandes" if self.places else "Ni demande ni place"
        return f"{self.gap} place{'s' if self.gap > 1 else ''} de plus que de demandes"


@dataclass(frozen=True)
class MapCommune:
    code: str
    name: str
    lat: float
    lon: float
    population: int
    canton: str
    epci: str
    open_requests: int
    places: int
    tutors: int


def median_of_counts(counts: dict[int, int]) -> float | None:
    """The median of values given as {value: how many times}."""
    total = sum(counts.values())
    if not total:
        return None
    ordered = sorted(counts.items())

    def nth(k: int) -> int:  # 0-based
        seen = 0
        for value, n in ordered:
            seen += n
            if k < seen:
                return value
        raise IndexError(k)  # pragma: no cover

    if total % 2:
        return float(nth(total // 2))
    return (nth(total // 2 - 1) + nth(total // 2)) / 2


def _number(value: float | None) -> float | int | None:
    """A median or mean: an integer when it is whole."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else round(value, 1)


@dataclass
class Report:
    period: Period
    whole_department: bool
    by_month: dict[str, tuple[int, int]]  # "YYYY-MM" → (demandes created, proposals made)
    answers: dict[str, int]  # ANSWER_GROUPS key → proposals
    reasons: dict[str | None, tuple[int, int]]  # reason code → (declined, expired)
    to_proposal: Delay
    to_active: Delay
    meetings: dict[int, int]  # meetings → binômes confirmed in the period
    outcomes: dict[str | None, int]  # per outcome code, and the OUTCOME_* keys below
    tutors_live: int
    tutors_with_pair: int
    tutors_repeat: int
    communes: list[MapCommune]
    cantons: list[Territory]
    epcis: list[Territory]
    unknown_commune: Territory | None = None
    _tables: dict[str, Table] = field(default_factory=dict, repr=False)

    # -- headline figures --

    @property
    def requests_created(self) -> int:
        return sum(d for d, _ in self.by_month.values())

    @property
    def proposals(self) -> int:
        return sum(p for _, p in self.by_month.values())

    @property
    def acceptance_rate(self) -> Percent | None:
        decided = (
            self.answers["accepted_by_both"] + self.answers["refused"] + self.answers["lapsed"]
        )
        return Percent(100 * self.answers["accepted_by_both"] / decided) if decided else None

    @property
    def pairs_started(self) -> int:
        return sum(self.meetings.values())

    @property
    def meetings_mean(self) -> float | int | None:
        if not self.pairs_started:
            return None
        return _number(sum(k * n for k, n in self.meetings.items()) / self.pairs_started)

    @property
    def meetings_median(self) -> float | int | None:
        return _number(median_of_counts(self.meetings))

    @property
    def pairs_ended(self) -> int:
        return self.outcomes.get(OUTCOME_ENDED, 0)

    @property
    def open_requests(self) -> int:
        return sum(t.open_requests for t in self.cantons) + (
            self.unknown_commune.open_requests if self.unknown_commune else 0
        )

    @property
    def free_places(self) -> int:
        return sum(t.places for t in self.cantons)

    @property
    def tutors_with_places(self) -> int:
        return sum(t.tutors for t in self.cantons)

    # -- the series shown as charts and tables --

    def series_by_bucket(self) -> list[tuple[str, str, int, int]]:
        """(key, label, demandes, proposals) per month, or per year over long periods."""
        if not self.period.by_year:
            return [
                (m, f"{MONTHS_LONG[int(m[5:]) - 1]} {m[:4]}", *self.by_month.get(m, (0, 0)))
                for m in self.period.months
            ]
        years: dict[str, list[int]] = {}
        for m in self.period.months:
            d, p = self.by_month.get(m, (0, 0))
            acc = years.setdefault(m[:4], [0, 0])
            acc[0] += d
            acc[1] += p
        return [(y, y, d, p) for y, (d, p) in years.items()]

    def reason_rows(self) -> list[tuple[str, int, int]]:
        labels: dict[str | None, str] = dict(
            [*vocab.DECLINE_REASONS.items(), *OTHER_REASONS.items()]
        )
        codes: list[str | None] = list(vocab.DECLINE_REASONS)
        codes += [c for c in OTHER_REASONS if c in self.reasons]
        codes += [c for c in self.reasons if c not in codes]
        return [(labels.get(c, str(c)), *self.reasons.get(c, (0, 0))) for c in codes]

    def outcome_rows(self) -> list[tuple[str, int]]:
        """Binômes ended per outcome (one binôme may count under several: a job and leaving the
        RSA), then the reasons of those stopped without result, then those without any outcome."""
        rows = [(label, self.outcomes.get(code, 0)) for code, label in vocab.OUTCOMES.items()]
        rows += [
            (f"Arrêt sans résultat : {label.lower()}", n)
            for code, label in vocab.STOP_REASONS.items()
            if (n := self.outcomes.get(OUTCOME_STOP_PREFIX + code, 0))
        ]
        known = {OUTCOME_ENDED, OUTCOME_NONE, *vocab.OUTCOMES}
        known |= {OUTCOME_STOP_PREFIX + code for code in vocab.STOP_REASONS}
        other = self.outcomes.get(OUTCOME_NONE, 0)
        other += sum(n for code, n in self.outcomes.items() if code not in known)
        if other:
            rows.append(("Résultat non enregistré", other))
        return rows

    def meeting_rows(self) -> list[tuple[str, int]]:
        rows = []
        for k in range(MEETING_BUCKETS):
            rows.append((f"{k} rencontre{'s' if k > 1 else ''}", self.meetings.get(k, 0)))
        rows.append(
            (
                f"{MEETING_BUCKETS} rencontres ou plus",
                sum(n for k, n in self.meetings.items() if k >= MEETING_BUCKETS),
            )
        )
        return rows

    # -- tables (the page and the CSV exports share them) --

    def table(self, key: str) -> Table:
        if key not in self._tables:
            self._tables[key] = getattr(self, f"_table_{key}")()
        return self._tables[key]

    def tables(self) -> dict[str, Table]:
        return {key: self.table(key) for key in TABLES}

    def _table_synthese(self) -> Table:
        p = self.to_proposal
        a = self.to_active
        rows = [
            ("Demandes créées pendant la période", self.requests_created),
            ("Propositions de binôme faites pendant la période", self.proposals),
            ("Taux d'acceptation des propositions (acceptées ÷ acceptées, refusées ou expirées)",
             self.acceptance_rate),
            ("Délai médian de la demande à la première proposition (jours)", _number(p.median)),
            ("Demandes ayant reçu une proposition en 15 jours ou moins", p.within(15)),
            ("Demandes ayant reçu une proposition en 30 jours ou moins", p.within(30)),
            ("Délai médian de la demande au binôme actif (jours)", _number(a.median)),
            ("Binômes actifs en 15 jours ou moins après la demande", a.within(15)),
            ("Binômes actifs en 30 jours ou moins après la demande", a.within(30)),
            ("Binômes commencés pendant la période", self.pairs_started),
            ("Rencontres par binôme commencé (moyenne)", self.meetings_mean),
            ("Rencontres par binôme commencé (médiane)", self.meetings_median),
            ("Binômes terminés pendant la période", self.pairs_ended),
            ("Tuteurs avec un binôme en cours aujourd'hui (proposé, accepté ou actif)",
             self.tutors_live),
            ("Tuteurs ayant eu au moins un binôme, depuis le début", self.tutors_with_pair),
            ("Tuteurs ayant eu plus d'un binôme, depuis le début", self.tutors_repeat),
            ("Demandes ouvertes aujourd'hui (en attente d'une proposition)", self.open_requests),
            ("Tuteurs validés avec au moins une place libre aujourd'hui", self.tutors_with_places),
            ("Places libres de tuteurs aujourd'hui", self.free_places),
        ]  # fmt: skip
        return Table(
            "synthese", TABLES["synthese"], (Column("Indicateur", False), Column("Valeur")), rows
        )

    def _table_mois(self) -> Table:
        first = "Année" if self.period.by_year else "Mois"
        rows = [(label, d, p) for _, label, d, p in self.series_by_bucket()]
        return Table(
            "mois",
            "Demandes et propositions par an" if self.period.by_year else TABLES["mois"],
            (Column(first, False), Column("Demandes créées"), Column("Propositions faites")),
            rows,
        )

    def _table_delais(self) -> Table:
        rows = []
        for d in (self.to_proposal, self.to_active):
            rows.append(
                (d.label, d.reached, _number(d.median), d.within(15), d.within(30), d.waiting)
            )
        return Table(
            "delais",
            TABLES["delais"],
            (
                Column("Étape", False),
                Column("Demandes arrivées à cette étape"),
                Column("Délai médian (jours)"),
                Column("En 15 jours ou moins (%)"),
                Column("En 30 jours ou moins (%)"),
                Column("Demandes pas arrivées à cette étape (en attente ou annulées)"),
            ),
            rows,
            note=(
                "Demandes créées pendant la période. Le délai compte les jours entiers entre la "
                "création de la demande et la première fois qu'elle a atteint l'étape ; les "
                "pourcentages portent sur les demandes arrivées à l'étape."
            ),
        )

    def _table_delais_repartition(self) -> Table:
        a, b = self.to_proposal.buckets(), self.to_active.buckets()
        rows = [(bucket[2], a[i], b[i]) for i, bucket in enumerate(DELAY_BUCKETS)]
        return Table(
            "delais_repartition",
            TABLES["delais_repartition"],
            (
                Column("Délai depuis la demande", False),
                Column("Jusqu'à la première proposition (demandes)"),
                Column("Jusqu'au binôme actif (demandes)"),
            ),
            rows,
        )

    def _table_reponses(self) -> Table:
        rows = [(label, self.answers[key]) for key, (label, _) in ANSWER_GROUPS.items()]
        return Table(
            "reponses",
            TABLES["reponses"],
            (Column("Réponse", False), Column("Propositions")),
            rows,
            note="Propositions faites pendant la période, selon leur état aujourd'hui.",
        )

    def _table_raisons(self) -> Table:
        return Table(
            "raisons",
            TABLES["raisons"],
            (Column("Raison", False), Column("Refus"), Column("Expirations"), Column("Total")),
            [(label, d, e, d + e) for label, d, e in self.reason_rows()],
            note="Propositions faites pendant la période puis refusées ou expirées.",
        )

    def _table_rencontres(self) -> Table:
        return Table(
            "rencontres",
            TABLES["rencontres"],
            (Column("Nombre de rencontres", False), Column("Binômes")),
            self.meeting_rows(),
            note=(
                "Binômes devenus actifs pendant la période ; rencontres notées par le tuteur depuis, "
                "sauf celles contestées par le bénéficiaire."
            ),
        )

    def _table_resultats(self) -> Table:
        return Table(
            "resultats",
            TABLES["resultats"],
            (Column("Résultat", False), Column("Binômes terminés")),
            self.outcome_rows(),
            note="Binômes terminés pendant la période.",
        )

    def _territory_table(self, key: str, first: str, code: str, rows: list[Territory]) -> Table:
        body = [
            (t.name, t.code, t.open_requests, t.tutors, t.places, t.gap, t.situation) for t in rows
        ]
        if self.unknown_commune and key != "communes":
            u = self.unknown_commune
            body.append((u.name, "", u.open_requests, u.tutors, u.places, u.gap, u.situation))
        return Table(
            key,
            TABLES[key],
            (
                Column(first, False),
                Column(code, False),
                Column("Demandes ouvertes"),
                Column("Tuteurs avec des places"),
                Column("Places libres"),
                Column("Écart (places moins demandes)"),
                Column("Situation", False),
            ),
            body,
            note=(
                "Aujourd'hui, quelle que soit la période. Les territoires où il manque le plus de "
                "places viennent en premier."
            ),
        )

    def _table_cantons(self) -> Table:
        return self._territory_table("cantons", "Canton", "Code du canton", self.cantons)

    def _table_epci(self) -> Table:
        return self._territory_table("epci", "EPCI", "SIREN", self.epcis)

    def _table_communes(self) -> Table:
        rows = [
            Territory(c.code, c.name, c.open_requests, c.tutors, c.places)
            for c in self.communes
            if c.open_requests or c.places
        ]
        rows.sort(key=lambda t: (t.gap, t.name))
        table = self._territory_table("communes", "Commune", "Code INSEE", rows)
        return Table(
            table.key,
            table.title,
            table.columns,
            table.rows,
            note="Seules les communes avec au moins une demande ouverte ou une place libre figurent ici.",
        )
