"""Reference data look-ups: find a commune or a métier from what a person types."""

from __future__ import annotations

import csv
import re
import threading
import unicodedata
from collections.abc import Callable
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, or_, select, union_all

from matching.search import SearchIndex, commune_index, gendered_forms, title_index
from tutorat.extensions import db
from tutorat.models import Commune, RomeAppellation, RomeDomaine, RomeGrandDomaine, RomeMetier

ROME_CODE = re.compile(r"^[A-N]\d{4}$")


def normalize(text: str) -> str:
    """Lower case, no accents, words separated by single spaces (for search)."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return text.strip()


@dataclass
class _Indexes:
    communes: SearchIndex
    titles: SearchIndex
    title_rows: dict[str, tuple[str, str, str]]  # key → (ROME code, métier label, title)


# One pair of search indexes per process and database, built at the first search (0.7 s, 25 MB; `make
# bench-search`). Reference data changes only through `load_reference_data`, which drops them; another process (a
# gunicorn worker) sees new reference data after its restart, as after any deployment.
_INDEXES: dict[str, _Indexes] = {}
_INDEXES_LOCK = threading.Lock()


def _indexes() -> _Indexes:
    key = str(db.engine.url)
    found = _INDEXES.get(key)
    if found is not None:
        return found
    with _INDEXES_LOCK:
        found = _INDEXES.get(key)
        if found is None:
            found = _build_indexes()
            _INDEXES[key] = found
    return found


def _build_indexes() -> _Indexes:
    communes = [
        (code, nom, population, [n for n in anciens.split(" | ") if n])
        for code, nom, population, anciens in db.session.execute(
            select(Commune.code_insee, Commune.nom, Commune.population, Commune.anciens_noms)
        )
    ]
    rows = db.session.execute(
        select(
            RomeAppellation.code_ogr,
            RomeAppellation.label,
            RomeAppellation.principale,
            RomeAppellation.peu_usite,
            RomeAppellation.metier_code,
            RomeMetier.label,
        ).join(RomeMetier, RomeMetier.code == RomeAppellation.metier_code)
    ).all()
    return _Indexes(
        communes=commune_index(communes),
        titles=title_index(
            (str(ogr), label, principal, rare) for ogr, label, principal, rare, _, _ in rows
        ),
        title_rows={
            str(ogr): (code, metier_label, label) for ogr, label, _, _, code, metier_label in rows
        },
    )


def forget_search_indexes() -> None:
    """Drop this process's search indexes (the reference data changed); the next search rebuilds them."""
    with _INDEXES_LOCK:
        _INDEXES.clear()


def _communes_by_code(codes: list[str]) -> list[Commune]:
    if not codes:
        return []
    by_code = {
        c.code_insee: c
        for c in db.session.scalars(select(Commune).where(Commune.code_insee.in_(codes)))
    }
    return [by_code[code] for code in codes if code in by_code]


def search_communes(query: str, limit: int = 10) -> list[Commune]:
    """The Gers communes closest to what was typed, best first: a name, an old name, a postal or INSEE code.

    Forgiving: "st clar", "lisle jourdain", "fleurence", "castelnau dauzan" find their commune. Nothing is
    returned for text that resembles no commune. This is the function to call for "unknown commune, did you mean…".
    """
    raw = (query or "")[:200]
    q = normalize(raw)[:60]
    if not q or limit < 1:
        return []
    if q.isdigit():
        stmt = select(Commune).where(
            or_(
                Commune.codes_postaux.like(f"{q}%"),
                Commune.codes_postaux.like(f"%;{q}%"),
                Commune.code_insee == q,
            )
        )
        return list(db.session.scalars(stmt.order_by(Commune.population.desc()).limit(limit)))
    hits = _indexes().communes.search(raw, limit)
    return _communes_by_code([h.key for h in hits])


