"""The tutors' pool version: a one-row table and the triggers that change it on every write the pool reads

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 21:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# The tables services/suggestions.py reads for its per-worker pool (tutorat.models.pool.POOL_TABLES
# at this revision; a later migration that adds one must add its triggers too — a test checks it).
TABLES = ("commune", "tutor_profile", "user_account")
OPERATIONS = ("insert", "update", "delete")


def upgrade():
    op.create_table('pool_version',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('token', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pool_version'))
    )
    op.execute("INSERT INTO pool_version (id, token) VALUES (1, 'initial')")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION pool_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE pool_version SET token = md5(random()::text || clock_timestamp()::text)
                WHERE id = 1;
                RETURN NULL;
            END
            $$
            """
        )
        for table in TABLES:
            # Once per statement (a bulk write costs one UPDATE), TRUNCATE included.
            op.execute(
                f"CREATE TRIGGER pool_version_{table} "
                f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION pool_version_bump()"
            )
    else:  # SQLite: row triggers only, one per operation
        for table in TABLES:
            for operation in OPERATIONS:
                op.execute(
                    f"CREATE TRIGGER pool_version_{table}_{operation} "
                    f"AFTER {operation.upper()} ON {table} BEGIN "
                    "UPDATE pool_version SET token = lower(hex(randomblob(16))) WHERE id = 1; END"
                )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER pool_version_{table} ON {table}")
        op.execute("DROP FUNCTION pool_version_bump()")
    else:
        for table in TABLES:
            for operation in OPERATIONS:
                op.execute(f"DROP TRIGGER pool_version_{table}_{operation}")
    op.drop_table('pool_version')
