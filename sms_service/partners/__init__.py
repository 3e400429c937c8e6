"""Partners: the community organisations the program is delivered with, their keywords."""
