"""The reference PoC: a checkout microservice backed by PostgreSQL, and its load journey."""

from pathlib import Path

POC_DIR = Path(__file__).resolve().parent
SCHEMA_SQL = POC_DIR / "schema.sql"
HOT_QUERIES_SQL = POC_DIR / "hot_queries.sql"
LOCUSTFILE = POC_DIR / "locustfile.py"
PRODUCT_COUNT = 1000
