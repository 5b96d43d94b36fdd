"""k8s-time-to-scale's load: GET / of the Service (the same request for every user)."""

from locust import FastHttpUser, constant, task


class ServiceUser(FastHttpUser):
    wait_time = constant(1)  # constant-rate mode replaces it with the send schedule

    @task
    def root(self) -> None:
        self.client.get("/", name="GET /")
