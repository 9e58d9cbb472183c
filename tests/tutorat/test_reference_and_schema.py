"""Reference data counts and look-ups; the migrations and the models agree."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from tutorat.extensions import db
from tutorat.models import Commune, RomeAppellation, RomeDomaine, RomeGrandDomaine, RomeMetier
from tutorat.services import reference
from tutorat.services.reference import load_reference_data


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_reference_counts(ctx):
    assert _count(Commune) == 458
    assert _count(RomeMetier) == 532
    assert _count(RomeDomaine) == 110
    assert _count(RomeGrandDomaine) == 14
    assert _count(RomeAppellation) == 13120
    assert sum(db.session.scalars(select(Commune.population))) == 192645


def test_load_reference_data_is_idempotent(ctx):
    report = load_reference_data()
    assert all(inserted == 0 and updated == 0 for inserted, updated in report.values())
    assert _count(Commune) == 458


def test_cli_load_reference_data(runner):
    result = runner.invoke(args=["load-reference-data"])
    assert result.exit_code == 0, result.output
    assert "458 communes" in result.output and "0 ajouté(s)" in result.output


def test_commune_lookup(ctx):
    assert reference.resolve_commune("Auch")[0].code_insee == "32013"
    assert reference.resolve_commune("32000")[0].code_insee == "32013"
    assert reference.resolve_commune("l'isle jourdain")[0].code_insee == "32160"
    assert reference.resolve_commune("Auch (32000)")[0].code_insee == "32013"
    # Not a Gers commune: nothing found, no guess.
    assert reference.resolve_commune("Paris")[0] is None
    # A merged commune's old name still finds the new commune.
    assert any(c.code_insee == "32365" for c in reference.search_communes("Sarcos"))


def test_metier_lookup(ctx):
    assert reference.resolve_metier("aide-soignant")[0].code == "J1501"
    assert reference.resolve_metier("Boulanger")[0].code == "D1102"
    assert reference.resolve_metier("boulangère")[0].code == "D1102"
    assert reference.resolve_metier("K1302")[0].code == "K1302"
    assert reference.resolve_metier("Z9999") == (None, [])
    hit, close = reference.resolve_metier("zzzzqqq")
    assert hit is None and close == []
    assert reference.search_metiers("boul")[0].code == "D1102"


def test_migrations_match_models(ctx):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == [], f"les modèles et les migrations divergent : {diff}"


def test_forgiving_commune_lookup(ctx):
    # Typed as people type: abbreviations, missing apostrophes, elisions glued: one commune, taken.
    assert reference.resolve_commune("St Clar")[0].code_insee == "32370"
    assert reference.resolve_commune("lisle jourdain")[0].code_insee == "32160"
    assert reference.resolve_commune("ste christie d armagnac")[0].code_insee == "32369"
    # A typo: not taken silently, but the commune is the first one offered.
    commune, close = reference.resolve_commune("fleurence")
    assert commune is None and close[0].code_insee == "32132"
    assert reference.search_communes("vic fezansac", 3)[0].code_insee == "32462"
    assert reference.search_communes("", 5) == [] and reference.search_communes("auch", 0) == []
    assert len(reference.search_communes("saint", 4)) == 4


def test_forgiving_metier_lookup(ctx):
    assert reference.resolve_metier("caissieres")[0].code == "D1505"
    assert reference.resolve_metier("aide soignante")[0].code == "J1501"
    hit, close = reference.resolve_metier("boulanjer")
    assert hit is None and close[0].code == "D1102"
    titles = [h.title for h in reference.search_metiers("ausiliaire de vie", 5)]
    assert "Auxiliaire de vie" in titles
    assert len({h.title for h in reference.search_metiers("agent", 12)}) == 12


def test_search_indexes_are_built_once_and_dropped_on_reload(ctx):
    reference.search_communes("auch")
    first = reference._indexes()
    assert reference._indexes() is first
    reference.forget_search_indexes()
    assert reference._indexes() is not first
