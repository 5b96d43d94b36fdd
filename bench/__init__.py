"""bakeoff: measure equivalent environments, price them, and decide."""

__version__ = "0.1.0"
