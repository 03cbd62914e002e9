"""``python -m grader``: the same program as the ``grader`` executable."""

from .cli import console

console()
