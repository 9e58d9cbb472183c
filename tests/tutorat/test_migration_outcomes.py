"""Migration 0014: one outcome per binôme becomes rows of pair_outcome, and back."""

from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from tests.tutorat.test_migration_codes import _write_rows, database  # noqa: F401 (fixture)
from tutorat import create_app
from tutorat.extensions import db


def test_0014_moves_outcomes_to_their_table_and_back(database):  # noqa: F811
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": database})
    with app.app_context():
        upgrade()
        _write_rows()  # one ended binôme, outcome "job"
        with db.engine.begin() as conn:
            conn.execute(
                text("INSERT INTO pair_outcome (pair_id, outcome) SELECT id, 'left_rsa' FROM pair")
            )
        downgrade(revision="0013")
        with db.engine.connect() as conn:
            # The first outcome in the vocabulary's order is kept.
            assert conn.execute(text("SELECT outcome FROM pair")).scalar() == "job"
            tables = {
                name
                for (name,) in conn.execute(
                    text(
                        "SELECT table_name FROM information_schema.tables"
                        if db.engine.dialect.name == "postgresql"
                        else "SELECT name FROM sqlite_master WHERE type = 'table'"
                    )
                )
            }
            assert "pair_outcome" not in tables
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT outcome FROM pair_outcome")).scalars().all() == ["job"]
            assert conn.execute(text("SELECT reason FROM pair_outcome")).scalar() is None
        # A reason only on "stopped", and only from the list.
        for outcome, reason in (("job", "moved"), ("stopped", "fatigue")):
            with pytest.raises(Exception, match="raison_d_arret_connue"), db.engine.begin() as conn:
                conn.execute(
                    text(f"UPDATE pair_outcome SET outcome = '{outcome}', reason = '{reason}'")
                )
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE pair_outcome SET outcome = 'stopped', reason = 'moved'"))
        db.engine.dispose()


def test_a_rebuilt_table_keeps_its_planner_statistics_on_sqlite(database):  # noqa: F811
    """Migration 0022 rebuilds `pair` in batch mode, which drops its rows of sqlite_stat1; the
    migration environment analyses a base analysed before again, so the dashboard's plans stay
    those of the indexes (without them its totals took 10 ms instead of 0.6 at the Gers scale)."""
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": database})
    if not database.startswith("sqlite"):
        pytest.skip("PostgreSQL keeps its statistics through a migration (and analyses on its own)")

    def analysed_tables() -> set[str]:
        with db.engine.connect() as conn:
            return set(conn.execute(text("SELECT DISTINCT tbl FROM sqlite_stat1")).scalars())

    with app.app_context():
        upgrade()
        _write_rows()
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        assert "pair" in analysed_tables()
        downgrade(revision="0021")  # 0022's downgrade rebuilds pair
        assert "pair" in analysed_tables()
        upgrade()  # and so does its upgrade
        assert "pair" in analysed_tables()
        db.engine.dispose()
