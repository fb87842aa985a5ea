"""Persistence: ORM models, engine and session factories, migrations and repositories."""
