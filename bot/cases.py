"""Cases: /new (open one), /cases and /case N (choose the active one), /checklist, /stage."""

from __future__ import annotations

import re
from datetime import datetime

from telegram import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from core.cases import lifecycle as case_service
from core.cases.commands import OpenCase, Transition
from core.kernel.clock import utcnow
from core.kernel.vocab import KINDS, ROUTES
from core.rules.catalogue import record_type

from . import forms
from .common import (
    BotContext,
    active_case,
    as_officer,
    ask_again,
    buttons,
    callback_arg,
    capture_markup,
    column,
    guarded,
    reply,
    set_active_case,
)
from .dialogs import END, ask, cancel_button, dialog
from .evidence import LOCATION_FRESH
from .texts import kind_name, metres, route_name, stage_name, t
from .views import case_line, case_summary, checklist_text, next_steps_of

# /new states, one question each.
KIND, ROUTE, TITLE, PARTY_KIND, PARTY_NAME, PARTY_ID, SITE, ADDRESS, EMERGENCY, CONFIRM = range(10)
DRAFT = "draft_case"


LAST = "last_case"  # kind and route of the officer's last case, and recent subjects
RECENT_TITLES = 3
ID_AFTER_NAME = re.compile(r"^(.+?)[\s,，;；]+([0-9A-Za-z]{15,18})$")


async def new_start(update: Update, context: BotContext) -> int:
    """Start /new: ask the kind of enforcement (A2.1), offering the last case's kind and
    route as one button."""
    context.user_data[DRAFT] = {}
    lang = context.lang
    markup = column([(kind_name(k, lang), f"nk:{k}") for k in KINDS])
    last = context.user_data.get(LAST) or {}
    if last.get("kind") in KINDS and last.get("initiation") in ROUTES:
        same = t(lang, "new_same", kind=kind_name(last["kind"], lang),
                 route=route_name(last["initiation"], lang))
        markup = buttons([[(same, "nk:last")], *[[(b.text, b.callback_data) for b in row]
                                                  for row in markup.inline_keyboard]])
    await ask(update, t(lang, "new_kind"), markup)
    return KIND


async def new_kind(update: Update, context: BotContext) -> int:
    """Keep the kind (or the last case's kind and route); ask the route, or the subject."""
    arg = callback_arg(update)
    lang = context.lang
    last = context.user_data.get(LAST) or {}
    if arg == "last" and last.get("kind") in KINDS and last.get("initiation") in ROUTES:
        context.user_data[DRAFT].update(kind=last["kind"], initiation=last["initiation"])
        return await _ask_title(update, context)
    if arg not in KINDS:
        await ask(update, t(lang, "stale_button"))
        return KIND
    context.user_data[DRAFT]["kind"] = arg
    await ask(update, t(lang, "new_route"),
              column([(route_name(r, lang), f"nr:{r}") for r in ROUTES]))
    return ROUTE


async def new_route(update: Update, context: BotContext) -> int:
    """Keep the route; ask the subject."""
    arg = callback_arg(update)
    if arg not in ROUTES:
        await ask(update, t(context.lang, "stale_button"))
        return ROUTE
    context.user_data[DRAFT]["initiation"] = arg
    return await _ask_title(update, context)


async def _ask_title(update: Update, context: BotContext) -> int:
    titles = (context.user_data.get(LAST) or {}).get("titles") or []
    markup = buttons([[(title[:40], f"nt:{i}")] for i, title in enumerate(titles)]) \
        if titles else None
    await ask(update, t(context.lang, "new_title"), markup)
    return TITLE


async def new_title_button(update: Update, context: BotContext) -> int:
    """A subject of a recent case, chosen with a button."""
    titles = (context.user_data.get(LAST) or {}).get("titles") or []
    arg = callback_arg(update)
    if not arg.isdigit() or int(arg) >= len(titles):
        await ask(update, t(context.lang, "stale_button"))
        return TITLE
    return await _keep_title(update, context, titles[int(arg)])


async def new_title(update: Update, context: BotContext) -> int:
    """Keep the subject; ask who the party is."""
    return await _keep_title(update, context, update.message.text.strip())


async def _keep_title(update: Update, context: BotContext, title: str) -> int:
    context.user_data[DRAFT]["title"] = title
    lang = context.lang
    await ask(update, t(lang, "new_party_kind"), buttons([[
        ("个人" if lang == "zh" else "Person", "np:person"),
        ("单位" if lang == "zh" else "Organisation", "np:organisation"),
        (t(lang, "none"), "np:none")]]))
    return PARTY_KIND


