"""Where torch.compile pays off: the sampler eager against compiled, on this machine.

    python benchmarks/bench_compile.py [--steps 50] [--samples 4] [--device cpu|cuda]

Prints, for the default crop and the reviewed model (untrained: speed does not depend on the weights),
the sampler's seconds per step eager and compiled (torch.compile of the denoiser, inductor), the compile
time with a cold cache and again in a fresh process with the warm on-disk cache (inductor's FX graph
cache), whether the compiled sampler's samples agree with the eager ones, and the break-even: the
sampling steps after which the compile time is paid back.  Each measurement runs in a fresh process.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import torch

CHILD = """
import json, sys, time
import torch
from pomodoro_core.core.sampling import SamplerConfig
from pomodoro_core.experiments import ablation
from pomodoro_core.training.sampler import edm_sample
from pomodoro_core.training.trainer import default_budget, pin_threads, train
pin_threads()
steps, samples, compiled, device = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4]
cfg = ablation.one_factor_configs(**default_budget("cpu"))[ablation.REVIEWED_NAME][0]
r = train(ablation.crop(ablation.NOTEBOOK_CROPS[0]), cfg.with_(steps=2, warmup=1), device)
model = torch.compile(r.model, dynamic=False) if compiled else r.model
hier, ctx = r.ctx.hierarchy, r.ctx.for_batch(samples)
def D(x, sigma):
    with torch.no_grad():
        return model(x, sigma, ctx)["atom"]
sampler = SamplerConfig(steps=steps)
t0 = time.perf_counter()
edm_sample(D, hier, r.config.weights, sampler.with_(steps=2), samples)  # compiles (when compiled)
first = time.perf_counter() - t0
t0 = time.perf_counter()
x = edm_sample(D, hier, r.config.weights, sampler, samples)
if device == "cuda":
    torch.cuda.synchronize()
run = time.perf_counter() - t0
print(json.dumps({"first": first, "per_step": run / steps, "x": x.flatten()[:64].tolist()}))
"""


def child(steps: int, samples: int, compiled: bool, cache: str, device: str) -> dict:
    env = dict(os.environ, TORCHINDUCTOR_CACHE_DIR=cache, POMODORO_THREADS="1", OMP_NUM_THREADS="1")
    args = [sys.executable, "-c", CHILD, str(steps), str(samples), "1" if compiled else "0", device]
    res = subprocess.run(args, capture_output=True, text=True, env=env)
    if res.returncode != 0:
        raise SystemExit(f"bench_compile: the {'compiled' if compiled else 'eager'} run failed: {res.stderr[-1500:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--device", default=None, help="cpu or cuda (default: cuda when present)")
    args = ap.parse_args()
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    with tempfile.TemporaryDirectory() as cache:
        eager = child(args.steps, args.samples, False, cache, device)
        t0 = time.perf_counter()
        cold = child(args.steps, args.samples, True, cache, device)
        cold_wall = time.perf_counter() - t0
        warm = child(args.steps, args.samples, True, cache, device)
    gain = eager["per_step"] - cold["per_step"]
    agree = max(abs(a - b) for a, b in zip(eager["x"], cold["x"], strict=True))
    print(f"sampler on {device}, default crop, {args.samples} samples, {args.steps} Euler steps, 1 thread:")
    print(f"  eager:    {1000 * eager['per_step']:.1f} ms per step")
    print(f"  compiled: {1000 * cold['per_step']:.1f} ms per step ({eager['per_step'] / cold['per_step']:.2f}x the eager rate)")
    print(f"  compile time: {cold['first']:.1f} s with a cold cache ({cold_wall:.0f} s for the whole process), "
          f"{warm['first']:.1f} s in a fresh process with the warm cache")  # fmt: skip
    print(f"  samples compiled vs eager: max |difference| {agree:.2g} Å over the first 64 coordinates")
    for label, cost in (("cold", cold["first"]), ("warm", warm["first"])):
        if gain > 0:
            print(f"  break-even ({label} cache): {cost / gain:.0f} sampling steps of {args.samples} samples")
        else:
            print(f"  break-even ({label} cache): never (compiled is not faster here)")


if __name__ == "__main__":
    main()
