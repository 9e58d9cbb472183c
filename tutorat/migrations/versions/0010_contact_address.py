"""Postal address and contact preferences (email, SMS, courrier) on the account

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 02:00:00.000000

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tutorat.models._types

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _pool_triggers() -> None:
    """SQLite rebuilds the table in batch mode and drops its triggers: put back migration 0006's
    pool_version triggers (the tutors' pool would otherwise miss a change to an account)."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for operation in ("insert", "update", "delete"):
        op.execute(
            f"CREATE TRIGGER IF NOT EXISTS pool_version_user_account_{operation} "
            f"AFTER {operation.upper()} ON user_account BEGIN "
            "UPDATE pool_version SET token = lower(hex(randomblob(16))) WHERE id = 1; END"
        )


def upgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("street_address", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("postal_code", sa.String(length=5), nullable=True))
        batch_op.add_column(
            sa.Column("contact_email", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("contact_sms", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("contact_letter", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "sms_stopped_at", tutorat.models._types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_user_account_code_postal_5_chiffres"),
            "postal_code IS NULL OR length(postal_code) = 5",
        )
    _pool_triggers()


def downgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_user_account_code_postal_5_chiffres"), type_="check")
        for column in (
            "sms_stopped_at",
            "contact_letter",
            "contact_sms",
            "contact_email",
            "postal_code",
            "street_address",
        ):
            batch_op.drop_column(column)
    _pool_triggers()