async def new_party_kind(update: Update, context: BotContext) -> int:
    """Keep the party kind; ask the name, or go to the site when there is no party yet."""
    kind = callback_arg(update)
    if kind == "none":
        context.user_data[DRAFT]["party"] = None
        return await _ask_site(update, context)
    context.user_data[DRAFT]["party"] = {"kind": kind}
    await ask(update, t(context.lang, "new_party_name"))
    return PARTY_NAME


async def new_party_name(update: Update, context: BotContext) -> int:
    """Keep the party's name; ask the ID number, unless it came after the name."""
    text = update.message.text.strip()
    both = ID_AFTER_NAME.match(text)
    if both:
        party = context.user_data[DRAFT]["party"]
        party["name"], party["id_number"] = both.group(1).strip(), both.group(2).upper()
        return await _ask_site(update, context)
    context.user_data[DRAFT]["party"]["name"] = text
    await reply(update, t(context.lang, "new_party_id"),
                buttons([[(t(context.lang, "skip"), "np:skip")]]))
    return PARTY_ID


async def new_party_id(update: Update, context: BotContext) -> int:
    """Keep the ID number (typed) or skip it; ask the site."""
    if update.message is not None:
        context.user_data[DRAFT]["party"]["id_number"] = update.message.text.strip()
    return await _ask_site(update, context)


def _fresh_location(context: BotContext) -> dict | None:
    """The location the officer shared in the last minutes, if any (bot.evidence keeps it)."""
    loc = context.user_data.get("last_location")
    if not loc or loc.get("forwarded"):
        return None
    if utcnow() - datetime.fromisoformat(loc["at"]) > LOCATION_FRESH:
        return None
    return loc


async def _ask_site(update: Update, context: BotContext) -> int:
    loc = _fresh_location(context)
    lang = context.lang
    if loc is not None:
        await ask(update, t(lang, "new_site_shared"), buttons([[
            (t(lang, "use_shared", acc=metres(loc.get("accuracy"), lang)), "ns:last")]]))
        return SITE
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton(t(context.lang, "send_location"), request_location=True)]],
        resize_keyboard=True, one_time_keyboard=True)
    await ask(update, t(context.lang, "new_site"), keyboard)
    return SITE


async def new_site_location(update: Update, context: BotContext) -> int:
    """Keep the site from a location message (WGS-84); ask the address."""
    loc = update.message.location
    context.user_data[DRAFT]["site"] = {"lat": loc.latitude, "lon": loc.longitude,
                                        "datum": "wgs84"}
    lang = context.lang
    await reply(update, t(lang, "new_site_address", acc=metres(loc.horizontal_accuracy, lang)),
                buttons([[(t(lang, "skip"), "na:skip")]]))
    return ADDRESS


async def new_site_shared(update: Update, context: BotContext) -> int:
    """The site is where the officer shared their location: no address question, and the
    emergency flag defaults to no (the summary offers to change it)."""
    loc = _fresh_location(context)
    if loc is None:
        await ask(update, t(context.lang, "stale_button"))
        return await _ask_site(update, context)
    draft = context.user_data[DRAFT]
    draft["site"] = {"lat": loc["lat"], "lon": loc["lon"], "datum": "wgs84"}
    draft["emergency"] = False
    return await _summary(update, context)


async def new_site_text(update: Update, context: BotContext) -> int:
    """Keep a typed address as the site."""
    context.user_data[DRAFT]["site"] = {"address": update.message.text.strip()}
    return await _ask_emergency(update, context)


async def new_address(update: Update, context: BotContext) -> int:
    """Keep the address beside the location (or skip it)."""
    if update.message is not None:
        context.user_data[DRAFT]["site"]["address"] = update.message.text.strip()
    return await _ask_emergency(update, context)


async def _ask_emergency(update: Update, context: BotContext) -> int:
    lang = context.lang
    if update.message is not None:  # take the location keyboard away
        await update.message.reply_text(t(lang, "site_kept"), reply_markup=ReplyKeyboardRemove())
    await ask(update, t(lang, "new_emergency"),
              buttons([[(t(lang, "no"), "ne:0"), (t(lang, "yes"), "ne:1")]]))
    return EMERGENCY


