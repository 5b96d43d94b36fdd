"""Start the PoC service: load schema + seed data, then run uvicorn with N workers.

    python -m bench.poc.serve --host 127.0.0.1 --port 8080 --dsn "host=... dbname=..." --workers 2

The password is not an argument (argv is visible to every user in `ps`): libpq reads it
from PGPASSFILE or PGPASSWORD in the environment.

The Prometheus multiprocess directory is created here (before prometheus-client is
imported anywhere) and removed on exit, so /metrics aggregates all uvicorn workers.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile


def _where(dsn: str) -> str:
    """host:port/db of a DSN, for messages (never the password)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(dsn)
    except Exception:
        return "the database"
    return f"{parts.get('host')}:{parts.get('port')}/{parts.get('dbname')}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="bakeoff PoC checkout service")
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dsn", required=True,
                        help="libpq conninfo without the password (use PGPASSFILE)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--pool-size", type=int, default=10)
    parser.add_argument("--scratch", default=None, help="directory for metrics files")
    args = parser.parse_args(argv)

    metrics_dir = tempfile.mkdtemp(prefix="bakeoff-poc-metrics-", dir=args.scratch)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    os.environ["BAKEOFF_POC_DSN"] = args.dsn
    os.environ["BAKEOFF_POC_POOL"] = str(args.pool_size)
    try:
        import psycopg
        import uvicorn

        from bench.poc.db import load_schema

        try:
            load_schema(args.dsn)
        except psycopg.Error as exc:
            print(f"PoC service: cannot load the schema into {_where(args.dsn)}: {exc}",
                  file=sys.stderr)
            return 2
        uvicorn.run("bench.poc.app:create_app", factory=True, host=args.host, port=args.port,
                    workers=max(1, args.workers), log_level="warning", access_log=False)
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
