"""Short training runs of the multiscale denoiser on one structure or a few together.

One run overfits its structures (crops): each step draws a batch holding every
structure equally often, training sigmas from the preset's log-normal, (optionally) a
random rigid motion per sample, and multiscale noise; the loss is `losses.DenoisingLoss`.
Training pins one intra-op thread per process (`pin_threads`).  On CPU a seed fixes
every number.  A non-finite loss or gradient stops the run with a message; the
metrics up to that step are kept and the model keeps its last finite weights.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace

import polars as pl
import torch

from ..core.edm import LogNormalSigma
from ..core.errors import ParameterError
from ..core.geometry import masked_centroid
from ..core.hierarchy import LEVELS, stack_coords
from ..core.noise import NoiseWeights
from ..core.presets import Preset
from ..core.structure import Structure
from .context import Context
from .denoiser import ModelConfig, build_denoiser
from .losses import REVIEWED_LEVEL_WEIGHTS, TERMS, DenoisingLoss, total
from .preconditioner import MultiscalePrecond

THREADS_ENV = "POMODORO_THREADS"


def pin_threads() -> int:
    """One intra-op thread per training or sampling process on CPU (POMODORO_THREADS overrides).

    Two threads gain little at these sizes and collapse when anything else holds a core;
    results also depend on the thread count (summation order), so it is fixed and recorded.
    """
    n = int(os.environ.get(THREADS_ENV, "1"))
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@dataclass(frozen=True)
class TrainConfig:
    weights: NoiseWeights = NoiseWeights(8.2, 1.6, 1.3)
    sigma_data: float = 16.0
    P_mean: float = -1.2
    P_std: float = 1.5
    train_times_sigma_data: bool = True
    model: ModelConfig = field(default_factory=ModelConfig)
    level_weights: tuple[float, float, float] = REVIEWED_LEVEL_WEIGHTS  # on the per-unit level means
    augment: bool = False
    steps: int = 1200
    batch_size: int = 8
    lr: float = 1e-3
    weight_decay: float = 1e-2
    warmup: int = 50
    grad_clip: float = 1.0
    bond_weight: float = 1.0
    seed: int = 0
    probe_every: int = 0  # per-level gradient norms every k steps (0: never; costs 3 extra backward passes)

    def __post_init__(self):
        _ = self.loss  # validates the level weights
        if int(self.steps) != self.steps or self.steps < 1:
            raise ParameterError(f"training steps must be an integer >= 1 (got {self.steps})")
        if self.batch_size < 1:
            raise ParameterError(f"batch size must be >= 1 (got {self.batch_size})")
        for name in ("lr", "grad_clip", "sigma_data"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise ParameterError(f"{name} must be finite and > 0 (got {v})")
        _ = self.training_sigma  # validates P_mean, P_std

    @classmethod
    def from_preset(cls, preset: Preset, **changes) -> TrainConfig:
        fields = dict(
            weights=preset.weights,
            sigma_data=preset.sigma_data,
            P_mean=preset.P_mean,
            P_std=preset.P_std,
            train_times_sigma_data=preset.train_times_sigma_data,
        )
        return cls(**(fields | changes))

    @property
    def training_sigma(self) -> LogNormalSigma:
        return LogNormalSigma.for_training(self.P_mean, self.P_std, self.sigma_data, self.train_times_sigma_data)

    @property
    def loss(self) -> DenoisingLoss:
        lw = tuple(self.level_weights)
        return DenoisingLoss(self.sigma_data, self.model.precond_sigma, lw, self.bond_weight, self.weights, self.augment)

    def with_(self, **changes) -> TrainConfig:
        return replace(self, **changes)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["weights"] = [self.weights.w_c, self.weights.w_r, self.weights.w_a]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        d = dict(d)
        d["weights"] = NoiseWeights(*d["weights"])
        d["model"] = ModelConfig(**d["model"])
        d["level_weights"] = tuple(d["level_weights"])
        return cls(**d)


def default_budget(device: torch.device | str | None = None) -> dict:
    """Training steps and batch size of a default run: about a minute on a 2-core CPU; larger on a GPU."""
    device = torch.device(device or default_device())
    return {"steps": 5000, "batch_size": 32} if device.type == "cuda" else {"steps": 1200, "batch_size": 8}


@dataclass
class TrainResult:
    model: MultiscalePrecond
    ctx: Context
    config: TrainConfig
    metrics: pl.DataFrame  # one row per completed step
    samples: pl.DataFrame  # one row per (step, sample): sigma and every loss term
    status: str  # 'completed' or the reason the run stopped
    seconds: float
    device: str

    @property
    def completed(self) -> bool:
        return self.status == "completed"

    def denoiser(self, ctx: Context | None = None) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
        """D_atom(x, sigma) for the sampler (no gradient); `ctx` gives each sample's structure
        (default: the training context, one sample per structure, or any batch of its one structure)."""
        model, ctx = self.model.eval(), ctx or self.ctx

        def D(x, sigma):
            with torch.no_grad():
                return model(x, sigma, ctx)["atom"]

        return D


def centred_coords(structures: Structure | Sequence[Structure], device, dtype=torch.float32) -> torch.Tensor:
    """(S, N, 3) padded coordinates, each structure centred on its atoms' centroid (padding stays 0)."""
    structures = as_list(structures)
    x = stack_coords(structures, device, dtype)
    mask = torch.zeros(x.shape[:2], dtype=torch.bool, device=device)
    for b, s in enumerate(structures):
        mask[b, : s.n_atoms] = True
    return (x - masked_centroid(x, mask)) * mask.unsqueeze(-1)