async def new_emergency(update: Update, context: BotContext) -> int:
    """Keep the emergency flag; show the summary to confirm."""
    context.user_data[DRAFT]["emergency"] = callback_arg(update) == "1"
    return await _summary(update, context)


async def _summary(update: Update, context: BotContext) -> int:
    draft = context.user_data[DRAFT]
    lang = context.lang
    party = draft.get("party")
    party_text = "—" if not party else party["name"] + (
        f"（{party['id_number']}）" if party.get("id_number") else "")
    site = draft.get("site") or {}
    where = site.get("address") or ""
    if "lat" in site:
        where = f"{site['lat']:.6f}, {site['lon']:.6f} {where}".strip()
    summary = t(lang, "new_summary", kind=kind_name(draft["kind"], lang),
                route=route_name(draft["initiation"], lang), title=draft["title"],
                party=party_text, site=where or "—",
                emergency=t(lang, "yes" if draft["emergency"] else "no"))
    rows = [[(t(lang, "confirm"), "nc:ok"), (t(lang, "cancel"), "nc:no")]]
    if _files_form(draft):
        rows.insert(0, [(t(lang, "confirm_and_file"), "nc:form")])
    if not draft["emergency"]:
        rows.append([(t(lang, "make_emergency"), "ne:1")])
    await ask(update, summary, buttons(rows))
    return CONFIRM


def _files_form(draft: dict) -> bool:
    """Whether the case will need a 立案审批表 (A10.1) that can be prefilled from it."""
    rtype = record_type("filing_form")
    return not draft.get("emergency") and draft.get("initiation") in rtype.routes and \
        draft.get("kind") == "penalty"


@guarded
async def new_confirm(update: Update, context: BotContext) -> int:
    """Open the case through core.cases.lifecycle.open_case and make it the active case."""
    draft = context.user_data[DRAFT]
    lang = context.lang

    def open_(uow, actor):
        case = case_service.open_case(uow, actor, OpenCase.parse(draft)).case
        return case.id, case.number, next_steps_of(uow, case, lang)

    case_id, number, nxt = await as_officer(context, open_)
    context.user_data.pop(DRAFT, None)
    set_active_case(context, case_id, number)
    titles = [draft["title"], *[x for x in (context.user_data.get(LAST) or {}).get("titles", [])
                                if x != draft["title"]]][:RECENT_TITLES]
    context.user_data[LAST] = {"kind": draft["kind"], "initiation": draft["initiation"],
                               "titles": titles}
    text = t(lang, "new_opened", number=number) + "\n" + nxt
    if callback_arg(update) == "form":
        # The 立案审批表 prefilled from the case: one more tap records it (A10.1).
        await ask(update, text)
        await forms.offer_filing_form(update, context, case_id)
        return END
    await ask(update, text, capture_markup(context, number))
    return END


async def _not_text(update: Update, context: BotContext) -> None:
    """A button was expected."""
    if not await ask_again(update, context):  # the buttons may be gone (a restart)
        await reply(update, t(context.lang, "use_buttons"))


def new_case_dialog(persistent: bool):
    """The /new dialog."""
    text = filters.TEXT & ~filters.COMMAND
    return dialog("new_case", [CommandHandler("new", new_start)], {
        KIND: [CallbackQueryHandler(new_kind, pattern=r"^nk:"), MessageHandler(text, _not_text)],
        ROUTE: [CallbackQueryHandler(new_route, pattern=r"^nr:"),
                MessageHandler(text, _not_text)],
        TITLE: [MessageHandler(text, new_title),
                CallbackQueryHandler(new_title_button, pattern=r"^nt:")],
        PARTY_KIND: [CallbackQueryHandler(new_party_kind,
                                          pattern=r"^np:(person|organisation|none)$"),
                     MessageHandler(text, _not_text)],
        PARTY_NAME: [MessageHandler(text, new_party_name)],
        PARTY_ID: [MessageHandler(text, new_party_id),
                   CallbackQueryHandler(new_party_id, pattern=r"^np:skip$")],
        SITE: [MessageHandler(filters.LOCATION, new_site_location),
               CallbackQueryHandler(new_site_shared, pattern=r"^ns:last$"),
               MessageHandler(text, new_site_text)],
        ADDRESS: [MessageHandler(text, new_address),
                  CallbackQueryHandler(new_address, pattern=r"^na:skip$")],
        EMERGENCY: [CallbackQueryHandler(new_emergency, pattern=r"^ne:[01]$"),
                    MessageHandler(text, _not_text)],
        CONFIRM: [CallbackQueryHandler(new_confirm, pattern=r"^nc:(ok|form)$"),
                  CallbackQueryHandler(new_emergency, pattern=r"^ne:[01]$"),
                  CallbackQueryHandler(cancel_button, pattern=r"^nc:no$")],
    }, persistent=persistent)


