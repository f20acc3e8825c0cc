"""Domain services: the org tree, tickets and their rules. They never import a transport or a handler."""
