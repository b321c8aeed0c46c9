"""The one error type for a setting outside its valid range."""


class ParameterError(ValueError):
    """A setting outside its valid range; the message says which and why."""