def resolve_commune(text: str) -> tuple[Commune | None, list[Commune]]:
    """The one commune `text` names (INSEE code, name, "Name (postal code)"), else the close matches."""
    raw = (text or "").strip()
    if not raw:
        return None, []
    if re.fullmatch(r"32\d{3}", raw):
        commune = db.session.get(Commune, raw)
        if commune:
            return commune, []
    match = re.fullmatch(r"(.+?)\s*\((\d{5})(?:,\s*\d{5})*\)", raw)
    name = match.group(1) if match else raw
    exact = list(
        db.session.scalars(select(Commune).where(Commune.nom_normalise == normalize(name)))
    )
    if len(exact) == 1:
        return exact[0], []
    if not raw.isdigit():
        # "St Clar", "lisle jourdain": one commune whose name equals the text once both are folded.
        hits = _indexes().communes.search(name, 10)
        exacts = [h.key for h in hits if h.exact]
        if len(exacts) == 1:
            return _communes_by_code(exacts)[0], []
        return None, _communes_by_code([h.key for h in hits])
    candidates = search_communes(raw)
    if raw.isdigit() and len(candidates) == 1:
        return candidates[0], []
    return None, candidates


@dataclass(frozen=True)
class MetierHit:
    code: str
    label: str
    title: str  # the job title the person typed or picked

    @property
    def display(self) -> str:
        return f"{self.title} — {self.code}"


def search_metiers(query: str, limit: int = 12) -> list[MetierHit]:
    """Job titles (ROME appellations) closest to what was typed, best first, one per title.

    Forgiving: "caissiere", "boulanjer", "ausiliaire de vie", "menage" find what the person meant.
    """
    raw = (query or "")[:200]
    if not normalize(raw) or limit < 1:
        return []
    if ROME_CODE.match(raw.strip().upper()):
        metier = db.session.get(RomeMetier, raw.strip().upper())
        return [MetierHit(metier.code, metier.label, metier.label_rome4)] if metier else []
    return [hit for hit, _ in _title_hits(raw, limit)]


def _title_hits(raw: str, limit: int) -> list[tuple[MetierHit, bool]]:
    indexes = _indexes()
    out: list[tuple[MetierHit, bool]] = []
    seen: set[str] = set()
    # A few more than asked: the same title may exist under two codes.
    for hit in indexes.titles.search(raw, limit + 8):
        code, metier_label, title = indexes.title_rows[hit.key]
        if title in seen:
            continue
        seen.add(title)
        out.append((MetierHit(code, metier_label, title), hit.exact))
        if len(out) >= limit:
            break
    return out


def _is_title_of(metier: RomeMetier, title: str) -> bool:
    """Whether `title` is a job title (or a label) of `metier`, once both are folded."""
    q = normalize(title)
    if q in (normalize(metier.label), normalize(metier.label_rome4)):
        return True
    return (
        db.session.scalar(
            select(RomeAppellation.code_ogr)
            .where(RomeAppellation.label_normalise == q, RomeAppellation.metier_code == metier.code)
            .limit(1)
        )
        is not None
    )


def resolve_metier(text: str) -> tuple[MetierHit | None, list[MetierHit]]:
    """The métier `text` names (a ROME code, an exact job title, or "title — CODE"), else close matches."""
    raw = (text or "").strip()
    if not raw:
        return None, []
    match = re.fullmatch(r"(.*?)\s*[—-]\s*([A-N]\d{4})", raw)
    if match:
        metier = db.session.get(RomeMetier, match.group(2))
        title = match.group(1).strip()
        if metier and (not title or _is_title_of(metier, title)):
            return MetierHit(metier.code, metier.label, title or metier.label_rome4), []
        # A title that is not one of this code's: read as typed text (never kept as such).
        raw = title or raw
    if ROME_CODE.match(raw.upper()):
        metier = db.session.get(RomeMetier, raw.upper())
        if metier:
            return MetierHit(metier.code, metier.label, metier.label_rome4), []
        return None, []
    q = normalize(raw)
    exact = db.session.scalars(
        select(RomeAppellation)
        .where(RomeAppellation.label_normalise == q)
        .order_by(RomeAppellation.principale.desc())
    ).first()
    ranked = _title_hits(raw, 12)
    hits = [hit for hit, _ in ranked]
    if exact is not None:
        metier = db.session.get(RomeMetier, exact.metier_code)
        return MetierHit(exact.metier_code, metier.label if metier else "", exact.label), []
    # "aide-soignant" names "Aide-soignant / Aide-soignante": accept a title equal to one gendered form.
    for hit in hits:
        # « Développeur / Développeuse web » is « Développeur web »: not what « developpeur » says.
        forms = [normalize(form) for form in gendered_forms(hit.title)]
        if q in forms:
            return hit, []
    # "caissieres", "aide soignante": the first title equals the text once both are folded.
    if ranked and ranked[0][1]:
        return ranked[0][0], []
    # Anything else is a guess: the form asks « Vouliez-vous dire … ? » with these (forms.py).
    return None, hits


