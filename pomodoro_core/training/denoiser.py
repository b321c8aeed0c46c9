"""The multiscale denoiser: a backbone wrapped in per-level EDM preconditioning.

    D = MultiscalePrecond(backbone)      preconditioner.py: c_skip, c_out, c_in, c_noise per level
    backbone = MultiscaleTransformer     transformer.py: attention within levels, up by means, down by broadcast

`ModelConfig` holds the backbone's size and the switches of pitfalls 2 (precond_sigma),
6 (noise_conditioning) and 7 (identity); `build_denoiser` builds the model it describes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from torch import nn

from ..core.errors import ParameterError
from .context import Context
from .preconditioner import NOISE_CONDITIONINGS, PRECOND_SIGMAS, MultiscalePrecond
from .transformer import IDENTITIES, MultiscaleTransformer


@dataclass(frozen=True)
class ModelConfig:
    width: int = 64
    heads: int = 4
    blocks: int = 2
    precond_sigma: str = "raw"
    noise_conditioning: str = "shared"
    identity: str = "none"

    def __post_init__(self):
        for name, allowed in (
            ("precond_sigma", PRECOND_SIGMAS),
            ("noise_conditioning", NOISE_CONDITIONINGS),
            ("identity", IDENTITIES),
        ):
            if getattr(self, name) not in allowed:
                raise ParameterError(f"{name} must be one of {allowed} (got {getattr(self, name)!r})")
        if self.width < 1 or self.heads < 1 or self.width % self.heads:
            raise ParameterError(f"width ({self.width}) must be a positive multiple of heads ({self.heads})")
        if self.blocks < 0:
            raise ParameterError(f"blocks must be >= 0 (got {self.blocks})")

    def as_dict(self) -> dict:
        return asdict(self)


def build_denoiser(config: ModelConfig, ctx: Context, sigma_data: float) -> MultiscalePrecond:
    """The denoiser `config` describes, for the structures of `ctx` (call `torch.manual_seed` first to fix its weights)."""
    backbone = MultiscaleTransformer(ctx, config.width, config.heads, config.blocks, config.identity)
    return MultiscalePrecond(backbone, sigma_data, config.precond_sigma, config.noise_conditioning)


def n_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
