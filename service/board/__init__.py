"""The board's service layer (shared by the API, the CLI and the console pages)."""
