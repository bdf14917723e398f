"""The optional packages of the ONNX / OpenVINO backends, and how to install them."""

from __future__ import annotations

from ..errors import ModelUnavailableError


def extra(backend: str) -> str:
    """The optional-dependency extra that a non-torch backend needs."""
    return "openvino" if backend.startswith("openvino") else "onnx"


def require(module: str, backend: str, what: str) -> None:
    """Import ``module`` (an optional dependency of the ONNX / OpenVINO backends) or say how to install it."""
    try:
        __import__(module)
    except ImportError as exc:
        raise ModelUnavailableError(
            f"the {backend} embedding backend needs the Python package {module!r} ({what}), which is not installed",
            f"pip install -e '.[{extra(backend)}]' (or use the default backend: --backend torch / RAG_BACKEND=torch)") from exc
