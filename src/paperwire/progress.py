"""How long work reports how far it has got, without knowing who watches: a pipeline
asks its `Progress` for a bar (a description, a total if known, a unit) and calls the
function it gets with each step. The CLI answers with tqdm bars; everything else with
`silent`."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Protocol

Advance = Callable[[int], object]


class Progress(Protocol):
    """A factory of progress bars."""

    def __call__(
        self, desc: str, total: int | None = None, unit: str = " papers"
    ) -> AbstractContextManager[Advance]:
        """A bar for one piece of work; the context yields the function that advances it."""
        ...


@contextmanager
def _nothing(desc: str, total: int | None = None, unit: str = " papers") -> Iterator[Advance]:
    yield lambda _n: None


silent: Progress = _nothing


class _CountingReader(io.RawIOBase):
    """A file whose reads advance a progress bar by bytes."""

    def __init__(self, raw: BinaryIO, advance: Advance) -> None:
        self._raw = raw
        self._advance = advance

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._raw.seekable()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self._advance(len(data))
        return len(data)


@contextmanager
def open_counted(path: Path, progress: Progress) -> Iterator[BinaryIO]:
    """A file opened for reading whose bytes read advance a bar of its size."""
    with (
        path.open("rb") as raw,
        progress(path.name, path.stat().st_size, "B") as advance,
    ):
        yield io.BufferedReader(_CountingReader(raw, advance), buffer_size=1 << 20)
