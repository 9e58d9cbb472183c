"""Data in and out: `flask load-reference-data`, `flask export`, `flask import`."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any, Literal

import click
from flask.cli import with_appcontext
from sqlalchemy import Table, bindparam, func, insert, select, text, update

from tutorat.cli._progress import progressbar
from tutorat.extensions import db
from tutorat.models import Commune, RomeAppellation, RomeMetier
from tutorat.services.reference import load_reference_data

EXPORT_FORMAT = "tutorat-export"
EXPORT_VERSION = 1
REFERENCE_TABLES = (
    "commune",
    "rome_grand_domaine",
    "rome_domaine",
    "rome_metier",
    "rome_appellation",
)
BATCH = 2_000
DERIVED_TABLES = (
    "alembic_version",
    "pool_version",
    "indicator_month",
    "indicator_month_pending",
)


# ---- Export and import ----


def _tables(reference_only: bool) -> list[Table]:
    # The pool's version token and the indicators' summary are not data: their migrations write
    # them, triggers change them (the rows imported fill the summary again).
    tables = [t for t in db.metadata.sorted_tables if t.name not in DERIVED_TABLES]
    if reference_only:
        tables = [t for t in tables if t.name in REFERENCE_TABLES]
    return tables


def _alembic_revision() -> str | None:
    try:
        return db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:
        db.session.rollback()
        return None


def _encode(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _decoder(column) -> Any:
    # A TypeDecorator (UTCDateTime) says "object": ask the type it decorates.
    kind = getattr(column.type, "impl_instance", column.type)
    try:
        python_type = kind.python_type
    except NotImplementedError:
        return None
    if python_type is datetime:

        def decode_datetime(value):
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

        return decode_datetime
    if python_type is date:
        return date.fromisoformat
    return None


def _open(path: Path, mode: Literal["r", "w"]) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt" if mode == "r" else "wt", encoding="utf-8")
    return path.open(mode, encoding="utf-8")


def export_data(path: Path, *, reference_only: bool = False) -> dict[str, int]:
    """Write every row of the tables as JSON lines (gzip if the name ends in .gz); counts per table."""
    tables = _tables(reference_only)
    counts: dict[str, int] = {}
    # The file may hold personal data: readable by its owner only.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    with _open(path, "w") as out:
        header = {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "alembic": _alembic_revision(),
            "created_at": datetime.now(UTC).isoformat(),
            "reference_only": reference_only,
            "tables": [t.name for t in tables],
        }
        out.write(json.dumps(header, ensure_ascii=False) + "\n")
        for table in tables:
            n = 0
            order = list(table.primary_key.columns) or list(table.columns)[:1]
            result = db.session.execute(
                select(table).order_by(*order).execution_options(yield_per=BATCH)
            )
            with click.progressbar(
                result.mappings(), label=table.name.ljust(20), show_pos=True
            ) as rows:
                for row in rows:
                    line = {"t": table.name, "r": {k: _encode(v) for k, v in row.items()}}
                    out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
                    n += 1
            counts[table.name] = n
    return counts


def _lines(path: Path) -> Iterator[dict]:
    with _open(path, "r") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def import_data(path: Path) -> dict[str, int]:
    """Load an export into this database: reference rows already there are kept, the rest must be empty."""
    lines = _lines(path)
    header = next(lines, None)
    if not header or header.get("format") != EXPORT_FORMAT:
        raise click.ClickException("Ce fichier n'est pas un export de Tutorat.")
    if header.get("version") != EXPORT_VERSION:
        raise click.ClickException(f"Version d'export inconnue : {header.get('version')}.")
    here = _alembic_revision()
    if header.get("alembic") != here:
        raise click.ClickException(
            f"Le schéma diffère : export en révision {header.get('alembic')}, base en révision {here}. "
            "Lancez « flask db upgrade » (ou importez dans une base à la même version)."
        )
    by_name = {t.name: t for t in _tables(False)}
    names = [n for n in header["tables"] if n in by_name]
    for name in names:
        if name in REFERENCE_TABLES:
            continue
        if db.session.scalar(select(func.count()).select_from(by_name[name])):
            raise click.ClickException(
                f"La table {name} n'est pas vide : l'import se fait dans une base neuve "
                "(après « flask db upgrade », et éventuellement « flask load-reference-data »)."
            )
    # Reference rows already loaded are kept (same codes from the same sources).
    existing = {
        name: {tuple(r) for r in db.session.execute(select(*by_name[name].primary_key.columns))}
        for name in names
        if name in REFERENCE_TABLES
    }
    counts = dict.fromkeys(names, 0)
    pending: dict[str, list[dict]] = {}
    deferred: dict[str, list[dict]] = {}
    decoders = {
        name: {c.name: d for c in by_name[name].columns if (d := _decoder(c)) is not None}
        for name in names
    }
    # Columns pointing to their own table (who created an account) are set after all rows exist.
    self_refs = {
        name: [
            fk.parent.name for fk in by_name[name].foreign_keys if fk.column.table is by_name[name]
        ]
        for name in names
    }

    def flush(name: str) -> None:
        rows = pending.pop(name, [])
        if rows:
            db.session.execute(insert(by_name[name]), rows)

    current = None
    total = sum(1 for _ in _lines(path)) - 1
    bar = click.progressbar(length=max(total, 1), label="Import".ljust(20), show_pos=True)
    with bar:
        for item in lines:
            name, row = item["t"], item["r"]
            if name not in by_name:
                continue
            if name != current:
                if current is not None:
                    flush(current)
                current = name
                bar.label = name.ljust(20)
            table = by_name[name]
            for column, decode in decoders[name].items():
                if row.get(column) is not None:
                    row[column] = decode(row[column])
            if name in existing:
                key = tuple(row[c.name] for c in table.primary_key.columns)
                if key in existing[name]:
                    continue
            if self_refs[name]:
                refs = {c: row.get(c) for c in self_refs[name] if row.get(c) is not None}
                if refs:
                    deferred.setdefault(name, []).append(
                        {"_pk": row["id"], **{f"_{k}": v for k, v in refs.items()}}
                    )
                    for c in refs:
                        row[c] = None
            pending.setdefault(name, []).append(row)
            counts[name] += 1
            bar.update(1)
            if len(pending[name]) >= BATCH:
                flush(name)
        if current is not None:
            flush(current)
    for name, updates in deferred.items():
        table = by_name[name]
        for column in self_refs[name]:
            rows = [u for u in updates if f"_{column}" in u]
            if rows:
                stmt = (
                    update(table)
                    .where(table.c.id == bindparam("_pk"))
                    .values({column: bindparam(f"_{column}")})
                )
                db.session.connection().execute(
                    stmt, [{"_pk": u["_pk"], f"_{column}": u[f"_{column}"]} for u in rows]
                )
    if db.engine.dialect.name == "postgresql":
        for name in names:
            table = by_name[name]
            if (
                "id" in table.c
                and table.c.id.autoincrement in (True, "auto")
                and table.c.id.primary_key
            ):
                db.session.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"COALESCE((SELECT MAX(id) FROM {name}), 1), (SELECT MAX(id) FROM {name}) IS NOT NULL)"
                    )
                )
    db.session.commit()
    return counts


# ---- Commands ----


@click.command("load-reference-data")
@with_appcontext
def load_reference_data_command():
    """Charger les communes du Gers et le répertoire ROME (sans doublon si relancé)."""
    report = load_reference_data(progress=progressbar)
    for name, (inserted, updated) in report.items():
        click.echo(f"{name} : {inserted} ajouté(s), {updated} mis à jour")
    counts = {
        "communes": db.session.scalar(select(func.count()).select_from(Commune)),
        "métiers": db.session.scalar(select(func.count()).select_from(RomeMetier)),
        "appellations": db.session.scalar(select(func.count()).select_from(RomeAppellation)),
    }
    click.echo("En base : " + ", ".join(f"{v} {k}" for k, v in counts.items()))


@click.command("export")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--reference-only", is_flag=True, help="Seulement les communes et le ROME.")
def export_command(path: Path, reference_only: bool):
    """Exporter les données (référence et application) en lignes JSON ; « .gz » pour compresser."""
    counts = export_data(path, reference_only=reference_only)
    click.echo(
        f"{sum(counts.values())} lignes exportées dans {path} ("
        + ", ".join(f"{k} {v}" for k, v in counts.items() if v)
        + ")."
    )
    if not reference_only:
        click.echo(
            "Ce fichier contient des données personnelles : gardez-le chiffré, en lieu sûr, "
            "et supprimez-le selon la durée de conservation."
        )


@click.command("import")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(path: Path):
    """Importer un export dans une base neuve (même version du schéma)."""
    counts = import_data(path)
    click.echo(
        f"{sum(counts.values())} lignes importées ("
        + ", ".join(f"{k} {v}" for k, v in counts.items() if v)
        + ")."
    )


COMMANDS = [load_reference_data_command, export_command, import_command]

__all__ = ["COMMANDS", "export_data", "import_data"]
