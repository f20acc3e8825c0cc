"""gridbot: the application — wiring, config, transports, storage and domain services."""
