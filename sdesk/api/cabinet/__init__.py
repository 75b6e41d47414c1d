"""The customer's web cabinet at ``/`` (issue 16): server-rendered pages (Jinja2, no
JavaScript) over the same core acts as every channel. ``routes.py`` holds the pages and forms,
``guard.py`` the defences (CSP, CSRF, cookies, limits), ``pages.py`` the rendering; templates
and the stylesheet sit beside them and ship in the wheel."""

from sdesk.api.cabinet.routes import router

__all__ = ["router"]
