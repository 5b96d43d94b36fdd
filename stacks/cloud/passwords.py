"""Database passwords every provider accepts, whatever the draw.

A random URL-safe token fails Azure Flexible Server's rule (3 of 4 categories: upper
case, lower case, digits, non-alphanumeric) whenever it happens to miss two categories,
and RDS refuses '/', '@', '"', "'" and spaces. This generator always draws at least one
character of each of the four categories, from an alphabet every provider and a
PostgreSQL connection string take as is, then shuffles with the same CSPRNG.
"""

from __future__ import annotations

import secrets
import string

# '-', '_', '.', '~' are unreserved in URLs (RFC 3986) and allowed by RDS, Azure and Cloud SQL.
SYMBOLS = "-_.~"
CLASSES = (string.ascii_uppercase, string.ascii_lowercase, string.digits, SYMBOLS)
ALPHABET = "".join(CLASSES)
LENGTH = 32


def new_db_password(length: int = LENGTH) -> str:
    """`length` characters, at least one of each class (so 4 of 4 categories)."""
    if length < len(CLASSES):
        raise ValueError(f"a password needs at least {len(CLASSES)} characters")
    chars = [secrets.choice(c) for c in CLASSES]
    chars += [secrets.choice(ALPHABET) for _ in range(length - len(chars))]
    rng = secrets.SystemRandom()
    rng.shuffle(chars)
    return "".join(chars)
