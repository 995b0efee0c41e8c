"""The pure numerical engine: NumPy arrays and frozen dataclasses in and out.

It imports nothing from FastAPI, SQLAlchemy, Redis, Celery or app.core, so it can run in a
notebook, a worker or a test with no service around it.
"""
