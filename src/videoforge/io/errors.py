"""The one exception type a bad input raises; the engine turns it into an `errors` row."""


class VideoError(Exception):
    """A video could not be read or analysed. The message names the file and the problem."""

    def __init__(self, path, problem: str, stage: str = "decode"):
        self.path = str(path)
        self.problem = problem
        self.stage = stage
        super().__init__(f"{self.path}: {problem}")
