"""Feature routers, included in one place. Order matters only for natural-text handlers."""
from bot.dispatch import Dispatcher
from handlers import board, bindings, evidence, help, notices, reminders, reports, sanshi, stats, tickets


def build_dispatcher() -> Dispatcher:
    dispatcher = Dispatcher()
    dispatcher.include_routers(help.router, tickets.router, reminders.router, notices.router, stats.router,
                                bindings.router, board.router, evidence.router, sanshi.router, reports.router)
    return dispatcher
