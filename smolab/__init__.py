"""smolab: a local-first ML lab assistant that turns research papers into runnable, tested code."""

__version__ = "0.1.0"
