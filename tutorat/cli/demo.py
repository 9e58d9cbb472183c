"""`flask seed-demo`: the demonstration population, and with `--scale gers` a Gers-sized one."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from tutorat.demo import DEMO_PASSWORD, seed_demo
from tutorat.demo.scale import SCALES, seed_scale, totals


@click.command("seed-demo")
@with_appcontext
@click.option("--seed", default=32, help="Graine du générateur aléatoire.")
@click.option(
    "--scale",
    type=click.Choice(["demo", "gers"]),
    default="demo",
    show_default=True,
    help="gers : compléter jusqu'à 10 000 bénéficiaires, 3 000 tuteurs, 60 référents, "
    "8 000 binômes et 40 000 rencontres (mesures de performance).",
)
def seed_demo_command(seed: int, scale: str):
    """Créer la population de démonstration (une seule fois) et afficher les comptes."""
    created = seed_demo(seed=seed)
    click.echo(
        "Population de démonstration créée."
        if created
        else "Démonstration déjà présente : rien à faire."
    )
    if scale != "demo":
        report = seed_scale(SCALES[scale], seed=seed)
        if report is None:
            click.echo("Population à l'échelle déjà présente : rien à faire.")
        else:
            click.echo(
                f"Population à l'échelle créée en {report.pop('secondes')} s : "
                + ", ".join(f"{v} {k}" for k, v in report.items())
                + " ajoutés."
            )
        click.echo("En base : " + ", ".join(f"{v} {k}" for k, v in totals().items()))
    click.echo(f"Comptes de démonstration (mot de passe : {DEMO_PASSWORD}) :")
    for email, role in (
        ("admin@example.org", "administration"),
        ("referent@example.org", "référent"),
        ("tuteur@example.org", "tuteur"),
        ("beneficiaire@example.org", "bénéficiaire"),
    ):
        click.echo(f"  {role:<14} {email}")


COMMANDS = [seed_demo_command]

__all__ = ["COMMANDS"]
