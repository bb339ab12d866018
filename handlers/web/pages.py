"""The console's pages and forms: parse the request, ask the core, render.

Every route finds the person's role in the chosen document through bot/office/desk.py and refuses
what the chat would refuse; actions are the chat's own calls (Office, Notes, Overview), so
the same rules, audit entries and notices apply.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from bot import library
from bot.ask.catalog import Doc
from bot.core import Core
from bot.documents.plan import Task
from bot.office import desk, unanswered
from bot.office.membership import APPROVE, REJECT
from bot.office.office import Office
from bot.office.reminders import Reminders
from bot.office.status import Status
from bot.outcome import Attachment, Outcome
from handlers.web.auth import in_wecom, wecom_authorize
from handlers.web.server import CORE, Refused, flash, page, session

NOT_BOUND = (
    "您还没有绑定单位，工作台没有可显示的内容。请在聊天中发送 /bind 单位名称 申请绑定，"
    "或使用协调人给的邀请码 /join 邀请码。"
)
COORDINATORS_ONLY = "只有协调人（省政府残工委办公室）可以查看这个页面。"
OTHER_UNIT = "您只能查看本单位的内容。"
CLASSES = {
    Status.ALL: "all",
    Status.SOME: "some",
    Status.NONE: "none",
    Status.NOT_ITS_TASK: "na",
}


def add_routes(app: web.Application) -> None:
    """Register the pages and their forms."""
    r = app.router
    r.add_get("/", overview)
    r.add_get("/cell", cell)
    r.add_get("/unit", unit_page)
    r.add_post("/notes/add", note_add)
    r.add_post("/notes/edit", note_edit)
    r.add_post("/notes/delete", note_delete)
    r.add_get("/members", members_page)
    r.add_post("/requests/decide", decide)
    r.add_post("/invites", invite)
    r.add_get("/audit", audit_page)
    r.add_get("/reminders", reminders_page)
    r.add_get("/files", files_page)
    r.add_post("/files/upload", files_upload)
    r.add_post("/files/enable", files_enable)
    r.add_get("/unanswered", unanswered_page)
    r.add_post("/unanswered/map", unanswered_map)
    r.add_post("/unanswered/out", unanswered_out)
    r.add_get("/download/export", download_export)
    r.add_get("/download/report", download_report)
    r.add_get("/download/progress", download_progress)


@dataclass(frozen=True)
class Here:
    """A request's document, year and viewer."""

    core: Core
    doc: Doc
    office: Office
    reminders: Reminders
    viewer: desk.Viewer
    year: int
    params: Mapping[str, str]

    def context(self, **more: Any) -> dict[str, Any]:
        """Return what every page's template needs, and `more`."""
        return {
            "docs": self.core.catalog.docs,
            "doc": self.doc,
            "year": self.year,
            "years": desk.years(self.office),
            "viewer": self.viewer,
            "units": self.office.membership.plan.units,
            "q": lambda **kw: "?" + urlencode({"doc": self.doc.key, "year": self.year, **kw}),
            **more,
        }

    def unit(self, field: str = "u") -> str:
        """Return the unit a parameter names by its index in the plan (404 if none)."""
        units = self.office.membership.plan.units
        text = self.params.get(field, "")
        if not text.isdecimal() or int(text) >= len(units):
            raise Refused(404, "没有这个单位。")
        return units[int(text)].name

    def task(self) -> Task:
        """Return the main task the `t` parameter names (404 if none)."""
        text = self.params.get("t", "")
        task = self.office.membership.plan.task(int(text)) if text.isdecimal() else None
        if task is None or len(text) > 4:
            raise Refused(404, "没有这项主要任务。")
        return task

    def back(self, path: str, **more: Any) -> web.HTTPFound:
        """Return a redirect to a page of this document and year."""
        return web.HTTPFound(path + "?" + urlencode({"doc": self.doc.key, "year": self.year,
                                                     **more}))


async def here(request: web.Request, *, coordinator: bool = False) -> Here:
    """Find the document, year and viewer; send the logged-out to log in; refuse strangers."""
    found = session(request)
    if found is None:
        if in_wecom(request):
            raise wecom_authorize(request)
        raise web.HTTPFound("/login")
    params: Mapping[str, str]
    if request.method == "POST":
        form = await request.post()
        params = {k: v for k, v in form.items() if isinstance(v, str)}
    else:
        params = request.query
    core = request.app[CORE]
    key = params.get("doc", "")
    doc = core.catalog.doc(key) if key else core.catalog.default
    if doc is None:
        raise Refused(404, "没有这个文件。")
    office = core.offices[doc.id]
    viewer = await desk.viewer(office, found.person)
    if not viewer.anything:
        raise Refused(403, NOT_BOUND)
    if coordinator and not viewer.coordinator:
        raise Refused(403, COORDINATORS_ONLY)
    text = params.get("year", "")
    years = desk.years(office)
    year = int(text) if text.isdecimal() and int(text) in years else office.membership.year()
    return Here(core, doc, office, core.reminders_of[doc.id], viewer, year, params)


