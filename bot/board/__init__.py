"""The command centre's web board (SPEC §6.4): pages and a JSON API over the bot's database."""
