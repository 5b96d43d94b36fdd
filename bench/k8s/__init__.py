"""Managed Kubernetes measurements (issue 20): the pod-scale core and its fake API server."""

from pathlib import Path

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile_service.py"
