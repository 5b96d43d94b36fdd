"""The built-in checkout journey: browse products (weight 4) and check out (weight 1).

Endpoints are named by route template so latencies aggregate per endpoint:
"GET /api/v1/products/{id}" and "POST /api/v1/checkout".
"""

import random

from locust import FastHttpUser, between, task

PRODUCTS = 1000


class CheckoutShopper(FastHttpUser):
    wait_time = between(0.05, 0.25)

    @task(4)
    def browse(self) -> None:
        self.client.get(f"/api/v1/products/{random.randint(1, PRODUCTS)}",
                        name="/api/v1/products/{id}")

    @task(1)
    def checkout(self) -> None:
        items = [{"product_id": random.randint(1, PRODUCTS), "quantity": random.randint(1, 3)}
                 for _ in range(random.randint(1, 3))]
        self.client.post("/api/v1/checkout", json={"customer_id": random.randint(1, 100_000),
                                                   "items": items},
                         name="/api/v1/checkout")
