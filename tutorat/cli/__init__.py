"""The `flask` commands, grouped by what they serve; the names typed stay flat (`flask purge`).

- `data`: load-reference-data, export, import;
- `demo`: seed-demo;
- `jobs` (what cron runs): send-mail, run-reminders, send-digest, purge;
- `ops`: create-user, match, import-beneficiaires.

`flask db …` (migrations) comes from Flask-Migrate.
"""

from __future__ import annotations

from flask import Flask

from tutorat.cli import data, demo, jobs, ops


def register(app: Flask) -> None:
    for module in (data, demo, jobs, ops):
        for command in module.COMMANDS:
            app.cli.add_command(command)


__all__ = ["register"]
