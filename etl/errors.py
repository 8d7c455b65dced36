"""Errors raised while importing; the pipeline records them on the run and re-raises ImportFailed."""


class ImportRefused(ValueError):
    """The source cannot be imported as asked; the message says what is wrong and what is allowed."""
