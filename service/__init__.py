"""IT Hub Hoogeveen credential and governance service."""
