"""Denoising networks F(c_in x_noisy, c_noise)."""

from __future__ import annotations

import torch
from torch import nn


class PerAtomMLP(nn.Module):
    """The simplest F: the same MLP on every atom's (c_in x, c_noise).  Used untrained, as a probe.

    With zero_out (as AF3 and EDM-style models initialise their output layer) F = 0 at
    initialisation, so the loss at initialisation is the lambda-weighted target variance.
    """

    def __init__(self, hidden: int = 64, seed: int = 0, zero_out: bool = True):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.net = nn.Sequential(nn.Linear(4, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, 3))
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * (1.0 / max(p.shape[-1], 1)) ** 0.5)
            if zero_out:
                self.net[-1].weight.zero_()
                self.net[-1].bias.zero_()

    def forward(self, x_in: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        t = c_noise.reshape(-1, 1, 1).expand(x_in.shape[0], x_in.shape[1], 1).to(x_in.dtype)
        return self.net(torch.cat([x_in, t], dim=-1))