# Built once: a page showing a person's métiers runs it with their codes.
_METIER_LABELS = select(RomeMetier.code, RomeMetier.label).where(
    RomeMetier.code.in_(bindparam("codes", expanding=True))
)


def metier_labels(codes: list[str]) -> dict[str, str]:
    if not codes:
        return {}
    return dict(db.session.execute(_METIER_LABELS, {"codes": list(codes)}).all())


# Built once: the codes given that exist in the ROME repertory, at any level, with their labels.
# A profile has at most three codes: they are bound as three plain parameters (the first repeated
# for fewer), so the statement's SQL is the same at each page; more codes take the expanding form.
PROFILE_CODES_MAX = 3


def _code_labels(codes) -> Any:
    return union_all(
        *(
            select(model.code, model.label).where(model.code.in_(codes))
            for model in (RomeGrandDomaine, RomeDomaine, RomeMetier)
        )
    )


_FEW_CODE_LABELS = _code_labels([bindparam(f"c{i}") for i in range(PROFILE_CODES_MAX)])
_CODE_LABELS = _code_labels(bindparam("codes", expanding=True))


def rome_code_labels(codes: list[str]) -> dict[str, str]:
    """The codes of `codes` that are in the ROME repertory (a métier, domaine or grand domaine),
    with their labels, in one query (none for no code)."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    # Core rows on the session's connection: no ORM work for reference data.
    run = db.session.connection().execute
    if len(wanted) > PROFILE_CODES_MAX:
        return dict(run(_CODE_LABELS, {"codes": wanted}).all())
    padded = wanted + wanted[:1] * (PROFILE_CODES_MAX - len(wanted))
    return dict(run(_FEW_CODE_LABELS, {f"c{i}": code for i, code in enumerate(padded)}).all())


def unknown_rome_codes(codes: list[str], known: dict[str, str] | None = None) -> list[str]:
    """The codes that are not in the ROME repertory (a métier, domaine or grand domaine), in order.

    `matching` checks only the form of a code (K, K13, K1302): the application checks, before any
    score is computed, that each one exists. `known`: `rome_code_labels` of these codes, when the
    caller read it already (a demande page shows the labels too: one query for both)."""
    if known is None:
        known = rome_code_labels(codes)
    return [c for c in codes if c not in known]


def rome_level_label(code: str) -> str:
    """The label of a ROME code at any level (K, K13, K1302)."""
    obj: RomeGrandDomaine | RomeDomaine | RomeMetier | None
    if len(code) == 1:
        obj = db.session.get(RomeGrandDomaine, code)
    elif len(code) == 3:
        obj = db.session.get(RomeDomaine, code)
    elif len(code) == 5:
        obj = db.session.get(RomeMetier, code)
    else:
        return code
    return obj.label if obj else code


_ROME_LABELS: dict[str, str] = {}
_ROME_IN_TEXT = re.compile(r"\b([A-N](?:\d{2}(?:\d{2})?)?)\b(?=[.,;)]|$)")


def with_rome_labels(text: str) -> str:
    """Name the ROME codes of a sentence: "Même grand domaine : J." → "… : J (Santé)." (reference data, cached)."""
    if not _ROME_LABELS:
        for model in (RomeGrandDomaine, RomeDomaine, RomeMetier):
            _ROME_LABELS.update(dict(db.session.execute(select(model.code, model.label)).all()))

    def name(match: re.Match) -> str:
        code = match.group(1)
        label = _ROME_LABELS.get(code)
        return f"{code} ({label})" if label else code

    if ":" not in text:
        return text
    head, _, tail = text.partition(":")
    return head + ":" + _ROME_IN_TEXT.sub(name, tail)


# ---- Loading the shipped reference data (flask load-reference-data) ----

Progress = Callable[[list, str], AbstractContextManager]
DATA_DIR = Path(__file__).resolve().parents[1] / "data"


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@contextmanager
def _quietly(rows: list, _label: str):
    yield rows


def _upsert(
    model, key: str, rows: list[dict], label: str, progress: Progress, batch: int = 1000
) -> tuple[int, int]:
    """Insert missing rows and update changed ones; safe to run again (returns inserted, updated)."""
    existing = {getattr(obj, key): obj for obj in db.session.scalars(select(model))}
    inserted = updated = 0
    with progress(rows, label) as bar:
        for i, row in enumerate(bar, start=1):
            obj = existing.get(row[key])
            if obj is None:
                db.session.add(model(**row))
                inserted += 1
            else:
                changed = False
                for field, value in row.items():
                    if getattr(obj, field) != value:
                        setattr(obj, field, value)
                        changed = True
                updated += changed
            if i % batch == 0:
                db.session.flush()
    db.session.flush()
    return inserted, updated


def load_reference_data(progress: Progress | None = None) -> dict[str, tuple[int, int]]:
    """Load the 458 Gers communes and the ROME repertory shipped in tutorat/data; safe to run again.

    `progress(rows, label)`: a context manager over the rows (the CLI's progress bar); none by default.
    """
    progress = progress or _quietly
    old_names: dict[str, list[str]] = {}
    for row in _rows("gers_communes_deleguees_associees.csv"):
        if row["nom"] != row["nom_commune_parente"]:
            old_names.setdefault(row["code_commune_parente"], []).append(normalize(row["nom"]))
    communes = [
        {
            "code_insee": r["code_insee"],
            "nom": r["nom"],
            "nom_normalise": normalize(r["nom"]),
            "codes_postaux": r["codes_postaux"],
            "population": int(r["population"]),
            "latitude": float(r["latitude"]),
            "longitude": float(r["longitude"]),
            "canton_code": r["canton_code"],
            "canton_nom": r["canton_nom"],
            "epci_siren": r["epci_siren"],
            "epci_nom": r["epci_nom"],
            "anciens_noms": " | ".join(old_names.get(r["code_insee"], [])),
        }
        for r in _rows("gers_communes.csv")
    ]
    grands = [{"code": r["code"], "label": r["label"]} for r in _rows("rome_grands_domaines.csv")]
    domaines = [
        {"code": r["code"], "label": r["label"], "grand_domaine": r["grand_domaine"]}
        for r in _rows("rome_domaines_professionnels.csv")
    ]
    metiers = [
        {
            "code": r["code"],
            "label": r["label"],
            "label_rome4": r["label_rome4"],
            "domaine": r["domaine_professionnel"],
            "grand_domaine": r["grand_domaine"],
        }
        for r in _rows("rome_metiers.csv")
    ]
    appellations = [
        {
            "code_ogr": int(r["code_ogr"]),
            "label": r["label"],
            "label_normalise": normalize(r["label"]),
            "metier_code": r["code_rome_v3_parent"],
            "principale": r["classification"] == "PRINCIPALE",
            "peu_usite": r["peu_usite"] == "O",
        }
        for r in _rows("rome4_appellations.csv")
    ]
    report = {
        "communes": _upsert(Commune, "code_insee", communes, "Communes du Gers", progress),
        "grands domaines": _upsert(
            RomeGrandDomaine, "code", grands, "ROME grands domaines", progress
        ),
        "domaines": _upsert(
            RomeDomaine, "code", domaines, "ROME domaines professionnels", progress
        ),
        "métiers": _upsert(RomeMetier, "code", metiers, "ROME métiers", progress),
        "appellations": _upsert(
            RomeAppellation, "code_ogr", appellations, "ROME appellations", progress
        ),
    }
    db.session.commit()
    forget_search_indexes()
    return report


def commune_suggestions(query: str) -> list[dict]:
    """The typing suggestions for a commune field (autocomplete.js), as JSON-ready values."""
    return [{"value": c.label, "code": c.code_insee} for c in search_communes(query)]


def metier_suggestions(query: str) -> list[dict]:
    """The typing suggestions for a métier field (autocomplete.js), as JSON-ready values."""
    return [{"value": h.display, "code": h.code, "label": h.label} for h in search_metiers(query)]
