"""The shipped language-model catalog: architecture and precision of the LLMs a site can serve.

The catalog lives in ``data/language_models.csv`` (one row per model *and* precision, each with
its source: paper, model card, ``config.json``), so that adding a model is a data change. The
serving model (``workloads/serving.py``) needs only what sets memory and arithmetic: parameter
count, layer count, hidden size, key/value heads and head size (grouped-query attention), the
bytes per stored weight and per cached key/value element, and the precision of the matrix
multiplications.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from importlib import resources
from typing import Literal

from orbitgrid.errors import OrbitgridError

ComputePrecision = Literal["bf16", "fp16", "fp8", "int8"]
_EIGHT_BIT: frozenset[str] = frozenset({"fp8", "int8"})
_COMPUTE_PRECISIONS: frozenset[str] = frozenset({"bf16", "fp16", "fp8", "int8"})


@dataclass(frozen=True)
class LanguageModel:
    """A decoder-only transformer served at one precision.

    ``parameters`` is the total parameter count; ``layers``, ``hidden_size``,
    ``attention_heads``, ``kv_heads`` and ``head_dim`` are the ``config.json`` figures;
    ``bytes_per_weight`` and ``bytes_per_kv_value`` are storage per parameter and per cached key
    or value element (bf16 = 2, fp8 = 1, llama.cpp Q4_0 = 0.5625); ``compute_precision`` is the
    precision of the matrix multiplications; ``max_context_tokens`` the trained context length.
    """

    key: str
    name: str
    parameters: float
    layers: int
    hidden_size: int
    attention_heads: int
    kv_heads: int
    head_dim: int
    weight_precision: str
    bytes_per_weight: float
    kv_precision: str
    bytes_per_kv_value: float
    compute_precision: ComputePrecision
    max_context_tokens: int
    source: str

    @property
    def weight_bytes(self) -> float:
        """Bytes of the stored weights: parameters × bytes per weight."""
        return self.parameters * self.bytes_per_weight

    @property
    def kv_bytes_per_token(self) -> float:
        """KV-cache bytes per token of context: 2 (K, V) × layers × KV heads × head size × bytes."""
        return 2.0 * self.layers * self.kv_heads * self.head_dim * self.bytes_per_kv_value

    @property
    def uses_8bit_compute(self) -> bool:
        """True when the matrix multiplications run at 8 bits (FP8 or INT8)."""
        return self.compute_precision in _EIGHT_BIT


@functools.cache
def model_catalog() -> dict[str, LanguageModel]:
    """Return the shipped language-model catalog keyed by model key, in file order."""
    text = resources.files("orbitgrid.data").joinpath("language_models.csv").read_text()
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    catalog: dict[str, LanguageModel] = {}
    for row in rows:
        precision = row["compute_precision"]
        if precision not in _COMPUTE_PRECISIONS:
            raise OrbitgridError(
                f"language_models.csv: model {row['key']!r} has compute_precision "
                f"{precision!r}; allowed: {', '.join(sorted(_COMPUTE_PRECISIONS))}"
            )
        catalog[row["key"]] = LanguageModel(
            key=row["key"],
            name=row["name"],
            parameters=float(row["parameters"]),
            layers=int(row["layers"]),
            hidden_size=int(row["hidden_size"]),
            attention_heads=int(row["attention_heads"]),
            kv_heads=int(row["kv_heads"]),
            head_dim=int(row["head_dim"]),
            weight_precision=row["weight_precision"],
            bytes_per_weight=float(row["bytes_per_weight"]),
            kv_precision=row["kv_precision"],
            bytes_per_kv_value=float(row["bytes_per_kv_value"]),
            compute_precision=precision,  # type: ignore[arg-type]
            max_context_tokens=int(row["max_context_tokens"]),
            source=row["source"],
        )
    return catalog


def language_model(key: str) -> LanguageModel:
    """Return one catalog model by key; an unknown key raises ``OrbitgridError`` listing them."""
    catalog = model_catalog()
    if key not in catalog:
        raise OrbitgridError(
            f"unknown language model {key!r}; the catalog has {', '.join(catalog)}"
        )
    return catalog[key]
