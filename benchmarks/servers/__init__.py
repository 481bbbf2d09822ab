"""One WSGI application per benchmarked library, with the same push route."""
