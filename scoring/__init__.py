"""Deciding: price catalog, TCO, SLA risk, decision matrix and report."""
