"""The ``openvino`` / ``openvino-int8`` backends: the exported ONNX file run by OpenVINO's CPU
plugin; int8: quantised once with NNCF."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .calibration import REPORTS_FILE, calibration_passages
from .deps import require
from .onnx_backend import OnnxSentenceEncoder, onnx_cache_dir
from .tokenizer import strips_accents


class OpenVinoSentenceEncoder(OnnxSentenceEncoder):
    """The exported ONNX file run by OpenVINO's CPU plugin; int8: quantised once with NNCF.

    int8 is post-training *static* quantisation (``nncf.quantize``, transformer preset: SmoothQuant,
    int8 weights and activations of the MatMuls / FullyConnected layers, fast bias correction),
    calibrated on ``CALIBRATION_PASSAGES`` passages of generated reports (``rag.embedding.calibration``:
    120 reports of ``rag.synth``, seed ``CALIBRATION_SEED``, frozen as data) and cached as OpenVINO IR
    next to the exported ONNX file, keyed by the NNCF version and these settings."""

    CALIBRATION_PASSAGES = 300
    CALIBRATION_SEED = 20261122  # the seed the reports file was generated with (part of the cache key)
    CALIBRATION_REPORTS = 120
    CALIBRATION_TOKENS = 200  # about a stored chunk (chunk tokens + document context)

    def __init__(self, folder: Path, quantized: bool = False, threads: int = 0, backend: str = "openvino",
                 passage_prompt: str = "") -> None:
        self.passage_prompt = passage_prompt
        super().__init__(folder, quantized=quantized, threads=threads, backend=backend)

    def _open(self, quantized: bool, threads: int) -> tuple[list[str], int]:
        import threading

        import openvino as ov

        core = ov.Core()
        model_file = self._int8_ir(core) if quantized else self._model_file(False)
        # compiled models are cached too (a blob per model and thread count): a fresh process then
        # skips the ONNX import and the CPU plugin's graph compilation (~0.4 s of a cold start)
        core.set_property({"CACHE_DIR": str(self._cache() / "openvino-compiled")})
        config: dict[str, object] = {"PERFORMANCE_HINT": "LATENCY"}
        if threads > 0:
            config["INFERENCE_NUM_THREADS"] = threads
        self.compiled = core.compile_model(str(model_file), "CPU", config)
        self.request = self.compiled.create_infer_request()
        self._lock = threading.Lock()  # one infer request: batches from several threads take turns
        width = self.compiled.outputs[0].get_partial_shape()[-1]
        return [i.get_any_name() for i in self.compiled.inputs], (width.get_length() if width.is_static else 0)

    def _run(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        with self._lock:
            return self.request.infer(feed)[0]

    def _quantization_settings(self, source: Path) -> dict[str, object]:
        """What the int8 model depends on (its cache key): the source file and the NNCF settings."""
        return {"source": source.name, "model_type": "transformer", "preset": "mixed",
                "subset_size": self.CALIBRATION_PASSAGES, "calibration": REPORTS_FILE.name,
                "seed": self.CALIBRATION_SEED, "reports": self.CALIBRATION_REPORTS,
                "tokens": self.CALIBRATION_TOKENS, "max_seq_length": self.max_seq_length,
                "prompt": self.passage_prompt, "lower_case": self.do_lower_case}

    def _int8_ir(self, core) -> Path:
        """The NNCF-quantised model as OpenVINO IR (``.xml`` + ``.bin``), made once into the cache
        (then NNCF is no longer needed)."""
        import hashlib
        import json

        source = self._model_file(False)
        settings = self._quantization_settings(source)
        key = hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]
        xml = self._cache() / f"openvino-int8-{key}.xml"
        if xml.is_file() and xml.with_suffix(".bin").is_file():
            return xml
        require("nncf", self.backend, f"it quantises the model to int8 once, into {onnx_cache_dir()}")
        import nncf
        import openvino as ov

        model = core.read_model(str(source))
        inputs = [i.get_any_name() for i in model.inputs]
        passages = self.calibration_passages()

        def transform(text: str) -> dict[str, np.ndarray]:
            return self._tokenize([text], inputs)[0]

        quantized = nncf.quantize(model, nncf.Dataset(passages, transform), subset_size=len(passages),
                                  model_type=nncf.ModelType.TRANSFORMER, preset=nncf.QuantizationPreset.MIXED)
        xml.parent.mkdir(parents=True, exist_ok=True)
        tmp = xml.with_name(xml.stem + ".tmp.xml")
        ov.save_model(quantized, str(tmp), compress_to_fp16=False)
        os.replace(tmp.with_suffix(".bin"), xml.with_suffix(".bin"))
        os.replace(tmp, xml)
        settings.update(nncf=nncf.__version__, openvino=ov.__version__, passages=len(passages))
        xml.with_suffix(".json").write_text(json.dumps(settings, indent=1), encoding="utf-8")
        return xml

    def calibration_passages(self) -> list[str]:
        """``CALIBRATION_PASSAGES`` passages of about ``CALIBRATION_TOKENS`` tokens, fed as
        ``embed_passages`` feeds them."""
        return calibration_passages(self.tokenizer, self.CALIBRATION_PASSAGES, self.CALIBRATION_TOKENS,
                                    prompt=self.passage_prompt, fold_accents=strips_accents(self.tokenizer),
                                    lower_case=self.do_lower_case)
