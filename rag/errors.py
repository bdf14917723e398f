"""Exceptions raised by the library. Each carries a hint that says how to fix it."""

from __future__ import annotations


class RagError(Exception):
    """Base class: a user-facing error with a one-line message and a hint."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message


# Why a file was not indexed, as a code programs decide on (the interface words each in Vietnamese,
# ui.service.SKIP_REASONS_VI); the English ``reason`` beside it is for people reading logs and the CLI.
SKIP_CODES = ("unsupported", "unreadable", "empty", "too_large", "corrupt", "encrypted", "not_text", "no_text",
              "needs_ocr", "hidden", "outside", "missing", "error")


class UnreadableFileError(RagError):
    """A source file that cannot be turned into text; ingest skips it and goes on."""

    def __init__(self, path: object, reason: str, hint: str = "", code: str = "unreadable") -> None:
        super().__init__(f"{path}: {reason}", hint)
        if code not in SKIP_CODES:
            raise ValueError(f"unknown skip code {code!r}; use one of {', '.join(SKIP_CODES)}")
        self.path = str(path)
        self.reason = reason
        self.code = code


class IndexMissingError(RagError):
    """No index at the given directory."""


class IndexMismatchError(RagError):
    """The index was built with another model, chunker or schema than the one asked for."""


class IndexCorruptError(RagError):
    """A file of the index is damaged or missing."""


class ModelUnavailableError(RagError):
    """The embedding model cannot be loaded (not on disk and no network)."""


class ConfigError(RagError):
    """A bad setting in the config file, environment or command line."""


class IndexBusyError(RagError):
    """Another process (or thread) is writing the index: one writer at a time."""


class DiskFullError(RagError):
    """No space left on the disk that holds the index (the previous generation stays live)."""


class StoreUnreachableError(RagError):
    """The Qdrant server named by ``--store`` / ``RAG_STORE`` does not answer (``url``: the one tried)."""

    def __init__(self, message: str, hint: str = "", url: str = "") -> None:
        super().__init__(message, hint)
        self.url = url
