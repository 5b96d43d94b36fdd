"""Load the PoC schema and seed data, idempotently; also a CLI run on the host that can
reach the database (`python -m bench.poc.db --dsn ...`), since the runner process may
sit in another network namespace than the database. The password comes from PGPASSFILE
or PGPASSWORD, never from the command line."""

from __future__ import annotations

import argparse
import sys

import psycopg

from bench.poc import SCHEMA_SQL

# Any fixed number: serialises concurrent loaders (service workers, db-query) on one DB.
_LOCK_KEY = 4242_0001


def load_schema(dsn: str, timeout_s: float = 30.0) -> None:
    """Create tables and seed products if absent. Safe to run concurrently and repeatedly."""
    sql = SCHEMA_SQL.read_text()
    with psycopg.connect(dsn, connect_timeout=int(timeout_s), autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            conn.execute(sql)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn", required=True,
                        help="libpq conninfo without the password (use PGPASSFILE)")
    args = parser.parse_args(argv)
    try:
        load_schema(args.dsn)
    except psycopg.Error as exc:
        print(f"cannot load the PoC schema: {exc}", file=sys.stderr)
        return 1
    print("schema ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
