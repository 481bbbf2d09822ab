from pallets_sphinx_themes import get_version

# Project --------------------------------------------------------------

project = "Flask-Realtime"
copyright = "2026 the flask-realtime authors"
author = "the flask-realtime authors"
release, version = get_version("Flask-Realtime")

# General --------------------------------------------------------------

master_doc = "index"
default_role = "code"
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "pallets_sphinx_themes",
]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
# Types only for documented parameters: PageSocket.__init__ takes internal
# arguments (the app and its state) that users never pass.
autodoc_typehints_description_target = "documented"
autodoc_preserve_defaults = True
# No intersphinx_mapping on purpose: the build machines reach package
# registries only, so fetching python/flask/werkzeug/blinker inventories would
# warn, and `sphinx-build -W` turns that warning into a failed build. Add the
# mapping (as in Flask's docs/conf.py) once docs are built where those sites
# can be reached, e.g. on Read the Docs.

# HTML -----------------------------------------------------------------

html_theme = "flask"
html_theme_options = {"index_sidebar_logo": False}
html_sidebars = {
    "index": ["project.html", "localtoc.html", "searchbox.html"],
    "**": ["localtoc.html", "relations.html", "searchbox.html"],
}
singlehtml_sidebars = {"index": ["project.html", "localtoc.html"]}
html_static_path = ["_static"]
html_title = f"Flask-Realtime Documentation ({version})"
html_show_sourcelink = False

# LaTeX ----------------------------------------------------------------

latex_documents = [
    (master_doc, f"Flask-Realtime-{version}.tex", html_title, author, "manual")
]
