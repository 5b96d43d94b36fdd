"""A tiny HTTP/1.1 keep-alive server that answers every request after a fixed delay.

    python -m bench.perf.delay_server --host 127.0.0.1 --port 8081 --delay-ms 20 \
        [--slow-from EPOCH --slow-until EPOCH --slow-ms 300]

nginx cannot delay responses without extra modules, so the fixed-delay target of the
load-generator benchmark is this asyncio server: its latency floor is the delay, which
makes the load generator's own overhead visible. Handles GET/HEAD without bodies.

For tests of latency over time it can plant a slow window (requests *received* between
two epoch times wait `--slow-ms` instead), and it counts the requests it answered:
`GET /__count` returns that count (and is not counted), an independent tally to check
the load generator's against.
"""

from __future__ import annotations

import argparse
import asyncio
import time

BODY = b"ok\n"
RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
            + str(len(BODY)).encode() + b"\r\nConnection: keep-alive\r\n\r\n" + BODY)


SERVED = {"count": 0}
SLOW: dict[str, float] = {"from": 0.0, "until": 0.0, "delay_s": 0.0}


class DelayedHttp(asyncio.Protocol):
    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        loop = asyncio.get_running_loop()
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            if head.startswith(b"GET /__count "):
                self._reply(str(SERVED["count"]).encode())
                continue
            SERVED["count"] += 1
            now = time.time()
            slow = SLOW["from"] <= now < SLOW["until"]
            loop.call_later(SLOW["delay_s"] if slow else self.delay_s, self._reply)

    def _reply(self, body: bytes = BODY) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(RESPONSE if body is BODY else
                                 b"HTTP/1.1 200 OK\r\nContent-Length: "
                                 + str(len(body)).encode() + b"\r\n\r\n" + body)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def serve(host: str, port: int, delay_s: float) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: DelayedHttp(delay_s), host, port, backlog=4096)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description="fixed-delay HTTP target")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=20.0)
    parser.add_argument("--slow-from", type=float, default=0.0, help="epoch seconds")
    parser.add_argument("--slow-until", type=float, default=0.0, help="epoch seconds")
    parser.add_argument("--slow-ms", type=float, default=0.0)
    args = parser.parse_args()
    SLOW.update({"from": args.slow_from, "until": args.slow_until,
                 "delay_s": args.slow_ms / 1000.0})
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    asyncio.run(serve(args.host, args.port, args.delay_ms / 1000.0))


if __name__ == "__main__":
    main()
