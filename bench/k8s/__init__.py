"""Managed Kubernetes measurements (issue 20): the pod-scale core and its fake API server."""
