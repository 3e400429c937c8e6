"""The content tests' temporary content folders, for loading tips into the database."""

from tests.content.conftest import content_root, write_tips

__all__ = ["content_root", "write_tips"]
