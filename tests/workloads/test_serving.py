"""The LLM serving model: validation against published throughput, catalogs, and invariants."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orbitgrid.errors import OrbitgridError
from orbitgrid.spacecraft.accelerators import accelerator_catalog
from orbitgrid.workloads.models import language_model, model_catalog
from orbitgrid.workloads.serving import (
    DATACENTER_STACK,
    LLAMA_CPP_EDGE,
    ServingAssumptions,
    llm_serving_capacity,
)

# --------------------------------------------------------------------------------------------
# Validation: datacenter
# --------------------------------------------------------------------------------------------

# NVIDIA TensorRT-LLM, docs/source/performance/perf-overview.md ("Throughput Measurements",
# commit 00f37686aa854010d68bcbd0f4ab000221541ca6, TensorRT-LLM 1.0): total output tokens/s of
# trtllm-bench with requests fed at an infinite rate, all requests of the same (ISL, OSL).
TRTLLM_LLAMA31_8B_H100_TP1_FP8 = {
    (128, 128): 28_312,
    (128, 2048): 22_714,
    (128, 4096): 14_325,
    (500, 2000): 17_660,
    (1000, 1000): 15_220,
    (1000, 2000): 13_899,
    (2048, 128): 3_450,
    (2048, 2048): 9_305,
    (5000, 500): 3_459,
    (20000, 2000): 1_351,
}
TRTLLM_LLAMA33_70B_H100_TP2_FP8 = {
    (128, 128): 6_378,
    (128, 2048): 6_651,
    (128, 4096): 4_199,
    (500, 2000): 5_222,
    (1000, 1000): 4_205,
    (1000, 2000): 4_146,
    (2048, 128): 762,
    (2048, 2048): 3_082,
    (5000, 500): 898,
    (20000, 2000): 437,
}


@pytest.mark.parametrize(("lengths", "published"), TRTLLM_LLAMA31_8B_H100_TP1_FP8.items())
def test_tensorrt_llm_llama31_8b_on_one_h100(lengths: tuple[int, int], published: int) -> None:
    """Llama 3.1 8B FP8 on one H100 SXM, TensorRT-LLM 1.0, ten (ISL, OSL) shapes: within ±20 %.

    Source: NVIDIA TensorRT-LLM performance overview (docs/source/performance/perf-overview.md,
    Llama 3.1 8B table, H100 TP1 FP8, nvidia/Llama-3.1-8B-Instruct-FP8). The shapes span
    prefill-bound (2048/128, 5000/500), decode-compute-bound (128/128) and KV-bandwidth-bound
    (128/4096, 20000/2000) regimes, so one tolerance checks all three terms of the model with the
    default efficiencies. ±20 %: vendor tables move by 10-20 % between software releases on the
    same hardware (MLPerf v4.0 → v4.1 below: +12 %); the worst case here is -16 % (20000/2000).
    """
    prompt, output = lengths
    result = llm_serving_capacity("llama-3.1-8b-fp8", "h100-sxm", 1, prompt, output)
    assert bool(result.fits)
    assert float(result.output_tokens_per_s) == pytest.approx(published, rel=0.20)


def test_tensorrt_llm_llama33_70b_on_two_h100_is_overestimated_by_at_most_40_percent() -> None:
    """Llama 3.3 70B FP8 on two H100 SXM (tensor parallel 2): the model is at most 40 % high.

    Source: NVIDIA TensorRT-LLM performance overview (as above), Llama 3.3 70B table, H100 TP2
    FP8 (Llama 3.3 70B has the Llama 3.1 70B architecture). The model leaves out the all-reduce
    between the two GPUs, so it runs high, most on decode-heavy shapes (128/2048: +35 %); the
    test pins that bias (−10 % to +40 %) so that a change to it is seen.
    """
    prompt = np.array([k[0] for k in TRTLLM_LLAMA33_70B_H100_TP2_FP8])
    output = np.array([k[1] for k in TRTLLM_LLAMA33_70B_H100_TP2_FP8])
    published = np.array(list(TRTLLM_LLAMA33_70B_H100_TP2_FP8.values()), dtype=float)
    result = llm_serving_capacity("llama-3.1-70b-fp8", "h100-sxm", 2, prompt, output)
    error = result.output_tokens_per_s / published - 1.0
    assert np.all(error > -0.10), error
    assert np.all(error < 0.40), error


# MLPerf Inference v4.1, closed division, datacenter, NVIDIA "NVIDIA DGX H100 (8x H100-SXM-80GB,
# TensorRT)", llama2-70b-99 and llama2-70b-99.9, Offline: 24,524.9 tokens/s, 84.4792 samples/s
# (mlcommons/inference_results_v4.1, closed/NVIDIA/results/DGX-H100_H100-SXM-80GBx8_TRT/
# llama2-70b-99.9/Offline/performance/run_1/mlperf_log_summary.txt). Weights, activations and
# KV cache in FP8 (closed/NVIDIA/documentation/calibration.md). v4.0, same system: 21,805.8.
MLPERF_V41_H100X8_LLAMA2_70B_TOKENS_S = 24_524.9
MLPERF_V41_OUTPUT_TOKENS_PER_SAMPLE = 24_524.9 / 84.4792  # 290.3


@pytest.mark.parametrize("prompt_tokens", [256, 384, 512])
def test_mlperf_v41_llama2_70b_offline_on_8_h100(prompt_tokens: int) -> None:
    """MLPerf Inference v4.1 Llama 2 70B Offline on 8 × H100 SXM (NVIDIA): within ±30 %.

    Published: 24,524.9 output tokens/s (NVIDIA DGX H100, closed division, v4.1), 84.48
    samples/s, hence 290.3 output tokens per sample. The MLPerf OpenOrca subset caps prompts at
    1,024 tokens (processorca.py --seqlen_limit=1024) but its mean prompt length is not printed
    with the results, so the check holds for mean prompts of 256 to 512 tokens: the model gives
    +24 %, 0 % and −16 %. ±30 %: the prompt-length uncertainty alone moves the model by ±20 %;
    the same hardware scored 12 % less one round earlier (v4.0: 21,805.8).
    """
    result = llm_serving_capacity(
        "llama-2-70b-fp8", "h100-sxm", 8, prompt_tokens, MLPERF_V41_OUTPUT_TOKENS_PER_SAMPLE
    )
    assert float(result.output_tokens_per_s) == pytest.approx(
        MLPERF_V41_H100X8_LLAMA2_70B_TOKENS_S, rel=0.30
    )


# --------------------------------------------------------------------------------------------
# Validation: edge (llama.cpp on Jetson AGX Orin)
# --------------------------------------------------------------------------------------------

# nvidia-holoscan/holohub issue 170 (comment by NVIDIA's N. Nelson, 2024-01-23): llama.cpp decode
# rates on the IGX Orin integrated GPU, "identical to AGX benchmarks", prompt "Once upon a time,"
# (a few tokens). "4-bit" is taken as llama.cpp Q4_0 (4.5 bits per weight).
HOLOHUB_ORIN_LLAMA_CPP_TOKENS_S = {
    "llama-2-7b-q4_0": 22.5,
    "llama-2-13b-q4_0": 13.3,
    "llama-2-70b-q4_0": 3.0,
}


def _orin_decode_tokens_s(model: str, assumptions: ServingAssumptions) -> float:
    result = llm_serving_capacity(
        model, "jetson-agx-orin-64", 1, 8, 128, batch=1, assumptions=assumptions
    )
    return float(1.0 / result.decode_step_time_s)


def test_llama_cpp_llama2_13b_on_jetson_agx_orin() -> None:
    """llama.cpp Llama 2 13B 4-bit decode on Jetson AGX Orin: 13.3 tokens/s published, ±10 %.

    Source: nvidia-holoscan/holohub issue 170 (NVIDIA, llama.cpp on the Orin iGPU): 7B 22.5,
    13B 13.3, 70B 3.0 tokens/s. ``LLAMA_CPP_EDGE`` was calibrated on the 7B and 70B figures
    (bandwidth efficiency 0.59 of 204.8 GB/s, 13 ms per step); the 13B figure is independent of
    the calibration and the model gives 13.5 tokens/s (+1.5 %). ±10 %: the quantisation type
    ("4-bit") is assumed Q4_0; Q4_K_M (4.85 bits) would lower the prediction by about 6 %.
    """
    predicted = _orin_decode_tokens_s("llama-2-13b-q4_0", LLAMA_CPP_EDGE)
    assert predicted == pytest.approx(HOLOHUB_ORIN_LLAMA_CPP_TOKENS_S["llama-2-13b-q4_0"], rel=0.10)


@pytest.mark.parametrize("model", ["llama-2-7b-q4_0", "llama-2-70b-q4_0"])
def test_llama_cpp_edge_calibration_reproduces_its_points(model: str) -> None:
    """The rounded LLAMA_CPP_EDGE values reproduce the 7B and 70B rates they came from (±3 %).

    Source: nvidia-holoscan/holohub issue 170 (7B: 22.5, 70B: 3.0 tokens/s, Orin iGPU).
    A consistency check of the calibration, not a validation.
    """
    predicted = _orin_decode_tokens_s(model, LLAMA_CPP_EDGE)
    assert predicted == pytest.approx(HOLOHUB_ORIN_LLAMA_CPP_TOKENS_S[model], rel=0.03)


@pytest.mark.parametrize("model", list(HOLOHUB_ORIN_LLAMA_CPP_TOKENS_S))
def test_datacenter_efficiencies_bound_llama_cpp_from_above(model: str) -> None:
    """With the datacenter efficiencies the model is an upper bound for llama.cpp on Orin.

    Source: nvidia-holoscan/holohub issue 170. llama.cpp at batch 1 reaches less of the Orin's
    LPDDR5 bandwidth and pays a fixed cost per token; the default stack ignores both, so it
    over-predicts (7B +66 %, 13B +46 %, 70B +23 %), never under-predicts.
    """
    predicted = _orin_decode_tokens_s(model, DATACENTER_STACK)
    assert predicted > HOLOHUB_ORIN_LLAMA_CPP_TOKENS_S[model]


# --------------------------------------------------------------------------------------------
# Catalogs
# --------------------------------------------------------------------------------------------


def test_kv_bytes_and_weight_bytes_follow_the_architecture() -> None:
    """Llama 2 70B: 2 × 80 layers × 8 KV heads × 128 × 2 bytes = 327,680 B per token (GQA)."""
    model = language_model("llama-2-70b-bf16")
    assert model.kv_bytes_per_token == 327_680
    assert model.weight_bytes == pytest.approx(2 * 68_976_648_192)
    assert language_model("llama-2-70b-fp8").kv_bytes_per_token == 163_840
    # Q4_0: 18 bytes per block of 32 weights; the Llama 2 7B Q4_0 file is 3.56 GiB.
    assert language_model("llama-2-7b-q4_0").weight_bytes / 2**30 == pytest.approx(3.56, rel=0.02)


def test_every_catalog_model_is_consistent_and_sourced() -> None:
    catalog = model_catalog()
    assert len(catalog) >= 10
    for key, model in catalog.items():
        assert model.source.strip(), key
        assert model.hidden_size == model.attention_heads * model.head_dim, key
        assert model.attention_heads % model.kv_heads == 0, key
        assert model.parameters > 0 and model.bytes_per_weight > 0, key
    for key in ("llama-2-70b-fp8", "llama-3.1-8b-bf16", "llama-3.1-70b-bf16", "llama-2-7b-q4_0"):
        assert key in catalog


def test_accelerator_memory_is_from_the_datasheets() -> None:
    catalog = accelerator_catalog()
    assert (catalog["h100-sxm"].memory_gb, catalog["h100-sxm"].memory_bandwidth_gb_s) == (80, 3350)
    assert (catalog["b200"].memory_gb, catalog["b200"].memory_bandwidth_gb_s) == (180, 8000)
    assert catalog["tpu-v4"].memory_bytes == pytest.approx(32 * 2**30, rel=1e-3)
    assert catalog["jetson-agx-orin-64"].memory_bandwidth_b_s == pytest.approx(204.8e9)
    for key, part in catalog.items():
        assert part.serving_source.strip(), key
        assert part.dense_tflops_8bit >= part.dense_tflops, key


def test_unknown_names_and_bad_inputs_are_user_errors() -> None:
    with pytest.raises(OrbitgridError, match="unknown language model 'gpt-5'"):
        llm_serving_capacity("gpt-5", "h100-sxm", 1, 10, 10)
    with pytest.raises(OrbitgridError, match="unknown accelerator 'h200'"):
        llm_serving_capacity("llama-3.1-8b-bf16", "h200", 1, 10, 10)
    with pytest.raises(OrbitgridError, match="delivered_fraction"):
        llm_serving_capacity("llama-3.1-8b-bf16", "h100-sxm", 1, 10, 10, 1.5)
    with pytest.raises(OrbitgridError, match="output_tokens"):
        llm_serving_capacity("llama-3.1-8b-bf16", "h100-sxm", 1, 10, 0)
    with pytest.raises(OrbitgridError, match="bandwidth_efficiency"):
        ServingAssumptions(bandwidth_efficiency=0.0)


# --------------------------------------------------------------------------------------------
# Behaviour and invariants
# --------------------------------------------------------------------------------------------


def test_a_model_too_big_does_not_fit() -> None:
    """Llama 2 70B in BF16 (138 GB) fits neither one H100 (80 GB) nor a Jetson (64 GB)."""
    for part, count in (("h100-sxm", 1), ("jetson-agx-orin-64", 1), ("h100-sxm", 0)):
        result = llm_serving_capacity("llama-2-70b-bf16", part, count, 100, 100)
        assert not bool(result.fits)
        assert int(result.max_batch) == 0
        assert float(result.request_rate_per_s) == 0.0
        assert np.isinf(result.service_time_s)
    assert bool(llm_serving_capacity("llama-2-70b-bf16", "h100-sxm", 2, 100, 100).fits)


def test_requests_longer_than_the_trained_context_cannot_be_served() -> None:
    result = llm_serving_capacity("llama-2-7b-q4_0", "h100-sxm", 1, 4000, 200)
    assert not bool(result.fits)


def test_zero_delivered_fraction_gives_zero_capacity_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = llm_serving_capacity(
            "llama-3.1-8b-fp8", "h100-sxm", 1, 500, 200, np.array([0.0, np.nan, 0.5])
        )
    np.testing.assert_array_equal(result.request_rate_per_s[:2], 0.0)
    np.testing.assert_array_equal(result.output_tokens_per_s[:2], 0.0)
    assert np.all(np.isinf(result.service_time_s[:2]))
    assert np.all(np.isinf(result.time_per_output_token_s[:2]))
    assert np.all(result.fits)
    assert result.request_rate_per_s[2] > 0.0
    # Power and rate both scale with the delivered fraction: energy per token does not.
    assert np.all(np.isfinite(result.energy_per_output_token_j))


def test_vectorised_over_steps_and_sites_matches_scalar_calls() -> None:
    delivered = np.array([[1.0, 0.5, 0.0], [0.25, 0.75, 1.0]])  # steps × sites
    counts = np.array([1, 2, 4])
    result = llm_serving_capacity("llama-3.1-70b-fp8", "h100-sxm", counts, 1000, 300, delivered)
    assert result.output_tokens_per_s.shape == (2, 3)
    for i in range(2):
        for j in range(3):
            one = llm_serving_capacity(
                "llama-3.1-70b-fp8", "h100-sxm", counts[j], 1000, 300, delivered[i, j]
            )
            assert result.output_tokens_per_s[i, j] == pytest.approx(float(one.output_tokens_per_s))
            assert result.batch[i, j] == int(one.batch)


def test_operating_batch_is_capped_by_memory_and_sets_the_slots() -> None:
    full = llm_serving_capacity("llama-3.1-8b-bf16", "h100-sxm", 1, 1000, 1000)
    capped = llm_serving_capacity("llama-3.1-8b-bf16", "h100-sxm", 1, 1000, 1000, batch=10**9)
    small = llm_serving_capacity("llama-3.1-8b-bf16", "h100-sxm", 1, 1000, 1000, batch=8)
    assert int(capped.batch) == int(full.max_batch) == int(full.batch)
    assert int(small.slots) == 8
    assert float(small.request_rate_per_s) == pytest.approx(
        8 * float(small.slot_service_rate_per_s)
    )
    assert float(small.time_per_output_token_s) < float(full.time_per_output_token_s)
    assert float(small.output_tokens_per_s) < float(full.output_tokens_per_s)


model_keys = st.sampled_from(sorted(model_catalog()))
part_keys = st.sampled_from(sorted(accelerator_catalog()))
tokens = st.integers(min_value=1, max_value=8192)
fractions = st.floats(min_value=0.0, max_value=1.0)


@settings(max_examples=80, deadline=None, database=None)
@given(
    model=model_keys,
    part=part_keys,
    count=st.integers(min_value=0, max_value=16),
    prompt=tokens,
    output=tokens,
    f1=fractions,
    f2=fractions,
)
def test_more_delivered_fraction_is_never_slower(model, part, count, prompt, output, f1, f2):
    low, high = sorted((f1, f2))
    slow = llm_serving_capacity(model, part, count, prompt, output, low)
    fast = llm_serving_capacity(model, part, count, prompt, output, high)
    assert fast.service_time_s <= slow.service_time_s
    assert fast.time_per_output_token_s <= slow.time_per_output_token_s
    assert fast.prefill_time_s <= slow.prefill_time_s
    assert fast.request_rate_per_s >= slow.request_rate_per_s
    assert fast.output_tokens_per_s >= slow.output_tokens_per_s


@settings(max_examples=80, deadline=None, database=None)
@given(
    model=model_keys,
    part=part_keys,
    count=st.integers(min_value=0, max_value=16),
    prompt=tokens,
    output=tokens,
    delivered=fractions,
)
def test_batch_fits_in_memory_and_service_covers_prefill(
    model, part, count, prompt, output, delivered
):
    lm = language_model(model)
    acc = accelerator_catalog()[part]
    result = llm_serving_capacity(model, part, count, prompt, output, delivered)
    batch = int(result.max_batch)
    assert int(result.batch) <= batch
    assert bool(result.fits) == (batch >= 1)
    if batch >= 1:
        used_b = lm.weight_bytes + batch * (prompt + output) * lm.kv_bytes_per_token
        assert used_b <= count * acc.memory_bytes * (1 + 1e-12)
        kv_budget_b = (count * acc.memory_bytes - lm.weight_bytes) * (
            1 - DATACENTER_STACK.memory_reserve_fraction
        )
        assert (batch + 1) * (prompt + output) * lm.kv_bytes_per_token > kv_budget_b
    assert result.service_time_s >= result.prefill_time_s
    assert result.service_time_s >= result.unloaded_latency_s or batch < 1 or delivered == 0
    assert result.request_rate_per_s >= 0.0
    if not bool(result.fits) or delivered == 0.0:
        assert float(result.request_rate_per_s) == 0.0
        assert np.isinf(result.service_time_s)
