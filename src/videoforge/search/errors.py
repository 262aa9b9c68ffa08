"""Errors of the search side: each names the file or the step and says what to do."""


class SearchError(Exception):
    """Index or query cannot proceed; the message says why and what to run."""


class IndexCorruptError(SearchError):
    """An index file exists but cannot be read back; rebuilding it fixes it."""

    def __init__(self, path: str, problem: str):
        self.path = path
        super().__init__(f"{path}: corrupt search index ({problem}); rebuild it with `videoforge index CATALOG --rebuild`")


class FilterError(SearchError):
    """The `where` SQL condition is not valid on the shots table (a usage error in the CLI)."""
