"""The version of alignkit, written once (read by pyproject.toml, the package and the CLI)."""

__version__ = "0.1.0.dev0"
