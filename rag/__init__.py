"""Semantic search and cited answers over an archive of Vietnamese government reports.

Public API::

    from rag import ingest, Searcher
    ingest(["corpus"], "index")                 # build or update the index
    searcher = Searcher.open("index")
    result = searcher.ask("Những huyện nào có sản phẩm OCOP 4 sao?")
    result.answer, result.passages[0].citation
"""

__version__ = "0.1.0"

from .api import Searcher, ingest  # noqa: E402

__all__ = ["Searcher", "ingest", "__version__"]
