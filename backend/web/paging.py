"""The query parameters of every list: `cursor` (the previous page's next_cursor) and `limit`."""

from __future__ import annotations

from typing import Annotated

from litestar.params import QueryParameter

from backend.web.deps import PageLimit

Cursor = Annotated[
    str | None, QueryParameter(description="next_cursor of the page before (absent: the first)")
]

__all__ = ["Cursor", "PageLimit"]
