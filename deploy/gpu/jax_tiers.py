#!/usr/bin/env python3
"""Tier latencies of the authors' JAX DiT (their model.py, carried in the bundle, not committed).

Times the reference network the way the authors' evaluation runs it (helper_inference.py: one
jitted velocity call per Euler step, a Python loop over steps), on the same shapes, batches and
block counts as dev.odelt.model.tools.GpuCheck, with random weights, in the reference's default
bfloat16. A block count L is run as the authors do at evaluation: a DiT built with depth_wise=L
(exactly L blocks run). Per row: ms per velocity call, measured Euler tiers S=1 and S=4, S=128
estimated as 32 x S=4 (as GpuCheck does), images per second.

  python3 deploy/gpu/jax_tiers.py --reference deploy/gpu/bundle/reference --out OUT.json
      [--batches 64,256] [--shapes dit-b2,dit-xl2] [--budget-s 100] [--quick]

Rows that do not fit the time budget are listed as skipped. Writes JSON even when JAX is missing
(then with an "error").
"""
import argparse
import json
import os
import statistics
import sys
import time
import traceback

SHAPES = {
    # name: (hidden, depth, heads, depth_min, group)
    "dit-b2": (768, 12, 12, 4, 4),
    "dit-xl2": (1152, 28, 16, 12, 8),
    "small": (128, 6, 4, 2, 2),
}


def allowed_blocks(depth, depth_min, group):
    return list(range(depth_min, depth + 1, group))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--reference", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--batches", default="64,256")
    p.add_argument("--shapes", default="dit-b2,dit-xl2")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--budget-s", type=float, default=100.0)
    p.add_argument("--quick", action="store_true")
    a = p.parse_args()
    result = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "rows": [],
              "skipped": []}
    try:
        run(a, result)
    except Exception as e:  # recorded in the JSON: one call brings back what failed and why
        result["error"] = repr(e)
        result["trace"] = traceback.format_exc()
    with open(a.out, "w") as f:
        json.dump(result, f, indent=2)
    print("wrote", a.out, "(error)" if "error" in result else "")
    return 1 if "error" in result else 0


def run(a, result):
    import jax
    import jax.numpy as jnp

    sys.path.insert(0, a.reference)
    from model import DiT  # the authors' code

    result["jax"] = jax.__version__
    result["devices"] = [str(d) for d in jax.devices()]
    shapes = ["small"] if a.quick else a.shapes.split(",")
    batches = [2] if a.quick else [int(b) for b in a.batches.split(",")]
    repeats = 1 if a.quick else a.repeats
    start = time.time()
    for shape in shapes:
        hidden, depth, heads, depth_min, group = SHAPES[shape]
        for batch in batches:
            for blocks in allowed_blocks(depth, depth_min, group):
                if time.time() - start > a.budget_s:
                    result["skipped"].append({"shape": shape, "batch": batch, "blocks": blocks})
                    continue
                result["rows"].append(
                    tier_row(jax, jnp, DiT, shape, hidden, depth, heads, depth_min, group,
                             batch, blocks, repeats))
                print(f"  jax {shape} batch {batch} L={blocks}", flush=True)
    result["seconds"] = time.time() - start


def tier_row(jax, jnp, DiT, shape, hidden, depth, heads, depth_min, group, batch, blocks,
             repeats):
    image = 32  # "small" is VelocityTiming.CONFIG: 32x32x3, patch 4
    channels = 3 if shape == "small" else 4
    patch = 4 if shape == "small" else 2
    model = DiT(patch_size=patch, hidden_size=hidden, depth=depth, depth_min=depth_min,
                depth_group=group, depth_wise=blocks, num_heads=heads, mlp_ratio=4.0,
                out_channels=channels, class_dropout_prob=0.1, num_classes=1000,
                dtype=jnp.bfloat16)
    key = jax.random.PRNGKey(0)
    x = jax.random.normal(key, (batch, image, image, channels), jnp.float32)
    y = jnp.arange(batch, dtype=jnp.int32) % 1000
    d = jnp.zeros((batch,), jnp.int32)
    t0 = jnp.zeros((batch,), jnp.float32)
    params = model.init({"params": key, "label_dropout": key, "dropout": key}, t0, x, (d, y))[
        "params"]

    @jax.jit
    def velocity(params, x, t, d, y):
        return model.apply({"params": params}, t, x, (d, y), train=False)

    def sync(v):
        v.block_until_ready()
        return v

    sync(velocity(params, x, t0, d, y))  # compile
    times = []
    for _ in range(repeats):
        s = time.perf_counter()
        sync(velocity(params, x, t0, d, y))
        times.append((time.perf_counter() - s) * 1e3)
    row = {"shape": shape, "precision": "bf16", "batch": batch, "blocks": blocks,
           "call_ms": statistics.median(times)}
    for steps in (1, 4):
        level = jnp.full((batch,), steps.bit_length() - 1, jnp.int32)  # d = log2(S)
        s = time.perf_counter()
        state = x
        for k in range(steps):
            t = jnp.full((batch,), k / steps, jnp.float32)
            state = state + velocity(params, state, t, level, y) / steps
        sync(state)
        ms = (time.perf_counter() - s) * 1e3
        row[f"s{steps}_ms"] = ms
        row[f"s{steps}_images_per_s"] = batch / (ms / 1e3)
    row["s128_ms_estimated"] = 32 * row["s4_ms"]
    row["s128_images_per_s_estimated"] = batch / (row["s128_ms_estimated"] / 1e3)
    return row


if __name__ == "__main__":
    sys.exit(main())
