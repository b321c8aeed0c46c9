"""The multiscale denoiser: a backbone wrapped in per-level EDM preconditioning.

    D = MultiscalePrecond(backbone)      preconditioner.py: c_skip, c_out, c_in, c_noise per level
    backbone, arch='transformer'         transformer.py: attention on raw coordinates, local at the atom level (not equivariant)
              arch='geometric'           geometric.py: k-nearest-neighbour attention, scalar and vector
                                         states, F(R x + t) = R F(x) (shaped like the reviewed trunk)

Both backbones read the same inputs (inputs.py) and couple levels the same way (up by
segment means, down by broadcast).  `ModelConfig` holds the architecture, its size and
the switches of pitfalls 2 (precond_sigma), 6 (noise_conditioning) and 7 (identity);
`build_denoiser` builds the model it describes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from torch import nn

from ..core.errors import ParameterError
from .context import Context
from .geometric import MultiscaleGeometric
from .inputs import IDENTITIES
from .preconditioner import NOISE_CONDITIONINGS, PRECISIONS, PRECOND_SIGMAS, MultiscalePrecond
from .transformer import MultiscaleTransformer

ARCHITECTURES = ("transformer", "geometric")
# Attention heads when ModelConfig.heads is None.  The transformer: head dim 32 at width 64, as AF3's atom
# transformer (128 wide, 4 heads); head dim 16 runs its attention at half the speed on CPU (issue 11).
DEFAULT_HEADS = {"transformer": 2, "geometric": 4}


@dataclass(frozen=True)
class ModelConfig:
    width: int = 64
    heads: int | None = None  # None: the backbone's own, DEFAULT_HEADS
    blocks: int = 2
    precond_sigma: str = "raw"
    noise_conditioning: str = "shared"
    identity: str = "none"
    arch: str = "transformer"
    neighbours: int = 16  # k of the geometric backbone's nearest-neighbour attention
    atom_window: int = 256  # keys each block of atoms sees in the transformer's atom track (all atoms up to this many)
    residue_window: int = 256  # the same for its residue track (all residues up to this many)
    precision: str = "fp32"  # "bf16": the backbone under bfloat16 autocast (preconditioner.py)

    def __post_init__(self):
        for name, allowed in (
            ("arch", ARCHITECTURES),
            ("precond_sigma", PRECOND_SIGMAS),
            ("noise_conditioning", NOISE_CONDITIONINGS),
            ("identity", IDENTITIES),
            ("precision", PRECISIONS),
        ):
            if getattr(self, name) not in allowed:
                raise ParameterError(f"{name} must be one of {allowed} (got {getattr(self, name)!r})")
        if self.width < 1 or self.n_heads < 1 or self.width % self.n_heads:
            raise ParameterError(f"width ({self.width}) must be a positive multiple of heads ({self.n_heads})")
        if self.blocks < 0:
            raise ParameterError(f"blocks must be >= 0 (got {self.blocks})")
        for name in ("atom_window", "residue_window"):
            if getattr(self, name) < 4 or getattr(self, name) % 4:
                raise ParameterError(f"{name} must be a multiple of 4, >= 4 (got {getattr(self, name)})")
        if self.neighbours < 1:
            raise ParameterError(f"neighbours must be >= 1 (got {self.neighbours})")

    @property
    def n_heads(self) -> int:
        return DEFAULT_HEADS[self.arch] if self.heads is None else self.heads

    def as_dict(self) -> dict:
        return asdict(self)


def build_denoiser(config: ModelConfig, ctx: Context, sigma_data: float) -> MultiscalePrecond:
    """The denoiser `config` describes, for the structures of `ctx` (call `torch.manual_seed` first to fix its weights)."""
    size = (config.width, config.n_heads, config.blocks, config.identity)
    if config.arch == "geometric":
        backbone = MultiscaleGeometric(ctx, sigma_data, *size, neighbours=config.neighbours)
    else:
        backbone = MultiscaleTransformer(ctx, *size, atom_window=config.atom_window, residue_window=config.residue_window)
    return MultiscalePrecond(backbone, sigma_data, config.precond_sigma, config.noise_conditioning, config.precision)


def n_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
