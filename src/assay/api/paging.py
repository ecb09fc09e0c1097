"""The query parameters every list endpoint shares."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Query


@dataclass
class PageQuery:
    limit: Annotated[int, Query(ge=1, le=100, description="Page size")] = 100
    next_token: Annotated[str | None, Query(description="The next_token of the previous page")] = (
        None
    )


def page(docs_and_token: tuple[list, str | None]) -> dict:
    docs, token = docs_and_token
    return {"docs": docs, "next_token": token}