# -- reading ---------------------------------------------------------------------------------


async def overview(request: web.Request) -> web.StreamResponse:
    """总览: units × main tasks (coordinators); a member goes to their unit's page."""
    h = await here(request)
    if not h.viewer.coordinator:
        units = [u.name for u in h.office.membership.plan.units]
        if h.viewer.unit not in units:  # a unit the document no longer names
            raise Refused(403, NOT_BOUND)
        raise h.back("/unit", u=units.index(h.viewer.unit))
    rows = await desk.matrix(h.office, h.year)
    unit_filter, task_filter = h.params.get("u", ""), h.params.get("t", "")
    if unit_filter:
        rows = [r for r in rows if r.unit == h.unit()]
    tasks = h.office.membership.plan.tasks
    if task_filter:
        tasks = (h.task(),)
    columns = [i for i, t in enumerate(h.office.membership.plan.tasks) if t in tasks]
    return page(request, "overview.html", h.context(
        rows=rows, tasks=tasks, columns=columns, classes=CLASSES,
        unit_filter=unit_filter, task_filter=task_filter,
    ))


async def cell(request: web.Request) -> web.StreamResponse:
    """A cell of the matrix: a unit's measures of one main task, with their notes."""
    h = await here(request)
    unit, task = h.unit(), h.task()
    if not h.viewer.may_see(unit):
        raise Refused(403, OTHER_UNIT)
    measures = await desk.unit_notes(h.office, unit, h.year, task)
    return page(request, "cell.html", h.context(
        unit=unit, unit_index=int(h.params["u"]), task=task, measures=measures
    ))


async def unit_page(request: web.Request) -> web.StreamResponse:
    """单位: a unit's measures with notes, its gaps and its members."""
    h = await here(request)
    unit = h.unit()
    if not h.viewer.may_see(unit):
        raise Refused(403, OTHER_UNIT)
    measures = await desk.unit_notes(h.office, unit, h.year)
    return page(request, "unit.html", h.context(
        unit=unit,
        unit_index=int(h.params["u"]),
        measures=measures,
        gaps=[m.measure for m in measures if not m.notes],
        members=await desk.members(h.office, unit),
        own=h.viewer.unit == unit,
        editing=h.params.get("edit", ""),
        current=h.year == h.office.membership.year(),
    ))


async def members_page(request: web.Request) -> web.StreamResponse:
    """成员: members, pending bind requests, invites (coordinators)."""
    h = await here(request, coordinator=True)
    return page(request, "members.html", h.context(
        members=await desk.members(h.office), requests=await desk.pending(h.office)
    ))


async def audit_page(request: web.Request) -> web.StreamResponse:
    """记录: the audit trail, filtered (coordinators)."""
    h = await here(request, coordinator=True)
    unit = h.unit() if h.params.get("u") else ""
    action, who = h.params.get("action", "")[:40], h.params.get("who", "")[:40]
    from bot.office.audit import LABELS

    lines = await desk.audit_lines(h.office, h.year, action, unit, who)
    return page(request, "audit.html", h.context(
        lines=lines, labels=LABELS, action=action, who=who, unit_filter=h.params.get("u", "")
    ))


async def reminders_page(request: web.Request) -> web.StreamResponse:
    """提醒: the schedule, the next send and how each past one went per unit (coordinators)."""
    h = await here(request, coordinator=True)
    now = h.office.membership.clock()
    return page(request, "reminders.html", h.context(
        schedule=h.reminders.describe_schedule(),
        runs=await desk.reminder_runs(h.office, h.reminders, now),
    ))


# -- acting: the chat's own calls ------------------------------------------------------------


async def note_add(request: web.Request) -> web.StreamResponse:
    """File a note on one of the member's unit's measures."""
    h = await here(request)
    outcome = await h.office.notes.file(
        h.viewer.person, h.params.get("measure", "")[:10], h.params.get("text", "")
    )
    flash(request, outcome)
    raise _own_unit(h)


async def note_edit(request: web.Request) -> web.StreamResponse:
    """Replace the text of one's own note."""
    h = await here(request)
    outcome = await h.office.notes.rewrite(
        h.viewer.person, h.params.get("note", ""), h.params.get("text", "")
    )
    flash(request, outcome)
    raise _own_unit(h)


async def note_delete(request: web.Request) -> web.StreamResponse:
    """Delete one's own note (the form's 确认 box is the chat's confirmation)."""
    h = await here(request)
    if h.params.get("confirm") != "1":
        flash(request, "请勾选「确认删除」后再删除。")
    else:
        note = h.params.get("note", "")
        flash(request, await h.office.notes.confirm_delete(h.viewer.person, note))
    raise _own_unit(h)


