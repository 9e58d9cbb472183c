"""Alembic environment: the app's engine and metadata (run through `flask db …`)."""

import logging

from alembic import context
from flask import current_app

logger = logging.getLogger("alembic.env")
config = context.config
db = current_app.extensions["migrate"].db
target_metadata = db.metadata


def run_migrations_offline():
    context.configure(
        url=db.engine.url.render_as_string(hide_password=False),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    with db.engine.connect() as connection:
        postgresql = connection.dialect.name == "postgresql"
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds a table (copy, DROP, rename); with foreign keys on, dropping a
            # table other rows point to fails, so a migration of a populated database would stop
            # half-way. Off for the migration (outside any transaction, or SQLite ignores it),
            # then every reference is checked before they are back on.
            # (On the DBAPI connection: through SQLAlchemy it would follow our own BEGIN.)
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
        if postgresql:
            # DB_STATEMENT_TIMEOUT_MS bounds the requests' statements; a migration may rewrite a
            # large table. SET lasts for the session, past this commit.
            connection.exec_driver_sql("SET statement_timeout = 0")
            connection.commit()
        try:
            context.configure(connection=connection, target_metadata=target_metadata, **conf_args)
            with context.begin_transaction():
                context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"Références cassées après la migration : {broken[:5]}")
                # A batch rebuild drops the planner's statistics of the table it rebuilds (and a
                # new index has none): with the other tables' kept, SQLite then chose plans that
                # made the référent's dashboard ten times slower at the Gers scale (bench/README.md,
                # "Pages web"). A base analysed before is analysed again; one never analysed is
                # left so (statistics of a still empty base would mislead the planner later).
                analysed = connection.exec_driver_sql(
                    "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
                ).first()
                if analysed:
                    connection.exec_driver_sql("ANALYZE")
                    connection.commit()
        finally:
            if sqlite:
                connection.rollback()
                connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")
            if postgresql:
                # The connection goes back to the pool: the requests' limit again.
                connection.rollback()
                connection.exec_driver_sql("RESET statement_timeout")
                connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
