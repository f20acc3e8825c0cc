"""Feature routers, included in one place. Order matters only for natural-text handlers."""
from bot.dispatch import Dispatcher
from handlers import help, notices, reminders, reports, tickets


def build_dispatcher() -> Dispatcher:
    dispatcher = Dispatcher()
    dispatcher.include_routers(help.router, tickets.router, reminders.router, notices.router, reports.router)
    return dispatcher
