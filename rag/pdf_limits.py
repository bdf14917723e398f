"""Resource limits for reading PDFs: a hostile file must not exhaust memory.

pypdf decompresses streams in memory; its default caps (75 MB per stream) still let a
small deflate bomb take several hundred MB. Reports need far less: the shipped reports' pages
have content streams of at most 16 KB (374 operators).

The cap also bounds the one step of text extraction that the per-file deadline
(``rag.budget``) cannot interrupt: pypdf parses a page's whole content stream (~2.5 s per MB)
before the loader sees the first operator. Pages sharing one big stream (an attack: 2,999 pages,
~10 s each) re-parse it page after page; the loader refuses them by page count
(``max_pdf_pages``), text (``max_text_chars``) or deadline (``max_seconds``) between pages.
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
