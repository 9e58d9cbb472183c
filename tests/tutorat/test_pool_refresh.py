"""The tutors' pool kept by each worker (services.suggestions._POOLS) follows every write it can see.

Deny by default: database triggers (migration 0006) give the `pool_version` row a new token on
each INSERT, UPDATE or DELETE of a table the pool reads, whoever writes — the ORM, raw SQL on
another connection, a script. These tests check that the trigger list covers what the pool's
own queries read, that each kind of write refreshes it, and that the pool is kept otherwise.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.sql.util import find_tables

from tests.conftest import Browser
from tests.factories import PASSWORD, make_mentee, make_referent, make_tutor
from tutorat.extensions import db
from tutorat.models import POOL_TABLES, PoolVersion, TutorProfile
from tutorat.services import requests as request_service
from tutorat.services import suggestions


def _token() -> str:
    return db.session.scalar(select(PoolVersion.token).where(PoolVersion.id == 1))


@pytest.fixture
def world(app):
    with app.app_context():
        referent = make_referent()
        mentee = make_mentee(referent, remote_ok=True, commune="32013")
        tutor = make_tutor(remote_ok=True, capacity=3)
        tutoring_request = request_service.open_request(
            mentee, actor=referent, topics=["cv"], meeting_modes=["video"], message="Bonjour"
        )
        db.session.commit()
        return {"referent": referent.email, "request": tutoring_request.id, "tutor_id": tutor.id}


def test_the_triggers_cover_every_table_the_pool_reads(app, world):
    read: set[str] = set()

    def collect(state):
        read.update(t.name for t in find_tables(state.statement, check_columns=True))

    with app.app_context():
        suggestions._POOLS.clear()
        event.listen(db.session, "do_orm_execute", collect)
        try:
            # What is kept: the pool and the communes' arrays (the token and the weights are
            # read on every ranking, not kept).
            pool = suggestions._build_pool(datetime.now(UTC))
            suggestions._commune_arrays(pool)
        finally:
            event.remove(db.session, "do_orm_execute", collect)
        assert read, "la construction du vivier n'a lu aucune table"
        assert read <= set(POOL_TABLES), f"tables lues sans déclencheur : {read - set(POOL_TABLES)}"
        # And each of POOL_TABLES has its triggers in this database.
        if db.engine.dialect.name == "postgresql":
            rows = db.session.execute(
                text(
                    "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                    "WHERE t.tgname LIKE 'pool_version_%'"
                )
            ).scalars()
        else:
            rows = db.session.execute(
                text(
                    "SELECT tbl_name FROM sqlite_master "
                    "WHERE type = 'trigger' AND name LIKE 'pool_version_%'"
                )
            ).scalars()
        assert set(POOL_TABLES) <= set(rows)


RAW_WRITES = {
    "commune (UPDATE)": "UPDATE commune SET population = population WHERE code_insee = '32013'",
    "tutor_profile (UPDATE)": "UPDATE tutor_profile SET capacity = capacity",
    "user_account (UPDATE)": "UPDATE user_account SET first_name = first_name",
    "commune (INSERT)": (
        "INSERT INTO commune (code_insee, nom, nom_normalise, codes_postaux, population, latitude,"
        " longitude, canton_code, canton_nom, epci_siren, epci_nom, anciens_noms) VALUES"
        " ('99999', 'Essai', 'essai', '', 1, 43.6, 0.5, '', '', '', '', '')"
    ),
    "commune (DELETE)": "DELETE FROM commune WHERE code_insee = '99999'",
}


@pytest.mark.parametrize("statement", RAW_WRITES.values(), ids=RAW_WRITES.keys())
def test_a_raw_sql_write_on_another_connection_changes_the_token(app, world, statement):
    with app.app_context():
        before = _token()
        db.session.rollback()
        with db.engine.begin() as conn:  # outside the session: no ORM event can see it
            conn.execute(text(statement))
        assert _token() != before


def test_deleting_a_tutor_in_raw_sql_changes_the_token(app, world):
    with app.app_context():
        before = _token()
        db.session.rollback()
        with db.engine.begin() as conn:
            conn.execute(
                text("DELETE FROM tutor_profile WHERE user_id = :id"), {"id": world["tutor_id"]}
            )
        middle = _token()
        assert middle != before
        db.session.rollback()
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM user_account WHERE id = :id"), {"id": world["tutor_id"]})
        assert _token() != middle


def test_the_pool_is_kept_while_nothing_it_reads_changes(app, world):
    with app.app_context():
        suggestions._POOLS.clear()
        first = suggestions.tutor_pool()
        # Writes to tables the pool does not read leave it in place.
        referent = make_referent()
        make_mentee(referent, remote_ok=True)
        db.session.commit()
        assert suggestions.tutor_pool() is not first  # a mentee is a user_account: refreshed
        kept = suggestions.tutor_pool()
        assert suggestions.tutor_pool() is kept
        db.session.execute(text("UPDATE setting SET key = key"))
        db.session.commit()
        assert suggestions.tutor_pool() is kept


def test_the_candidate_list_follows_raw_sql_committed_elsewhere(app, world):
    browser = Browser(app.test_client())
    assert browser.login(world["referent"], PASSWORD).status_code == 302
    url = f"/referent/demandes/{world['request']}"
    with app.app_context():
        suggestions._POOLS.clear()
        newcomer = make_tutor(
            remote_ok=True, capacity=1, first_name="Nouvelle", last_name="Tutrice"
        )
        profile = db.session.get(TutorProfile, newcomer.id)
        profile.places_used = profile.capacity  # full: not proposed
        db.session.commit()
        newcomer_id = newcomer.id

    def ranked() -> str:  # the ranked tutors, not the left-out ones below them
        return browser.client.get(url).get_data(as_text=True).split('id="ecartes"')[0]

    assert "Nouvelle Tutrice" not in ranked()
    with app.app_context(), db.engine.begin() as conn:  # another program frees a place
        conn.execute(
            text("UPDATE tutor_profile SET places_used = 0 WHERE user_id = :id"),
            {"id": newcomer_id},
        )
    assert "Nouvelle Tutrice" in ranked()
    with app.app_context(), db.engine.begin() as conn:  # and deactivates the account
        conn.execute(
            text("UPDATE user_account SET active = false WHERE id = :id"), {"id": newcomer_id}
        )
    assert "Nouvelle Tutrice" not in browser.client.get(url).get_data(as_text=True)


def test_a_pool_built_from_a_rolled_back_write_is_never_served(app, world):
    with app.app_context():
        suggestions._POOLS.clear()
        before = suggestions.tutor_pool()
        db.session.execute(
            text("UPDATE tutor_profile SET places_used = capacity WHERE user_id = :id"),
            {"id": world["tutor_id"]},
        )
        inside = suggestions.tutor_pool()  # sees its own uncommitted write
        assert world["tutor_id"] not in inside.ids
        db.session.rollback()
        after = suggestions.tutor_pool()
        assert world["tutor_id"] in after.ids
        assert after is not inside
        assert before.ids == after.ids
