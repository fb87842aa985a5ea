"""Throw-away PostgreSQL schemas on one server, for the tests and the benchmarks."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.schema import CreateSchema, DropSchema

from storage.engine import make_engine


@contextmanager
def scratch_schema(url: str, prefix: str = "t_") -> Iterator[str | None]:
    """A new schema on the server at `url`, as a URL whose connections use it (dropped
    afterwards); None when the server does not answer."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except Exception:
        engine.dispose()
        yield None
        return
    schema = f"{prefix}{uuid.uuid4().hex[:10]}"
    with engine.begin() as conn:
        conn.execute(CreateSchema(schema))
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(DropSchema(schema, cascade=True))
        engine.dispose()
