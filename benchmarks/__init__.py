"""Benchmarks of flask-realtime against Flask-SocketIO and a naive flask-sock loop.

Run them with ``.venv/bin/python benchmarks/run.py``; see ``README.md``.
"""
