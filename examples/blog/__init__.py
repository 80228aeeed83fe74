"""The blog example: users, posts and comments served by FraiseQL.

``schema.sql`` holds the tables, views and functions, ``seed.py`` the deterministic
data, ``database.py`` the loader behind ``fraiseql db init --example blog`` and
``app.py`` the ASGI application (``uvicorn examples.blog.app:app``).
"""
