"""The one exception type users see for bad input: a single sentence saying what is wrong and what to do."""


class GANLightningError(ValueError):
    """Bad configuration or data; the message says what to change. The CLI prints it without a traceback."""
