"""The cabinet's pages and forms (server-rendered HTML, no JavaScript): sign in by a mailed
one-time link, the customer's tickets, one ticket's thread, writing on it with a file, a new
request, rating a resolved ticket.

Every store call runs in a worker thread (``asyncio.to_thread``), never on the event loop.
Every form is a POST with a CSRF token, answered by a redirect (303) so a reload never sends
it again; the form's one-time ``key`` makes a second click land once as well. A ticket or
file that is not the signed-in customer's is a 404, the same as one that does not exist.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData, UploadFile

from sdesk.api.cabinet import guard
from sdesk.api.cabinet.guard import ClientLimiter, Cookies, client_of
from sdesk.api.cabinet.pages import HERE, error, page, with_headers
from sdesk.core.customer_acts import MAX_FILES, Upload
from sdesk.core.desk import Desk
from sdesk.core.errors import DeskError, NotFound
from sdesk.core.filenames import safe_filename
from sdesk.core.signin import LINK_LIFETIME, SigninThrottled, SigninUnavailable
from sdesk.core.websession import SessionInfo, csrf_ok
from sdesk.store import customer_view
from sdesk.store.failures import StoreError

log = logging.getLogger(__name__)

MAX_NUMBER = 10**9
NOTICES = {
    "sent": "Thank you, we have your message.",
    "created": "Thank you, we have your request and will answer here.",
    "rated": "Thank you for your rating.",
    "signedout": "You are signed out.",
}
STALE_FORM = "The form was too old or came from elsewhere. Go back, reload the page and try again."
Handler = Callable[..., Awaitable[Response]]


def _number(text: str) -> int | None:
    return int(text) if text.isdigit() and 0 < len(text) <= 10 and int(text) < MAX_NUMBER else None


def _see(url: str) -> Response:
    return with_headers(RedirectResponse(url, status_code=303))


def _field(form: FormData, name: str, limit: int = 60_000) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def router(desk: Desk) -> APIRouter:
    settings = desk.settings.http
    cookies = Cookies(settings)
    signin_posts = ClientLimiter(limit=20, window=60.0)
    routes = APIRouter(include_in_schema=False)
    css = (HERE / "static" / "cabinet.css").read_bytes()

    async def run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def session_of(request: Request) -> tuple[SessionInfo | None, str]:
        token = request.cookies.get(cookies.session, "")
        info = await run(desk.web_session, token) if token else None
        return info, token

    def guarded(handler: Handler) -> Handler:
        """Refusals become pages with their status; a busy or failing desk a 503, never a
        traceback (the cause is logged)."""

        @functools.wraps(handler)  # FastAPI reads the handler's parameters through it
        async def wrapped(*args: Any, **kwargs: Any) -> Response:
            try:
                return await handler(*args, **kwargs)
            except NotFound:
                return error(404, "There is no such request among yours.")
            except DeskError as exc:
                return error(400, str(exc))
            except HTTPException as exc:  # a malformed multipart body (Starlette's parser)
                return error(exc.status_code if exc.status_code < 500 else 400, str(exc.detail))
            except StoreError as exc:
                log.warning("cabinet: the desk did not answer: %s", exc)
                return error(503, "We cannot answer right now; please try again in a minute.")
            except Exception:
                log.exception("cabinet: %s failed", handler.__name__)
                return error(500, "Something went wrong on our side; please try again later.")

        return wrapped

    async def read_form(request: Request, limit: int) -> FormData | Response:
        """The POSTed form once its declared size is within ``limit``, else the refusal."""
        refused = guard.body_too_big(request, limit)
        if refused is not None:
            words = {411: "Please send the form from a browser.", 400: "A malformed request."}
            return error(refused, words.get(refused, f"That is over {limit // 2**20 or 1} MB."))
        return await request.form(
            max_files=MAX_FILES, max_fields=20, max_part_size=guard.MAX_FORM_BYTES
        )

    async def signed_in_form(
        request: Request, limit: int
    ) -> tuple[SessionInfo, FormData] | Response:
        """The session and its form, or the page refusing it (signed out, CSRF, size)."""
        info, _token = await session_of(request)
        if info is None:
            return error(403, "Your session has ended; please sign in again.")
        if not guard.same_origin(request, settings):
            return error(403, STALE_FORM, me=info, csrf=info.csrf)
        form = await read_form(request, limit)
        if isinstance(form, Response):
            return form
        token = request.cookies.get(cookies.session, "")
        if not csrf_ok(token, _field(form, "csrf", 200)):
            return error(403, STALE_FORM, me=info, csrf=info.csrf)
        return info, form

    async def ticket_form(
        request: Request, number: str, limit: int
    ) -> tuple[SessionInfo, FormData, int] | Response:
        """``signed_in_form`` for a form posted on ticket ``number`` (a 404 when it is none)."""
        checked = await signed_in_form(request, limit)
        if isinstance(checked, Response):
            return checked
        n = _number(number)
        if n is None:
            raise NotFound(number)
        return (*checked, n)

    async def uploads(form: FormData) -> list[Upload] | Response:
        files: list[Upload] = []
        total = 0
        for item in form.getlist("file"):
            if not isinstance(item, UploadFile) or not item.filename:
                continue  # "no file chosen" comes as an empty part
            data = await item.read(guard.MAX_UPLOAD_BYTES + 1)
            total += len(data)
            if total > guard.MAX_UPLOAD_BYTES:
                return error(413, f"Files may be {guard.MAX_UPLOAD_BYTES // 2**20} MB at most.")
            files.append(Upload(item.filename, item.content_type or "", data))
        return files

    def anonymous_page(
        request: Request, template: str, status: int = 200, **values: Any
    ) -> Response:
        """A page whose form is sent before sign-in: its CSRF token is a double-submit cookie."""
        token, new = cookies.anonymous_token(request)
        response = page(template, status, csrf=token, **values)
        if new:
            cookies.remember(response, token)
        return response

    # -- pages ----------------------------------------------------------------------------

    @routes.get("/static/cabinet.css")
    async def stylesheet() -> Response:
        response = Response(css, media_type="text/css")
        response.headers["Cache-Control"] = "public, max-age=3600"
        return with_headers(response)

    @routes.get("/")
    @guarded
    async def home(request: Request) -> Response:
        info, _ = await session_of(request)
        notice = NOTICES.get(request.query_params.get("done", ""), "")
        if info is None:
            return anonymous_page(request, "signin.html", email="", notice=notice)
        tickets = await run(_tickets, desk, info.customer_id)
        return page("tickets.html", me=info, csrf=info.csrf, tickets=tickets, notice=notice)

    @routes.post("/signin")
    @guarded
    async def ask_link(request: Request) -> Response:
        client = client_of(request)
        wait = signin_posts.retry_after(client)
        if wait is not None:
            return _throttled(wait, "Too many sign-in attempts; please wait a minute.")
        form = await read_form(request, guard.MAX_FORM_BYTES)
        if isinstance(form, Response):
            return form
        if not guard.same_origin(request, settings) or not cookies.anonymous_ok(
            request, _field(form, "csrf", 200)
        ):
            return error(403, STALE_FORM)
        email = _field(form, "email", 400).strip()
        try:
            await run(desk.request_signin_link, email, purpose="cabinet", client=client)
        except SigninThrottled as exc:
            return _throttled(exc.retry_after, str(exc).capitalize() + ".")
        except SigninUnavailable as exc:
            log.warning("cabinet: sign-in link not sent: %s", exc)
            return error(503, "Signing in by email is not available here yet; please write to us.")
        except DeskError as exc:
            notice = str(exc).capitalize() + "."
            return anonymous_page(request, "signin.html", 400, email=email, notice=notice)
        minutes = int(LINK_LIFETIME.total_seconds() // 60)
        return page("sent.html", email=email, minutes=minutes)

    def _throttled(wait: int, message: str) -> Response:
        response = error(429, message)
        response.headers["Retry-After"] = str(wait)
        return response

    @routes.get("/signin/{code}")
    @guarded
    async def confirm(request: Request, code: str) -> Response:
        """A button rather than signing in on GET: mail scanners open links in mail, and
        would use the one-time code up before the customer clicks."""
        if not code.isascii() or len(code) > 100:
            return error(400, "This sign-in link is wrong; ask for a new one.")
        return anonymous_page(request, "confirm.html", code=quote(code, safe=""))

    @routes.post("/signin/{code}")
    @guarded
    async def redeem(request: Request, code: str) -> Response:
        wait = signin_posts.retry_after(client_of(request))
        if wait is not None:
            return _throttled(wait, "Too many sign-in attempts; please wait a minute.")
        form = await read_form(request, guard.MAX_FORM_BYTES)
        if isinstance(form, Response):
            return form
        if not guard.same_origin(request, settings) or not cookies.anonymous_ok(
            request, _field(form, "csrf", 200)
        ):
            return error(403, STALE_FORM)
        customer = await run(desk.redeem_signin, code)
        if customer is None:
            return error(400, "This sign-in link was used already, has expired or is wrong. "
                         "Ask for a new one.")  # fmt: skip
        old = request.cookies.get(cookies.session, "")
        if old:
            await run(desk.close_web_session, old)
        token = await run(desk.open_web_session, customer)
        response = _see("/")
        cookies.set_session(response, token)
        return response

    @routes.post("/signout")
    @guarded
    async def sign_out(request: Request) -> Response:
        checked = await signed_in_form(request, guard.MAX_FORM_BYTES)
        if isinstance(checked, Response):
            return checked
        await run(desk.close_web_session, request.cookies.get(cookies.session, ""))
        response = _see("/?done=signedout")
        cookies.clear_session(response)
        return response

    @routes.get("/tickets/new")
    @guarded
    async def new_form(request: Request) -> Response:
        info, _ = await session_of(request)
        if info is None:
            return _see("/")
        return page("new.html", me=info, csrf=info.csrf, **_blank_form())

    @routes.post("/tickets/new")
    @guarded
    async def new_request(request: Request) -> Response:
        checked = await signed_in_form(request, guard.MAX_BODY_BYTES)
        if isinstance(checked, Response):
            return checked
        info, form = checked
        files = await uploads(form)
        if isinstance(files, Response):
            return files
        number = await run(
            desk.customer_request,
            info.customer_id,
            subject=_field(form, "subject", 1000),
            text=_field(form, "text"),
            key=_field(form, "key", 100),
            files=files,
        )
        return _see(f"/tickets/{number}?done=created")

    @routes.get("/tickets/{number}")
    @guarded
    async def ticket(request: Request, number: str) -> Response:
        info, _ = await session_of(request)
        if info is None:
            return _see("/")
        n = _number(number)
        thread = await run(_thread, desk, info.customer_id, n) if n is not None else None
        if thread is None:
            raise NotFound(number)
        if thread.ticket.number != n:  # merged: its messages live on the ticket it went into
            return _see(f"/tickets/{thread.ticket.number}")
        return page(
            "ticket.html",
            me=info,
            csrf=info.csrf,
            ticket=thread.ticket,
            messages=thread.messages,
            cut=thread.cut,
            notice=NOTICES.get(request.query_params.get("done", ""), ""),
            **_blank_form(),
        )

    @routes.post("/tickets/{number}/reply")
    @guarded
    async def reply(request: Request, number: str) -> Response:
        checked = await ticket_form(request, number, guard.MAX_BODY_BYTES)
        if isinstance(checked, Response):
            return checked
        info, form, n = checked
        files = await uploads(form)
        if isinstance(files, Response):
            return files
        landed = await run(
            desk.customer_message,
            info.customer_id,
            n,
            text=_field(form, "text"),
            key=_field(form, "key", 100),
            files=files,
        )
        return _see(f"/tickets/{landed}?done=sent")

    @routes.post("/tickets/{number}/rate")
    @guarded
    async def rate(request: Request, number: str) -> Response:
        checked = await ticket_form(request, number, guard.MAX_FORM_BYTES)
        if isinstance(checked, Response):
            return checked
        info, form, n = checked
        score = _field(form, "score", 10)
        if score not in ("1", "2", "3", "4", "5"):
            raise DeskError("please choose a rating from 1 to 5")
        await run(desk.customer_rate, info.customer_id, n, int(score), _field(form, "comment"))
        return _see(f"/tickets/{n}?done=rated")

    @routes.get("/tickets/{number}/files/{file_id}")
    @guarded
    async def download(request: Request, number: str, file_id: str) -> Response:
        info, _ = await session_of(request)
        if info is None:
            return _see("/")
        n, f = _number(number), _number(file_id)
        found = await run(_file, desk, info.customer_id, n, f) if n and f else None
        if found is None:
            raise NotFound(number)
        name, data = found
        return with_headers(
            Response(
                data,
                media_type="application/octet-stream",  # never rendered by the browser
                headers={"Content-Disposition": _disposition(name)},
            )
        )

    return routes


def _blank_form() -> dict[str, Any]:
    return {
        "key": secrets.token_urlsafe(16),
        "subject": "",
        "text": "",
        "max_mb": guard.MAX_UPLOAD_BYTES // 2**20,
    }


def _tickets(desk: Desk, customer_id: int) -> list[customer_view.CustomerTicket]:
    with desk.store.read() as session:
        return customer_view.tickets_of(session, customer_id)


def _thread(desk: Desk, customer_id: int, number: int) -> customer_view.CustomerThread | None:
    with desk.store.read() as session:
        return customer_view.thread_of(session, customer_id, number)


def _file(desk: Desk, customer_id: int, number: int, file_id: int) -> tuple[str, bytes] | None:
    with desk.store.read() as session:
        found = customer_view.file_of(session, customer_id, number, file_id)
    if found is None:
        return None
    data = desk.store.blobs.get(found.sha256)
    return (found.filename, data) if data is not None else None


def _disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 name (RFC 6266): no quote, CR or LF
    of a customer's file name can reach the header."""
    safe = safe_filename(name, "file.bin")
    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_"
                         for c in safe)  # fmt: skip
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(safe, safe='')}"