def as_list(structures: Structure | Sequence[Structure]) -> list[Structure]:
    return [structures] if isinstance(structures, Structure) else list(structures)


def _lr_factor(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up, then cosine decay to 10 %."""
    if step < cfg.warmup:
        return (step + 1) / cfg.warmup
    frac = (step - cfg.warmup) / max(cfg.steps - cfg.warmup, 1)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0)))


def level_grad_norms(terms: dict[str, torch.Tensor], params: list[torch.Tensor]) -> dict[str, float]:
    """|d (batch mean of term) / d theta| for each loss term separately."""
    out = {}
    for k in TERMS:
        g = torch.autograd.grad(terms[k].mean(), params, retain_graph=True, allow_unused=True)
        out[k] = float(torch.sqrt(sum((gi.double() ** 2).sum() for gi in g if gi is not None)))
    return out


def training_batch(x0_all: torch.Tensor, ctx_all: Context, B: int, generator) -> tuple[torch.Tensor, Context]:
    """B samples: every structure equally often (a shuffled round), the rest drawn at random."""
    S = ctx_all.n_structures
    if S == 1:
        return x0_all, ctx_all.for_batch(B)
    reps = torch.arange(S, device=x0_all.device).repeat(B // S)
    extra = torch.randperm(S, generator=generator, device=x0_all.device)[: B - reps.numel()]
    idx = torch.cat([reps, extra])
    return x0_all.index_select(0, idx), ctx_all.select(idx)


def flat_parameters(params: list[torch.Tensor]) -> torch.Tensor:
    """One leaf tensor holding every parameter, its .grad holding every gradient; each parameter and its
    gradient become views into them, so that clipping and AdamW are a few ops on one tensor, not ~10 per
    parameter (autograd adds into an existing .grad in place, so the views stay views)."""
    flat = torch.cat([p.detach().reshape(-1) for p in params]).requires_grad_()
    flat.grad = torch.zeros_like(flat)
    start = 0
    for p in params:
        n = p.numel()
        p.data = flat.detach()[start : start + n].view_as(p)
        p.grad = flat.grad[start : start + n].view_as(p)
        start += n
    return flat


def _stopped(reason: str, step: int) -> str:
    return f"diverged: {reason}; stopped, metrics of the {step} completed steps kept"


def build_model(structures, config: TrainConfig, device) -> tuple[MultiscalePrecond, Context]:
    ctx = Context.from_structures(as_list(structures), config.weights, device)
    torch.manual_seed(config.seed)  # weights are initialised on the CPU: the same on every device
    model = build_denoiser(config.model, ctx, config.sigma_data)
    return model.to(device), ctx


class ProgressLine:
    """A plain progress line on stderr every ~10 % (scripts, CI logs)."""

    def __init__(self, label: str = "train"):
        self.label, self.t0, self.last = label, time.perf_counter(), -1

    def __call__(self, step: int, steps: int, loss: float | None = None) -> None:
        decile = (10 * (step + 1)) // steps
        if decile != self.last:
            self.last = decile
            dt = time.perf_counter() - self.t0
            shown = "" if loss is None else f"  loss {loss:.4g}"
            print(f"{self.label}: step {step + 1}/{steps}{shown}  {dt:.1f}s", file=sys.stderr, flush=True)


def train(
    structure: Structure | Sequence[Structure],
    config: TrainConfig,
    device: torch.device | str | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> TrainResult:
    """Train one model on one structure or on several together (each batch holds every structure equally often)."""
    device = torch.device(device or default_device())
    pin_threads()
    t0 = time.perf_counter()
    model, ctx_all = build_model(structure, config, device)
    model.train()
    g = torch.Generator(device=device).manual_seed(config.seed)
    x0_all = centred_coords(structure, device)
    loss_fn = config.loss
    params = [p for p in model.parameters() if p.requires_grad]
    flat = flat_parameters(params)
    opt = torch.optim.AdamW([flat], lr=config.lr, weight_decay=config.weight_decay, fused=True)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: _lr_factor(k, config))
    dist, B = config.training_sigma, config.batch_size
    rows, sample_cols = [], {k: [] for k in ("step", "sample", "sigma", *TERMS, *(f"mse_{t}" for t in TERMS))}
    status = "completed"
    for step in range(config.steps):
        x0, ctx = training_batch(x0_all, ctx_all, B, g)
        sigma = dist.sample(B, generator=g, device=device)
        if not torch.isfinite(sigma).all():
            why = f"a training σ overflowed to {float(sigma.max())} at step {step + 1} "
            why += f"(P_mean={config.P_mean}, P_std={config.P_std})"
            status = _stopped(why, step)
            break
        terms = loss_fn(model, x0, sigma, ctx, g)
        bad = [lvl for lvl in LEVELS if not torch.isfinite(terms[f"mse_{lvl}"]).all()]
        if bad:
            status = _stopped(f"the prediction became non-finite at step {step + 1} (levels: {', '.join(bad)})", step)
            break
        loss = total(terms)
        if not torch.isfinite(loss):
            bad = [k for k in TERMS if not torch.isfinite(terms[k]).all()]
            why = (
                f"the loss became {float(loss.detach())} at step {step + 1} (non-finite terms: {', '.join(bad)}; "
                f"σ in this batch {float(sigma.min()):.3g}–{float(sigma.max()):.3g} Å)"
            )
            status = _stopped(why, step)
            break
        probe = config.probe_every and step % config.probe_every == 0
        norms = level_grad_norms(terms, params) if probe else {}
        flat.grad.zero_()
        loss.backward()
        grad_norm = float(torch.nn.utils.clip_grad_norm_(flat, config.grad_clip))
        if not math.isfinite(grad_norm):
            status = _stopped(f"the gradient norm became {grad_norm} at step {step + 1}", step)
            break
        opt.step()
        sched.step()
        row = {"step": step, "loss": float(loss.detach()), "grad_norm": grad_norm, "lr": sched.get_last_lr()[0]}
        row["sigma_median"] = float(sigma.median())
        for k in TERMS:
            row[f"loss_{k}"] = float(terms[k].detach().mean())
            row[f"grad_norm_{k}"] = norms.get(k, float("nan")) if probe else None
        rows.append(row)
        sample_cols["step"] += [step] * B
        sample_cols["sample"] += list(range(B))
        for k in sample_cols:
            if k not in ("step", "sample"):
                v = sigma if k == "sigma" else terms[k]
                sample_cols[k] += v.detach().cpu().tolist()
        if progress:
            progress(step, config.steps, float(loss.detach()))
    metrics = pl.DataFrame(rows, schema_overrides={f"grad_norm_{k}": pl.Float64 for k in TERMS}) if rows else empty_metrics()
    return TrainResult(
        model.eval(), ctx_all, config, metrics, pl.DataFrame(sample_cols), status, time.perf_counter() - t0, str(device)
    )


def empty_metrics() -> pl.DataFrame:
    cols = {"step": pl.Int64, "loss": pl.Float64, "grad_norm": pl.Float64, "lr": pl.Float64, "sigma_median": pl.Float64}
    cols |= {f"loss_{k}": pl.Float64 for k in TERMS} | {f"grad_norm_{k}": pl.Float64 for k in TERMS}
    return pl.DataFrame(schema=cols)


def metrics_long(metrics: pl.DataFrame, what: str = "loss") -> pl.DataFrame:
    """Per-level columns (`loss_atom`, ...) as rows (step, term, value) for charts."""
    cols = [f"{what}_{k}" for k in TERMS]
    return (
        metrics.select("step", *cols)
        .unpivot(index="step", variable_name="term", value_name=what)
        .with_columns(pl.col("term").str.strip_prefix(f"{what}_"))
        .drop_nulls(what)
    )
