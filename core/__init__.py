"""The bottom layer: the words every app shares and small helpers that know no app.

Nothing here imports an app of this project (the import contract in pyproject.toml checks it).
"""
