"""Transport adapters behind the seam of bot.transport: replay (virtual clock), console (demo)."""
