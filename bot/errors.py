"""A UserError carries the Chinese sentence the user sees; anything else is a crash, logged and apologised for."""


class UserError(Exception):
    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply
