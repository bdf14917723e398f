"""Semantic search and cited answers over an archive of Vietnamese government reports.

Public API::

    from rag import ingest, Searcher
    ingest(["corpus"], "index")                 # build or update the index
    searcher = Searcher.open("index")
    result = searcher.ask("Những huyện nào có sản phẩm OCOP 4 sao?")
    result.answer, result.passages[0].citation
    result.rows                                 # a list question: one AnswerRow per unit
    searcher.ask("…", filters=Filters(province="Quảng Ninh", year=2023))

What callers pass and get back: ``Filters``; ``Answer`` (``passages``: ``Passage``; ``rows``:
``AnswerRow``); ``Searcher.parse(question)`` gives the ``ParsedQuestion`` the answer is built on.
"""

__version__ = "0.1.0"

from .answer import Answer, AnswerRow, Passage  # noqa: E402
from .api import Searcher, ingest  # noqa: E402
from .question import ParsedQuestion  # noqa: E402
from .retrieval import Filters  # noqa: E402

__all__ = ["Answer", "AnswerRow", "Filters", "ParsedQuestion", "Passage", "Searcher", "ingest", "__version__"]
