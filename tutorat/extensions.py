"""Flask extensions, created unbound and initialised by the app factory."""

from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, inspect
from sqlalchemy.orm import DeclarativeBase

from tutorat.services.db import remove_quietly

# Every constraint gets a stable, predictable name: migrations can drop it and
# services can recognise it to turn a violation into a French message.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The typed base every model subclasses (not `db.Model`, which mypy cannot check).

    Flask-SQLAlchemy builds `db.Model` as a copy of this class plus its mixins, sharing this
    `metadata` and `registry`: `db.create_all()`, Flask-Migrate and `db.session` see every model
    declared here. What the mixins add and the models therefore lack is `Model.query` (the code
    uses `select()`) and the automatic `__tablename__` (each model names its table).
    """

    metadata = MetaData(naming_convention=NAMING_CONVENTION)

    def __repr__(self) -> str:
        identity = inspect(self).identity
        key = ", ".join(map(str, identity)) if identity else "(unsaved)"
        return f"<{type(self).__name__} {key}>"


class Database(SQLAlchemy):
    """Flask-SQLAlchemy whose end-of-request cleanup never raises a database error."""

    def _teardown_session(self, exc: BaseException | None) -> None:
        remove_quietly(self.session)


class RouteLimiter(Limiter):
    """Flask-Limiter, without its before-request pass when that pass has nothing to check.

    Our limits are on views (`@limiter.limit`): the decorator checks them when the view runs. The
    extension's before-request hook is for limits on every request (application, default, blueprint
    and meta limits) and for noticing that a dead storage is back; with none of them it looks up the
    view's name, its blueprint's limits and exemptions and ends having checked nothing (0.04 ms of
    the 0.6 of a logged-in page, bench/profile_pages.py). It runs as before as soon as one is set,
    by configuration (RATELIMIT_DEFAULT, RATELIMIT_APPLICATION…) or in code.
    """

    def _check_request_limit(
        self, callable_name: str | None = None, in_middleware: bool = True
    ) -> None:
        if in_middleware and not self._request_wide_work():
            return
        super()._check_request_limit(callable_name, in_middleware)

    def _request_wide_work(self) -> bool:
        # Flask-Limiter's own attributes (4.x): a version that names them otherwise gets its pass
        # on every request, as without this class, rather than an error.
        manager = getattr(self, "limit_manager", None)
        try:
            return bool(
                self._storage_dead
                or self._meta_limits
                or manager._application_limits  # type: ignore[union-attr]
                or manager._default_limits  # type: ignore[union-attr]
                or manager._blueprint_limits  # type: ignore[union-attr]
            )
        except AttributeError:
            return True


db = Database(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
mail = Mail()
csrf = CSRFProtect()
limiter = RouteLimiter(key_func=get_remote_address, default_limits=[])
