"""Trained runs on disk: checkpoints (read with `torch.load(weights_only=True)`) and a cache keyed by configuration.

The key covers the configuration, the structures, the device kind, the thread count,
the torch version and the code that decides a trained model (`TRAINING_CODE`), so a
configuration already trained is loaded, never retrained, and a code change retrains.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import polars as pl
import torch

from ..core.files import atomic_write
from ..core.structure import Structure
from .losses import TERMS
from .trainer import THREADS_ENV, TrainConfig, TrainResult, as_list, build_model, default_device, empty_metrics, train


def save_checkpoint(path: str | Path, result: TrainResult) -> Path:
    """Atomically (`core.files.atomic_write`): concurrent writers and readers of one cache never collide."""
    payload = {
        "config": result.config.as_dict(),
        "state_dict": {k: v.detach().cpu() for k, v in result.model.state_dict().items()},
        "metrics": {c: result.metrics[c].to_list() for c in result.metrics.columns},
        "samples": {c: result.samples[c].to_list() for c in result.samples.columns},
        "status": result.status,
        "seconds": result.seconds,
        "device": result.device,
    }
    return atomic_write(path, lambda f: torch.save(payload, f))


def load_checkpoint(
    path: str | Path, structure: Structure | Sequence[Structure], device: torch.device | str | None = None
) -> TrainResult:
    """Rebuild a TrainResult; the file is read with torch.load(weights_only=True) (no pickled code)."""
    device = torch.device(device or default_device())
    payload = torch.load(Path(path), map_location="cpu", weights_only=True)
    config = TrainConfig.from_dict(payload["config"])
    model, ctx = build_model(structure, config, device)
    model.load_state_dict(payload["state_dict"])
    metrics = pl.DataFrame(payload["metrics"], schema_overrides={f"grad_norm_{k}": pl.Float64 for k in TERMS})
    return TrainResult(
        model.eval(),
        ctx,
        config,
        metrics if metrics.width else empty_metrics(),
        pl.DataFrame(payload["samples"]),
        payload["status"],
        payload["seconds"],
        payload["device"],
    )


TRAINING_CODE = (  # the files whose code decides a trained model, relative to the package
    "training/context.py",
    "training/inputs.py",
    "training/transformer.py",
    "training/geometric.py",
    "training/preconditioner.py",
    "training/denoiser.py",
    "training/losses.py",
    "training/trainer.py",
    "core/noise.py",
    "core/hierarchy.py",
    "core/geometry.py",
    "core/edm.py",
)


def cache_key(structure: Structure | Sequence[Structure], config: TrainConfig, device: torch.device | str) -> str:
    """Configuration, structures, device kind, thread count, torch version and the training code itself."""
    h = hashlib.sha256()
    h.update(json.dumps(config.as_dict(), sort_keys=True).encode())
    for s in as_list(structure):
        h.update(np.ascontiguousarray(s.coords).tobytes())
        h.update("|".join(s.atom_name.tolist() + s.residue_name.tolist()).encode())
    h.update(f"{torch.device(device).type}|{torch.__version__}|{os.environ.get(THREADS_ENV, '1')}".encode())
    h.update(code_digest(TRAINING_CODE).encode())
    return h.hexdigest()[:20]


def code_digest(files: Sequence[str]) -> str:
    """sha256 (12 hex digits) of these package files (paths relative to the package): which code made a result."""
    h = hashlib.sha256()
    here = Path(__file__).resolve().parents[1]
    for name in files:
        h.update((here / name).read_bytes())
    return h.hexdigest()[:12]


def default_cache_dir() -> Path:
    return Path(os.environ.get("POMODORO_CACHE", Path.home() / ".cache" / "pomodoro-diagnostics")) / "train"


def train_cached(
    structure: Structure | Sequence[Structure],
    config: TrainConfig,
    device: torch.device | str | None = None,
    cache_dir: str | Path | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> tuple[TrainResult, bool]:
    """(result, came_from_cache): a configuration already trained is loaded, never retrained."""
    device = torch.device(device or default_device())
    path = Path(cache_dir or default_cache_dir()) / f"{cache_key(structure, config, device)}.pt"
    if path.exists():
        try:
            return load_checkpoint(path, structure, device), True
        except Exception as exc:  # a corrupt cache file is retrained, with a note
            print(f"ignoring unreadable cached run {path}: {exc}", file=sys.stderr)
    result = train(structure, config, device, progress)
    try:
        save_checkpoint(path, result)
    except OSError as exc:  # an unwritable cache costs the caching, not the finished run
        print(f"warning: cannot write the training cache ({exc}); carrying on uncached", file=sys.stderr)
    return result, False
