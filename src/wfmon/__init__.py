"""wfmon: a workflow monitoring bot."""

__version__ = "0.1.0"
