"""LLM serving from first principles: batch, prefill, decode, capacity and energy of one site.

A *site* is ``accelerator_count`` accelerators of one catalog part that hold one copy of one
language model and pool their memory, bandwidth and arithmetic (tensor parallelism without its
communication cost). Requests have ``prompt_tokens`` in and ``output_tokens`` out. The model:

- **Memory and batch.** The weights take ``W = parameters × bytes_per_weight``. Of the memory
  left, a fraction ``memory_reserve_fraction`` is kept back (activations, workspace) and the rest
  holds the KV cache; a sequence needs ``(prompt + output) × kv_bytes_per_token`` at its longest,
  so ``max_batch = floor((count × memory − W) × (1 − reserve) / ((prompt + output) × kv))``.
  A model whose weights or one sequence do not fit has ``max_batch = 0`` and ``fits = False``.
- **Prefill** is compute-bound: ``2 × parameters × prompt`` FLOPs plus the causal attention
  ``2 × layers × prompt² × hidden``, at ``count × peak × delivered × compute_utilisation``
  (peak is the accelerator's 8-bit rate for FP8/INT8 models, its 16-bit rate otherwise), but
  never faster than reading the weights once (``prefill_time_s``, the time to first token).
- **Decode** is one forward pass per step for a batch of ``b`` sequences, each getting one
  token: it reads ``W + b × context × kv`` bytes at ``count × bandwidth × delivered ×
  bandwidth_efficiency`` and does ``b × (2 × parameters + 4 × layers × hidden × context)`` FLOPs;
  the step takes the longer of the two, plus a fixed ``step_overhead_s`` (kernel launches, host
  synchronisation). ``context`` is the mean over the answer, ``prompt + (output − 1) / 2``.
- **Full load.** With all ``b`` slots busy, every request costs the site the FLOP time of its
  prompt, ``prefill_c``, plus ``output × step / b`` (prefill and decode alternate on the same
  accelerators; batched prompts share the weight read), so the site serves about
  ``b / (b × prefill_c + output × step)`` requests per second. Seen as ``c = b`` servers, each
  slot serves one request in ``service_time = prefill + output × tpot`` with ``tpot = step +
  (b − 1) × prefill_c / output`` (the decode step plus the interleaved prompts of the others),
  i.e. at rate ``μ = 1 / service_time``: the ``c`` and ``μ`` of an M/M/c queue.

All inputs after the model and part may be arrays (over steps, sites, ...) and broadcast
together; nothing loops in Python. Delivered fraction 0 gives infinite times and zero rates
without division warnings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from orbitgrid.errors import OrbitgridError
from orbitgrid.spacecraft.accelerators import Accelerator, accelerator_catalog
from orbitgrid.workloads.models import LanguageModel, language_model


@dataclass(frozen=True)
class ServingAssumptions:
    """Efficiencies of a serving software stack, each a dimensionless fraction except the overhead.

    ``compute_utilisation`` is the model FLOPs utilisation (achieved / peak dense FLOP/s) of
    prefill and of compute-bound decode; ``bandwidth_efficiency`` the achieved fraction of peak
    memory bandwidth in decode; ``memory_reserve_fraction`` the share of the memory left after the
    weights that is not given to the KV cache; ``step_overhead_s`` a fixed time per forward pass
    (kernel launches, sampling, host synchronisation). See ``DATACENTER_STACK`` and
    ``LLAMA_CPP_EDGE`` for the sourced values and ``docs/serving.md`` for the validation.
    """

    compute_utilisation: float = 0.5
    bandwidth_efficiency: float = 0.7
    memory_reserve_fraction: float = 0.10
    step_overhead_s: float = 0.0

    def __post_init__(self) -> None:
        for name in ("compute_utilisation", "bandwidth_efficiency"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise OrbitgridError(f"serving: {name} is {value!r}; allowed: 0 < value <= 1")
        if not 0.0 <= self.memory_reserve_fraction < 1.0:
            raise OrbitgridError(
                f"serving: memory_reserve_fraction is {self.memory_reserve_fraction!r}; "
                "allowed: 0 <= value < 1"
            )
        if not self.step_overhead_s >= 0.0:
            raise OrbitgridError(
                f"serving: step_overhead_s is {self.step_overhead_s!r}; allowed: >= 0 s"
            )


# An optimised datacenter stack (TensorRT-LLM, vLLM: in-flight batching, CUDA graphs).
# compute_utilisation 0.5: below the 76 % MFU of large-batch prefill on TPU v4 (Pope et al.,
# "Efficiently Scaling Transformer Inference", MLSys 2023, arXiv 2211.05102), the best case
# published. bandwidth_efficiency 0.7: below the ~92 % of peak HBM bandwidth a stream test reaches
# (Microsoft Azure, ND GB200 v6: 7.35 of 8 TB/s, 2025), decode kernels also read small tensors and
# synchronise. memory_reserve_fraction 0.10: TensorRT-LLM gives 90 % of the free memory to the KV
# cache by default (kv_cache_free_gpu_mem_fraction 0.9, TensorRT-LLM performance overview). Both
# efficiencies are checked against the TensorRT-LLM performance overview (H100, Llama 3.1 8B FP8)
# and MLPerf Inference v4.1 (8 x H100, Llama 2 70B) in tests/workloads/test_serving.py.
DATACENTER_STACK = ServingAssumptions()

# llama.cpp at batch 1 on a Jetson AGX Orin class device. Calibrated on two NVIDIA-published
# llama.cpp decode rates on the Orin GPU (nvidia-holoscan/holohub issue 170, 2024: Llama 2 7B and
# 70B 4-bit, 22.5 and 3.0 tokens/s): the two unknowns of step = W / (bandwidth x eff) + overhead
# solve to eff = 0.59 and overhead = 13 ms. The third figure of the same table (13B, 13.3 tokens/s)
# is the validation: the model gives 13.5 (+1.5 %). Prefill efficiency is not validated here.
LLAMA_CPP_EDGE = ServingAssumptions(bandwidth_efficiency=0.59, step_overhead_s=0.013)


@dataclass(frozen=True)
class ServingCapacity:
    """What one site can serve, per element of the broadcast inputs (all NumPy arrays).

    ``fits``: the model and at least one sequence fit in memory. ``max_batch``: sequences the KV
    cache holds; ``batch``: the operating batch, which is also ``slots`` (the ``c`` of an M/M/c
    queue). Times in s: ``prefill_time_s`` (time to first token, the site working on one prompt),
    ``decode_step_time_s`` (one forward pass at the operating batch), ``time_per_output_token_s``
    (at full load, other requests' prefills included), ``service_time_s`` (per request per slot
    at full load), ``unloaded_latency_s`` (a request alone on the site). Rates:
    ``slot_service_rate_per_s`` (μ), ``request_rate_per_s`` (c × μ), ``output_tokens_per_s``.
    ``power_w`` is the accelerators' power, ``energy_per_output_token_j`` and
    ``energy_per_request_j`` the energy at full load (the prefill is charged to the request).
    """

    fits: np.ndarray
    max_batch: np.ndarray
    batch: np.ndarray
    prefill_time_s: np.ndarray
    decode_step_time_s: np.ndarray
    time_per_output_token_s: np.ndarray
    service_time_s: np.ndarray
    unloaded_latency_s: np.ndarray
    slot_service_rate_per_s: np.ndarray
    request_rate_per_s: np.ndarray
    output_tokens_per_s: np.ndarray
    power_w: np.ndarray
    energy_per_output_token_j: np.ndarray
    energy_per_request_j: np.ndarray

    @property
    def slots(self) -> np.ndarray:
        """Servers of the M/M/c queue: the batch slots (``batch``)."""
        return self.batch


def _resolve_model(model: LanguageModel | str) -> LanguageModel:
    return language_model(model) if isinstance(model, str) else model


def _resolve_accelerator(accelerator: Accelerator | str) -> Accelerator:
    if not isinstance(accelerator, str):
        return accelerator
    catalog = accelerator_catalog()
    if accelerator not in catalog:
        raise OrbitgridError(
            f"serving: unknown accelerator {accelerator!r}; the catalog has {', '.join(catalog)}"
        )
    return catalog[accelerator]


def _check(condition: np.ndarray, message: str) -> None:
    if not bool(np.all(condition)):
        raise OrbitgridError(message)


def llm_serving_capacity(
    model: LanguageModel | str,
    accelerator: Accelerator | str,
    accelerator_count: ArrayLike,
    prompt_tokens: ArrayLike,
    output_tokens: ArrayLike,
    delivered_fraction: ArrayLike = 1.0,
    *,
    batch: ArrayLike | None = None,
    assumptions: ServingAssumptions = DATACENTER_STACK,
) -> ServingCapacity:
    """Batch, prefill and decode times, request capacity and energy of a site serving one LLM.

    Roofline model (see the module docstring and ``docs/serving.md``): the KV cache left after
    the weights sets the batch, ``floor((count × memory − W) × (1 − reserve) / ((prompt + output)
    × kv_bytes_per_token))``; prefill is compute-bound, ``(2 P n + 2 L n² d)`` FLOPs at
    ``count × peak × delivered × compute_utilisation``; a decode step is the longer of reading
    ``W + b × context × kv`` bytes at ``count × bandwidth × delivered × bandwidth_efficiency`` and
    ``b (2 P + 4 L d context)`` FLOPs, plus ``step_overhead_s``; at full load each of the
    ``c = batch`` slots serves one request per ``service_time_s = prefill + output × tpot`` (rate
    μ), so the site serves ``c × μ`` requests/s. Power is ``tdp_w × count × delivered`` (W),
    energy per output token is power over output tokens/s (J). Units: tokens, s, W, J; memory
    and bandwidth from the accelerator catalog (NVIDIA, Google datasheets), architecture from the
    model catalog (model cards, ``config.json``); efficiencies from ``assumptions`` (default
    ``DATACENTER_STACK``, validated against the TensorRT-LLM performance overview and MLPerf
    Inference v4.1; ``LLAMA_CPP_EDGE`` against llama.cpp on Jetson AGX Orin). ``batch`` is the
    operating batch (default and upper limit: the memory limit). Delivered fraction 0 (or NaN)
    gives zero rates and infinite times; a model that does not fit gives zero rates, infinite
    times and NaN energy per token.
    """
    lm = _resolve_model(model)
    part = _resolve_accelerator(accelerator)
    a = assumptions

    count, prompt, output, delivered, wanted = np.broadcast_arrays(
        np.asarray(accelerator_count, dtype=float),
        np.asarray(prompt_tokens, dtype=float),
        np.asarray(output_tokens, dtype=float),
        np.asarray(delivered_fraction, dtype=float),
        np.asarray(np.inf if batch is None else batch, dtype=float),
    )
    _check(count >= 0, f"serving: accelerator_count must be >= 0, got {accelerator_count!r}")
    _check(prompt >= 1, f"serving: prompt_tokens must be >= 1, got {prompt_tokens!r}")
    _check(output >= 1, f"serving: output_tokens must be >= 1, got {output_tokens!r}")
    # NaN means nothing is delivered (a failed or decayed satellite), not an error.
    delivered = np.nan_to_num(delivered, nan=0.0)
    _check(
        (delivered >= 0) & (delivered <= 1),
        f"serving: delivered_fraction must be in [0, 1], got {delivered_fraction!r}",
    )

    weight_b = lm.weight_bytes
    kv_b = lm.kv_bytes_per_token
    context_max = prompt + output
    kv_budget_b = (count * part.memory_bytes - weight_b) * (1.0 - a.memory_reserve_fraction)
    max_batch = np.floor(np.maximum(kv_budget_b, 0.0) / (context_max * kv_b))
    max_batch = np.where(context_max <= lm.max_context_tokens, max_batch, 0.0)
    _check(wanted >= 0, f"serving: batch must be >= 0, got {batch!r}")
    operating = np.minimum(np.floor(wanted), max_batch)
    fits = max_batch >= 1
    serving = operating >= 1
    b = np.where(serving, operating, 1.0)

    # Everything below is at full delivery on a site with at least one accelerator; the
    # delivered fraction divides the times at the end.
    n_acc = np.where(count > 0, count, 1.0)
    peak_tflops = part.dense_tflops_8bit if lm.uses_8bit_compute else part.dense_tflops
    flop_rate = n_acc * peak_tflops * 1e12 * a.compute_utilisation
    byte_rate = n_acc * part.memory_bandwidth_b_s * a.bandwidth_efficiency
    params, layers, hidden = lm.parameters, lm.layers, lm.hidden_size

    prefill_flops = 2.0 * params * prompt + 2.0 * layers * prompt**2 * hidden
    # A prompt alone cannot finish faster than one read of the weights; under load, prompts are
    # batched with other work and share that read, so the site spends only their FLOPs on them.
    prefill_compute_1 = prefill_flops / flop_rate
    prefill_1 = (
        np.maximum(prefill_compute_1, (weight_b + prompt * kv_b) / byte_rate) + a.step_overhead_s
    )
    context = prompt + (output - 1.0) / 2.0
    flops_per_sequence = 2.0 * params + 4.0 * layers * hidden * context

    def step_time(batch_size: np.ndarray) -> np.ndarray:
        read = (weight_b + batch_size * context * kv_b) / byte_rate
        compute = batch_size * flops_per_sequence / flop_rate
        return np.maximum(read, compute) + a.step_overhead_s

    step_1 = step_time(b)
    tpot_1 = step_1 + (b - 1.0) * prefill_compute_1 / output
    service_1 = prefill_1 + output * tpot_1
    unloaded_1 = prefill_1 + output * step_time(np.ones_like(b))

    active = serving & (delivered > 0)
    with np.errstate(over="ignore"):  # a subnormal delivered fraction slows to inf: correct
        slowdown = np.divide(
            1.0, delivered, out=np.full_like(delivered, np.inf), where=delivered > 0
        )

    def slowed(time_1: np.ndarray, where: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return np.where(where, time_1 * slowdown, np.inf)

    served_latency = fits & (delivered > 0)
    service_time_s = slowed(service_1, active)
    rate_mu = np.where(active, delivered / service_1, 0.0)
    request_rate = b * rate_mu
    power_w = part.tdp_w * count * delivered
    energy_token_j = np.where(serving, part.tdp_w * count * service_1 / (b * output), np.nan)

    return ServingCapacity(
        fits=fits,
        max_batch=max_batch.astype(np.int64),
        batch=np.where(serving, operating, 0.0).astype(np.int64),
        prefill_time_s=slowed(prefill_1, served_latency),
        decode_step_time_s=slowed(step_1, active),
        time_per_output_token_s=slowed(tpot_1, active),
        service_time_s=service_time_s,
        unloaded_latency_s=slowed(unloaded_1, served_latency),
        slot_service_rate_per_s=rate_mu,
        request_rate_per_s=request_rate,
        output_tokens_per_s=request_rate * output,
        power_w=power_w,
        energy_per_output_token_j=energy_token_j,
        energy_per_request_j=energy_token_j * output,
    )
