"""A simulated Kubernetes cluster (a fake API server replaying a script) for local
cluster sites and the tests; see docs/kubernetes.md."""
