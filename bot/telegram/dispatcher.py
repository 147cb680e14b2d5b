"""Bot and Dispatcher, built from the application (the Telegram half of the composition root)."""

from __future__ import annotations

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.app import App
from bot.telegram.handlers import (
    about,
    appointments,
    care,
    fallback,
    flows,
    intake_report,
    logbook,
    onboarding,
    plans,
    referrals,
    student_voice,
    surveys,
    web_login,
)
from bot.telegram.middlewares import (
    IdempotencyMiddleware,
    IdentityMiddleware,
    PrivateChatOnlyMiddleware,
    ThrottlingMiddleware,
)


def create_bot(app: App) -> Bot:
    """A Bot for the configured token, talking to ``TELEGRAM_API_BASE`` when set."""
    token = app.settings.telegram_bot_token
    if token is None or not token.get_secret_value():
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    base = app.settings.telegram_api_base
    session = AiohttpSession(api=TelegramAPIServer.from_base(base)) if base else AiohttpSession()
    return Bot(token=token.get_secret_value(), session=session)


def routers() -> list[Router]:
    """Fresh routers in the order they are tried: a flow's question buttons (the most frequent
    update, matched by their own prefix only), onboarding, ..., the catch-all last."""
    return [
        flows.build_button_router(),
        onboarding.build_router(),
        surveys.build_router(),
        care.build_router(),
        referrals.build_router(),
        appointments.build_router(),
        logbook.build_router(),
        about.build_router(),
        intake_report.build_router(),
        plans.build_router(),
        student_voice.build_router(),
        web_login.build_router(),
        flows.build_router(),
        fallback.build_router(),
    ]


def create_dispatcher(app: App) -> Dispatcher:
    """The dispatcher with middlewares and routers; ``app`` reaches handlers as keyword data."""
    # No aiogram FSM: a conversation's state is stored by the runtime (`services.conversations`);
    # its middleware would only cost every update a storage lookup.
    dispatcher = Dispatcher(app=app, disable_fsm=True)
    dispatcher.update.outer_middleware(IdempotencyMiddleware(app))
    # Before the person is identified: outside a private chat nothing personal is done.
    dispatcher.update.outer_middleware(PrivateChatOnlyMiddleware(app))
    dispatcher.update.outer_middleware(IdentityMiddleware(app))
    throttle = ThrottlingMiddleware(
        limit=app.settings.flood_limit, window=app.settings.flood_window_seconds
    )
    dispatcher.message.middleware(throttle)
    dispatcher.callback_query.middleware(throttle)
    dispatcher.include_routers(*routers())
    return dispatcher
