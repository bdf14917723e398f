"""The transformer of a sentence-transformers folder exported once to ONNX (last hidden state)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def export_onnx(folder: Path, tokenizer, target: Path) -> None:
    """Write ``target`` (via a temporary file and a rename) with torch.onnx.export (TorchScript exporter)."""
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(folder), attn_implementation="eager").eval()

    class _Hidden(torch.nn.Module):
        def __init__(self, inner) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            kwargs = {"input_ids": input_ids, "attention_mask": attention_mask}
            if token_type_ids is not None:
                kwargs["token_type_ids"] = token_type_ids
            return self.inner(**kwargs).last_hidden_state

    sample = tokenizer(["một hai ba", "xin chào các bạn"], padding=True, return_tensors="pt")
    names = [n for n in INPUTS if n in sample]
    tmp = target.with_suffix(".tmp.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(_Hidden(model), tuple(sample[n] for n in names), str(tmp), input_names=names,
                          output_names=["last_hidden_state"],
                          dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
                          opset_version=17, dynamo=False)
    os.replace(tmp, target)
