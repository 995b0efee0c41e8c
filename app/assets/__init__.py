"""The asset-class layer: one subpackage per asset class (`app/assets/<class>/`).

An asset handler turns a pool of its class plus that class's assumptions into engine calls and
adds the class's own analytics. The rule, enforced by tests/core/test_architecture.py:
assets use the engine (and nothing else of the app: no core, models, services, api or tasks,
no web, database, cache or queue library); services use assets; routers use services.
"""
