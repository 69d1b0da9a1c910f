"""The project's one error type for bad input: it always names the file and the fix."""

from __future__ import annotations


class InputError(ValueError):
    """Bad input data or configuration, detected before heavy work starts."""

    def __init__(self, path, problem: str, fix: str | None = None):
        self.path = str(path) if path is not None else None
        self.problem = problem
        self.fix = fix
        where = f"{self.path}: " if self.path else ""
        text = f"{where}{problem}"
        if fix:
            text += f" Fix: {fix}"
        super().__init__(text)