def _own_unit(h: Here) -> web.HTTPFound:
    units = [u.name for u in h.office.membership.plan.units]
    if h.viewer.unit in units:
        return h.back("/unit", u=units.index(h.viewer.unit))
    return h.back("/")


async def decide(request: web.Request) -> web.StreamResponse:
    """Approve or reject a bind request; the requester is told on their channel."""
    h = await here(request, coordinator=True)
    verdict = APPROVE if h.params.get("verdict") == "approve" else REJECT
    request_id = h.params.get("request", "")
    outcome = await h.office.action(h.viewer.person, f"{verdict}:{request_id}")
    if outcome is not None:
        flash(request, outcome)
        missed = await h.core.notify(outcome)
        if missed:
            flash(request, f"通知未能送达 {len(missed)} 人，稍后会自动重试。")
    raise h.back("/members")


async def invite(request: web.Request) -> web.StreamResponse:
    """Make an invite code (and link, where the coordinator's channel has links)."""
    h = await here(request, coordinator=True)
    person = h.viewer.person
    outcome = await h.office.membership.invite(
        person, h.unit(), h.core.router.invite_link(person.id)
    )
    flash(request, outcome)
    raise h.back("/members")


# -- documents -------------------------------------------------------------------------------


async def files_page(request: web.Request) -> web.StreamResponse:
    """文件: the documents served, those imported and waiting, and the upload (coordinators)."""
    h = await here(request, coordinator=True)
    return page(request, "files.html", h.context(
        staged=library.staged(h.core.config.data_dir), report=None
    ))


async def files_upload(request: web.Request) -> web.StreamResponse:
    """Import an uploaded .txt/.docx/.xlsx into the staging folder and show the report."""
    h = await here(request, coordinator=True)
    upload = (await request.post()).get("file")
    if not isinstance(upload, web.FileField):
        raise Refused(400, "请选择要上传的文件。")
    data = await asyncio.to_thread(upload.file.read, library.MAX_UPLOAD + 1)
    staged = await library.upload(h.core, h.params.get("name", "").strip(), upload.filename, data)
    return page(request, "files.html", h.context(
        staged=library.staged(h.core.config.data_dir), report=staged
    ))


async def files_enable(request: web.Request) -> web.StreamResponse:
    """启用: serve a staged document now, without a restart."""
    h = await here(request, coordinator=True)
    flash(request, await library.enable(h.core, h.params.get("name", "")))
    raise web.HTTPFound("/files")


# -- what the bot could not answer -----------------------------------------------------------


async def unanswered_page(request: web.Request) -> web.StreamResponse:
    """未答问题: the document's questions answered "not found", most asked first (coordinators)."""
    h = await here(request, coordinator=True)
    questions = await unanswered.listing(h.office.membership.store, h.doc.assistant)
    return page(request, "unanswered.html", h.context(
        questions=questions, measures=h.doc.assistant.plan.measures
    ))


async def unanswered_map(request: web.Request) -> web.StreamResponse:
    """归入举措: the question's key words become a synonym of a measure, used at once."""
    h = await here(request, coordinator=True)
    p = h.params
    flash(request, await unanswered.map_to(
        h.office.membership.store, h.doc.assistant, p.get("text", ""), p.get("measure", ""),
        p.get("words", ""), h.viewer.person,
    ))
    raise h.back("/unanswered")


async def unanswered_out(request: web.Request) -> web.StreamResponse:
    """不在文件范围: the question stays "not found" and leaves the list."""
    h = await here(request, coordinator=True)
    store, text = h.office.membership.store, h.params.get("text", "")
    flash(request, await unanswered.out_of_scope(store, text, h.viewer.person))
    raise h.back("/unanswered")


# -- downloads -------------------------------------------------------------------------------


def _file(attachment: Attachment | None, outcome: Outcome, kind: str) -> web.Response:
    if attachment is None:  # refused: the outcome says why
        raise Refused(403, " ".join(s.text for ln in outcome.reply.header for s in ln))
    name = quote(attachment.filename)
    return web.Response(
        body=attachment.data,
        content_type=kind,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def download_export(request: web.Request) -> web.StreamResponse:
    """The year's Excel summary (coordinators), as /export makes it."""
    h = await here(request, coordinator=True)
    outcome = await h.office.overview.export(h.viewer.person, str(h.year))
    return _file(outcome.attachment, outcome, XLSX)


async def download_report(request: web.Request) -> web.StreamResponse:
    """A unit's or the committee's year-end report, as /report makes it."""
    h = await here(request)
    unit = "全部" if h.params.get("u") == "all" else h.unit()
    outcome = await h.office.overview.report(h.viewer.person, f"{unit} {h.year}")
    return _file(outcome.attachment, outcome, DOCX)


async def download_progress(request: web.Request) -> web.StreamResponse:
    """The progress picture (coordinators), as /progress draws it."""
    h = await here(request, coordinator=True)
    outcome = await h.office.overview.progress(h.viewer.person, str(h.year), picture=True)
    return _file(outcome.picture, outcome, "image/png")
