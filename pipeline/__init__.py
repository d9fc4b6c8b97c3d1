"""directives: structured duty records from Vietnamese official letters."""
__version__ = "0.1.0"
