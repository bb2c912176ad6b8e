"""A lean keep-alive HTTP/1.1 client for load generation.

The benchmarks share two cores with the server they measure. httpx costs about 3.5 ms of CPU per request
here, so at a few hundred requests a second the load generator would take a core from the server and the
figures would measure httpx. This client writes one pre-built request and reads the response by its
Content-Length: tens of microseconds, like wrk or oha would spend.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit


class HttpConnection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self._reader, self._writer, self._host = reader, writer, host

    @classmethod
    async def open(cls, url: str) -> HttpConnection:
        parts = urlsplit(url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 80)
        return cls(reader, writer, f"{parts.hostname}:{parts.port}")

    async def post_json(self, path: str, payload: object, headers: dict[str, str]) -> tuple[int, object]:
        body = json.dumps(payload, separators=(",", ":")).encode()
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self._writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {self._host}\r\nContent-Type: application/json\r\n{head}"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        status_and_headers = await self._reader.readuntil(b"\r\n\r\n")
        lines = status_and_headers.split(b"\r\n")
        status = int(lines[0].split()[1])
        length = None
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
            elif name.strip().lower() == b"transfer-encoding":
                raise RuntimeError("chunked responses are not expected here")
        data = await self._reader.readexactly(length or 0)
        return status, json.loads(data) if data else None

    async def close(self) -> None:
        self._writer.close()
        await self._writer.wait_closed()
