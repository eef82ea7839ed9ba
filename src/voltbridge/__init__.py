"""voltbridge: a home energy manager that turns a bidirectional EV into the home's battery."""

__version__ = "0.1.0"