@guarded
async def cases_list(update: Update, context: BotContext) -> None:
    """/cases: the officer's department's latest cases as buttons."""
    lang = context.lang

    def load(uow, actor):
        return [(v.case.id, case_line(v.case, lang))
                for v in case_service.list_cases(uow, actor, limit=10)]

    found = await as_officer(context, load)
    if not found:
        await reply(update, t(lang, "cases_none"))
        return
    current = context.user_data.get("case_number") or "—"
    await reply(update, t(lang, "cases_pick", current=current),
                buttons([[(label, f"cs:{cid}")] for cid, label in found]))


@guarded
async def case_pick(update: Update, context: BotContext) -> None:
    """A case button: make it the active case."""
    await _activate(update, context, callback_arg(update))


@guarded
async def case_command(update: Update, context: BotContext) -> None:
    """/case N: choose the active case by its number or serial."""
    lang = context.lang
    if not context.args:
        await reply(update, t(lang, "case_usage"))
        return
    arg = context.args[0].strip()

    def find(uow, actor):
        view = case_service.find_case(uow, actor, arg, channel="telegram")
        return view.case.id if view else None

    case_id = await as_officer(context, find)
    if case_id is None:
        await reply(update, t(lang, "case_not_found", arg=arg))
        return
    await _activate(update, context, case_id)


async def _activate(update: Update, context: BotContext, case_id: str) -> None:
    lang = context.lang

    def load(uow, actor):
        case = case_service.get_case(uow, actor, case_id, channel="telegram")
        return case.number, case_summary(case, lang) + "\n" + next_steps_of(uow, case, lang)

    number, text = await as_officer(context, load)
    set_active_case(context, case_id, number)
    await reply(update, text, capture_markup(context, number))


@guarded
async def checklist_command(update: Update, context: BotContext) -> None:
    """/checklist: what the active case still lacks, with article IDs."""
    case_id = active_case(context)
    if case_id is None:
        await reply(update, t(context.lang, "no_case"))
        return
    lang = context.lang
    text = await as_officer(context, lambda uow, actor: checklist_text(uow, actor, case_id, lang))
    await reply(update, text)


@guarded
async def stage_command(update: Update, context: BotContext) -> None:
    """/stage: offer the stages the active case may move to."""
    case_id = active_case(context)
    lang = context.lang
    if case_id is None:
        await reply(update, t(lang, "no_case"))
        return

    def load(uow, actor):
        case = case_service.get_case(uow, actor, case_id, channel="telegram")
        return case.number, case.stage, case_service.next_stages(case)

    number, stage, nxt = await as_officer(context, load)
    if not nxt:
        await reply(update, t(lang, "stage_none"))
        return
    await reply(update, t(lang, "stage_pick", number=number, stage=stage_name(stage, lang)),
                buttons([[(stage_name(s, lang), f"st:{s}") for s in nxt]]))


@guarded
async def stage_button(update: Update, context: BotContext) -> None:
    """Move the active case to its next stage; a refusal names what is missing."""
    case_id = active_case(context)
    lang = context.lang
    to = callback_arg(update)
    if case_id is None:
        await reply(update, t(lang, "no_case"))
        return

    def move(uow, actor):
        case = case_service.transition(uow, actor, case_id, Transition.parse({"to": to})).case
        return case.number, next_steps_of(uow, case, lang)

    number, nxt = await as_officer(context, move)
    await ask(update, t(lang, "stage_moved", number=number, stage=stage_name(to, lang)) + "\n"
              + nxt)


def handlers(persistent: bool) -> list:
    """The case commands and the /new dialog."""
    return [
        new_case_dialog(persistent),
        CommandHandler("cases", cases_list),
        CommandHandler("case", case_command),
        CallbackQueryHandler(case_pick, pattern=r"^cs:[0-9a-f]{32}$"),
        CommandHandler("checklist", checklist_command),
        CommandHandler("stage", stage_command),
        CallbackQueryHandler(stage_button, pattern=r"^st:[a-z]+$"),
    ]
