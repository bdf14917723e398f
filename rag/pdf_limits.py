"""Resource limits for reading PDFs: a hostile file must not exhaust memory.

pypdf decompresses streams in memory; its default caps (75 MB per stream) still let a
small deflate bomb take several hundred MB. Reports need far less.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

MAX_STREAM_BYTES = 16_000_000


@contextmanager
def pdf_limits(max_stream_bytes: int = MAX_STREAM_BYTES) -> Iterator[None]:
    """Within the block, pypdf refuses to inflate any stream beyond ``max_stream_bytes``."""
    import pypdf

    with pypdf.apply_configuration(
            maximum_declared_stream_length=max_stream_bytes,
            zlib_maximum_output_length=max_stream_bytes,
            lzw_maximum_output_length=max_stream_bytes,
            run_length_maximum_output_length=max_stream_bytes,
            brotli_maximum_output_length=max_stream_bytes,
            array_based_stream_maximum_output_length=max_stream_bytes):
        yield
