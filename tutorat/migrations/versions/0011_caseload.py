"""Caseloads: birth date and numéro allocataire of a mentee, imported files, changes of référent

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 02:10:00.000000

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tutorat.models._types

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("mentee_profile", schema=None) as batch_op:
        batch_op.add_column(sa.Column("birth_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("caf_number", sa.String(length=20), nullable=True))
        batch_op.create_index("uq_numero_allocataire", ["caf_number"], unique=True)
    op.create_table(
        "beneficiary_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("referent_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("created_at", tutorat.models._types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("imported_at", tutorat.models._types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_count", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "row_count >= 0", name=op.f("ck_beneficiary_import_nombre_de_lignes_positif")
        ),
        sa.ForeignKeyConstraint(
            ["referent_id"],
            ["user_account.id"],
            name=op.f("fk_beneficiary_import_referent_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["user_account.id"],
            name=op.f("fk_beneficiary_import_uploaded_by_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_beneficiary_import")),
    )
    op.create_index(
        "ix_beneficiary_import_uploaded_by", "beneficiary_import", ["uploaded_by_id"], unique=False
    )
    op.create_table(
        "referent_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mentee_id", sa.Integer(), nullable=False),
        sa.Column("from_referent_id", sa.Integer(), nullable=False),
        sa.Column("to_referent_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", tutorat.models._types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "from_referent_id <> to_referent_id",
            name=op.f("ck_referent_change_transfert_vers_un_autre"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user_account.id"], name=op.f("fk_referent_change_actor_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["from_referent_id"],
            ["user_account.id"],
            name=op.f("fk_referent_change_from_referent_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["mentee_id"],
            ["user_account.id"],
            name=op.f("fk_referent_change_mentee_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["to_referent_id"],
            ["user_account.id"],
            name=op.f("fk_referent_change_to_referent_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referent_change")),
    )
    op.create_index("ix_referent_change_mentee", "referent_change", ["mentee_id"], unique=False)


def downgrade():
    op.drop_index("ix_referent_change_mentee", table_name="referent_change")
    op.drop_table("referent_change")
    op.drop_index("ix_beneficiary_import_uploaded_by", table_name="beneficiary_import")
    op.drop_table("beneficiary_import")
    with op.batch_alter_table("mentee_profile", schema=None) as batch_op:
        batch_op.drop_index("uq_numero_allocataire")
        batch_op.drop_column("caf_number")
        batch_op.drop_column("birth_date")
