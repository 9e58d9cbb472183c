"""Reference pages measured alongside Tutorat's (bench/bench_web.py), served by gunicorn the same way.

`/hello` is a bare Flask page; `/rows` reads 20 rows with Flask-SQLAlchemy (the 20 most populated
communes, from the same database) and renders them with a Jinja template. They show what this
machine gives for the least a Flask page can do, so that Tutorat's pages are read as ratios.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, render_template
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Integer, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Commune(db.Model):
    __tablename__ = "commune"

    code_insee: Mapped[str] = mapped_column(String(5), primary_key=True)
    nom: Mapped[str] = mapped_column(String(100))
    population: Mapped[int] = mapped_column(Integer)


def _url(url: str) -> str:
    for old in ("postgres://", "postgresql://"):
        if url.startswith(old):
            return "postgresql+psycopg://" + url[len(old) :]
    return url


def create_app() -> Flask:
    app = Flask(__name__, template_folder=str(Path(__file__).resolve().parent / "templates"))
    app.config["SQLALCHEMY_DATABASE_URI"] = _url(os.environ["DATABASE_URL"])
    db.init_app(app)

    @app.get("/hello")
    def hello():
        return "Bonjour"

    @app.get("/rows")
    def rows():
        communes = db.session.scalars(
            select(Commune).order_by(Commune.population.desc(), Commune.code_insee).limit(20)
        ).all()
        return render_template("reference_rows.html", communes=communes)

    return app


app = create_app()
