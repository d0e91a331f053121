"""Create or update the PostgreSQL role the application runs as: it reads and writes rows, nothing more.

Run it as the database owner (the role migrations run as). The application role does not own the tables,
so it cannot TRUNCATE, ALTER or DROP them, disable their triggers, or set session_replication_role (a
superuser setting): the register's and the ledger's guards hold against it. Point DATABASE_URL of the web,
worker and beat processes at it; keep the owner's URL for `migrate` only.
"""

import os

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from psycopg import sql

GRANTS = [
    "GRANT CONNECT ON DATABASE {db} TO {role}",
    "GRANT USAGE ON SCHEMA public TO {role}",
    "REVOKE CREATE ON SCHEMA public FROM {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
    "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
    # Tables and sequences that later migrations create (as the owner running this) are granted too.
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}",
]


class Command(BaseCommand):
    help = (
        "Create (or update) the application's PostgreSQL role: a login that may read and write rows but owns "
        "nothing, so it cannot TRUNCATE, ALTER or drop tables or switch the register's guards off. Run as the "
        "owner after migrate; use --print to see the SQL only."
    )

    def add_arguments(self, parser):
        parser.add_argument("role", help="The role's name, e.g. salonconsent_app.")
        parser.add_argument("--password-env", default="",
                            help="Name of an environment variable holding the role's password (never on the "
                                 "command line).")
        parser.add_argument("--print", action="store_true", dest="print_only",
                            help="Print the SQL (creating the role) instead of running it.")

    def handle(self, *args, role, password_env, print_only, **options):
        if connection.vendor != "postgresql":
            raise CommandError("The application role is a PostgreSQL feature; the embedded SQLite demo has none.")
        password = os.environ.get(password_env, "") if password_env else ""
        if password_env and not password:
            raise CommandError(f"The environment variable {password_env} is empty or not set.")
        statements = self._statements(role, password)
        if print_only:
            with connection.cursor() as cursor:
                for statement in [self._create(role), *statements]:
                    self.stdout.write(statement.as_string(cursor.connection) + ";")
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            exists = cursor.fetchone() is not None
            for statement in statements if exists else [self._create(role), *statements]:
                cursor.execute(statement)
        self.stdout.write(self.style.SUCCESS(
            f"Role {role} can read and write rows of {connection.settings_dict['NAME']}; it owns nothing."))

    def _create(self, role: str):
        return sql.SQL("CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION").format(
            role=sql.Identifier(role))

    def _statements(self, role: str, password: str) -> list:
        identifiers = {"role": sql.Identifier(role), "db": sql.Identifier(connection.settings_dict["NAME"])}
        statements = [sql.SQL("ALTER ROLE {role} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION").format(
            **identifiers)]
        if password:
            statements.append(sql.SQL("ALTER ROLE {role} PASSWORD {password}").format(
                password=sql.Literal(password), **identifiers))
        statements += [sql.SQL(grant).format(**identifiers) for grant in GRANTS]
        return statements
