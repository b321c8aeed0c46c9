"""The geometric backbone F: local attention with scalar and vector states, rotation-equivariant by construction.

Shaped like the reviewed model's trunk (the geometric-transformer family of PeSTo:
scalar and vector states per unit, attention over nearest neighbours from relative
positions), written from the equations below.  Per level l (atoms, residue centroids,
chain centroids) every unit i carries

    h_i (width)   scalar state: invariant under rotations and translations
    V_i (3, C)    vector state: rotates with the structure, unchanged by translations

and sits at p_i = sigma_data c_in x_i (Angstrom at low noise).  Neighbours: the k
nearest units of the same level and sample (`torch.cdist` + `topk`, self included),
found once per forward pass (positions are inputs, not states).

    r_ij = p_j - p_i,  d_ij = (|r_ij|^2 + eps)^1/2,  e_ij = RBF(d_ij),  u_ij = r_ij / (|r_ij|^2 + 1)^1/2
    a_ij = softmax_j <W_q h_i, W_k h_j> / sqrt(d_head) + E_k e_ij      (per head; attention width = width / 2)
    h_i += W_o [sum_j a_ij W_v h_j, sum_j a_ij e_ij]
    g_ij, f_ij = G h_j + E_g e_ij                                       (invariant: one number per channel)
    V_i += sum_j a_ij ( (V_j M) g_ij + u_ij f_ij )
    h_i += MLP([h_i, |V_i|]);   V_i += (V_i M') sigmoid(W h_i) + (V_i A) x (V_i B)   (the two states meet)

Vectors are made only from differences of positions, and are only scaled by
invariants, mixed across channels or crossed, so F(R x + t) = R F(x) for every
rotation R and translation t.  The cross product flips sign under a mirror, so the
network is not mirror-equivariant: without it, a network of this family gives the
mirror image of every structure the same probability, and samples come out with a
random handedness.  With the preconditioning, D(R x + t) = R D(x) + c_skip t (the
loss superposes the target on D, so a global shift costs nothing).  The initial vector
of a unit is its offset from its parent (atom - residue centroid, residue - chain
centroid, chain - complex centroid); the output is F_l = sum_c V_c s_c(h), zero at
initialisation.  Levels are coupled as in the transformer: up by segment means, down
by broadcast, of both states.  Because it is equivariant, random rigid augmentation
(pitfall 4) cannot change what it can learn, only which random numbers it sees.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..core.hierarchy import LEVELS, Hierarchy
from .context import Context
from .inputs import InputEmbedding

WIDTH_PER_VECTOR_CHANNEL = 4
RBF_CENTRES = 16
RBF_RANGE = 20.0  # Angstrom: the radial basis covers 0 .. 20 A
RBF_CUTOFF = 30.0
EPS = 1e-6


def vector_channels(width: int, heads: int) -> int:
    """C vector channels: about width / 4, a multiple of heads (each head weighs its own channels)."""
    return heads * max(1, width // (WIDTH_PER_VECTOR_CHANNEL * heads))


def neighbours(p: torch.Tensor, mask: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices (B, n, k) of the k nearest units of each unit (itself first) and which of them are real units."""
    B, n, _ = p.shape
    k = min(k, n)
    with torch.no_grad():
        d = torch.cdist(p, p)
        d = d.masked_fill(~mask.expand(B, n)[:, None, :], float("inf"))
        d.diagonal(dim1=1, dim2=2).fill_(-1.0)  # self always first, padded or not (no empty softmax)
        idx = d.topk(k, dim=-1, largest=False).indices
    real = torch.gather(mask.expand(B, n), 1, idx.reshape(B, -1)).view(B, n, k)
    return idx, real | (idx == torch.arange(n, device=p.device)[None, :, None])


def gather_neighbours(t: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """t (B, n, *F) -> (B, n, k, *F): the rows of each unit's neighbours."""
    B, n, k = idx.shape
    flat = (idx + torch.arange(B, device=idx.device)[:, None, None] * n).reshape(-1)
    return t.reshape(B * n, *t.shape[2:]).index_select(0, flat).view(B, n, k, *t.shape[2:])


def vector_norm(V: torch.Tensor) -> torch.Tensor:
    """V (..., 3, C) scaled by its RMS channel length (plus 1): an equivariant normalisation for reading."""
    return V / (V.square().sum(-2, keepdim=True).mean(-1, keepdim=True) + 1.0).sqrt()


def rbf(d: torch.Tensor) -> torch.Tensor:
    """Gaussian radial basis (..., RBF_CENTRES) of distances in Angstrom."""
    centres = torch.linspace(0.0, RBF_RANGE, RBF_CENTRES, dtype=d.dtype, device=d.device)
    z2 = ((d.unsqueeze(-1) - centres) / (RBF_RANGE / (RBF_CENTRES - 1))).square()
    return torch.exp(-z2.clamp_max(RBF_CUTOFF))  # no denormal floats (slow on CPU): at most e^-30 apart


@dataclass(frozen=True)
class Neighbourhood:
    """The k nearest units of every unit of one level, and the invariant and equivariant edge features."""

    idx: torch.Tensor  # (B, n, k) long, self first
    real: torch.Tensor  # (B, n, k) bool: the neighbour is a real unit (not padding)
    e: torch.Tensor  # (B, n, k, R) RBF of the distance d_ij
    u: torch.Tensor  # (B, n, k, 3) r_ij / (|r_ij|^2 + 1)^1/2

    @classmethod
    def of(cls, p: torch.Tensor, mask: torch.Tensor, k: int) -> Neighbourhood:
        idx, real = neighbours(p, mask, k)
        r = gather_neighbours(p, idx) - p.unsqueeze(2)
        r2 = r.square().sum(-1)
        return cls(idx, real, rbf((r2 + EPS).sqrt()), r / (r2 + 1.0).sqrt().unsqueeze(-1))


class GeometricAttention(nn.Module):
    """One level's update: attention over the k nearest units, then the node update."""

    def __init__(self, width: int, heads: int, channels: int):
        super().__init__()
        self.heads, self.channels, self.head_dim = heads, channels, max(1, width // (2 * heads))
        A = heads * self.head_dim  # attention width (width / 2): the per-edge tensors dominate the cost
        self.norm_h, self.norm_node = nn.LayerNorm(width), nn.LayerNorm(width)
        self.q = nn.Linear(width, A, bias=False)
        self.kvg = nn.Linear(width, 2 * A + 2 * channels, bias=False)  # W_k, W_v and G, gathered together
        self.edge_logit = nn.Linear(RBF_CENTRES, heads)  # E_k
        self.edge_gates = nn.Linear(RBF_CENTRES, 2 * channels)  # E_g
        self.o = nn.Linear(A + heads * RBF_CENTRES, width)  # W_o on [sum a W_v h_j, sum a e_ij]
        self.mix = nn.Linear(channels, channels, bias=False)  # M
        self.node = nn.Sequential(nn.Linear(width + channels, 2 * width), nn.SiLU(), nn.Linear(2 * width, width))
        self.node_mix, self.node_gate = nn.Linear(channels, channels, bias=False), nn.Linear(width, channels)
        self.cross_a, self.cross_b = nn.Linear(channels, channels, bias=False), nn.Linear(channels, channels, bias=False)

    def forward(self, h: torch.Tensor, V: torch.Tensor, nb: Neighbourhood) -> tuple[torch.Tensor, torch.Tensor]:
        B, n, W = h.shape
        H, C, dh = self.heads, self.channels, self.head_dim
        k = nb.idx.shape[-1]
        x = self.norm_h(h)
        node = torch.cat([self.kvg(x), self.mix(vector_norm(V)).reshape(B, n, 3 * C)], -1)
        key, value, gates, Vj = gather_neighbours(node, nb.idx).split([H * dh, H * dh, 2 * C, 3 * C], -1)

        # scalars: attention over the neighbours, a_ij per head
        q = self.q(x).view(B, n, 1, H, dh)
        logits = (q * key.view(B, n, k, H, dh)).sum(-1) / dh**0.5 + self.edge_logit(nb.e)
        a = logits.masked_fill(~nb.real.unsqueeze(-1), float("-inf")).softmax(dim=2)  # (B, n, k, H)
        m = (a.unsqueeze(-1) * value.view(B, n, k, H, dh)).sum(2).reshape(B, n, H * dh)
        m_edge = (a.unsqueeze(-1) * nb.e.unsqueeze(3)).sum(2).reshape(B, n, -1)  # (B, n, H R)
        h = h + self.o(torch.cat([m, m_edge], -1))

        # vectors: neighbours' vectors and relative positions, weighed by invariant gates
        g, f = (gates + self.edge_gates(nb.e)).chunk(2, dim=-1)  # (B, n, k, C) each
        a_c = a.repeat_interleave(C // H, dim=-1)  # each head weighs its C/H channels
        message = Vj.view(B, n, k, 3, C) * (a_c * g).unsqueeze(3) + nb.u.unsqueeze(-1) * (a_c * f).unsqueeze(3)
        V = V + message.sum(2)

        # the two states meet: lengths of vectors into the scalars, scalar gates on the vectors, and a
        # cross product (rotates with x but flips sign under a mirror: the network can tell a chirality)
        Vn = vector_norm(V)
        lengths = (Vn.square().sum(-2) + EPS).sqrt()  # (B, n, C) invariant
        h = h + self.node(torch.cat([self.norm_node(h), lengths], -1))
        gate = torch.sigmoid(self.node_gate(h)).unsqueeze(2)
        V = V + self.node_mix(Vn) * gate + torch.linalg.cross(self.cross_a(Vn), self.cross_b(Vn), dim=2)
        return h, V


def _vectors(op, V: torch.Tensor) -> torch.Tensor:
    """Apply a per-unit linear reduction or broadcast `op` (B, n, D) -> (B, m, D) to vectors (B, n, 3, C)."""
    B, n, three, C = V.shape
    out = op(V.reshape(B, n, three * C))
    return out.view(B, out.shape[1], three, C)


class GeometricBlock(nn.Module):
    """Up (atoms -> residues -> chains), attend at each level, down (chains -> residues -> atoms), both states."""

    def __init__(self, width: int, heads: int, channels: int):
        super().__init__()
        self.tracks = nn.ModuleDict({lvl: GeometricAttention(width, heads, channels) for lvl in LEVELS})
        self.up = nn.ModuleDict({lvl: nn.Linear(width, width) for lvl in ("residue", "chain")})
        self.down = nn.ModuleDict({lvl: nn.Linear(width, width) for lvl in ("atom", "residue")})
        self.up_v = nn.ModuleDict({lvl: nn.Linear(channels, channels, bias=False) for lvl in ("residue", "chain")})
        self.down_v = nn.ModuleDict({lvl: nn.Linear(channels, channels, bias=False) for lvl in ("atom", "residue")})

    def forward(self, h: dict, V: dict, nb: dict, hier: Hierarchy) -> tuple[dict, dict]:
        h, V = dict(h), dict(V)
        for lvl, reduce in (("residue", hier.residue_centroids), ("chain", hier.chain_centroids)):
            child = "atom" if lvl == "residue" else "residue"
            h[lvl] = h[lvl] + self.up[lvl](reduce(h[child]))
            V[lvl] = V[lvl] + self.up_v[lvl](_vectors(reduce, V[child]))
        h["chain"], V["chain"] = self.tracks["chain"](h["chain"], V["chain"], nb["chain"])
        for lvl, spread in (("residue", hier.chains_to_residues), ("atom", hier.residues_to_atoms)):
            parent = "chain" if lvl == "residue" else "residue"
            h[lvl] = h[lvl] + self.down[lvl](spread(h[parent]))
            V[lvl] = V[lvl] + self.down_v[lvl](_vectors(spread, V[parent]))
            h[lvl], V[lvl] = self.tracks[lvl](h[lvl], V[lvl], nb[lvl])
        return h, V


def parent_offsets(p: dict, hier: Hierarchy) -> dict[str, torch.Tensor]:
    """Each unit's position relative to its parent, measured within its own level (each level has its own c_in):
    atom - mean of its residue's atoms, residue - mean of its chain's residues, chain - mean of the chains."""
    return {
        "atom": p["atom"] - hier.residues_to_atoms(hier.residue_centroids(p["atom"])),
        "residue": p["residue"] - hier.chains_to_residues(hier.chain_centroids(p["residue"])),
        "chain": p["chain"] - hier.complex_centroid(p["chain"]),
    }


class MultiscaleGeometric(nn.Module):
    """F_l(x_in_l, c_noise_l) for every level from scalar and vector states; F(R x + t) = R F(x)."""

    def __init__(
        self,
        ctx: Context,
        sigma_data: float,
        width: int = 64,
        heads: int = 4,
        blocks: int = 2,
        identity: str = "none",
        neighbours: int = 16,
    ):
        super().__init__()
        self.length_scale, self.k = float(sigma_data), int(neighbours)
        C = vector_channels(width, heads)
        self.inputs = InputEmbedding(ctx, width, identity, coord_dims=0)
        self.offset = nn.ParameterDict({lvl: nn.Parameter(torch.randn(C) / C**0.5) for lvl in LEVELS})
        self.blocks = nn.ModuleList(GeometricBlock(width, heads, C) for _ in range(blocks))
        self.norm = nn.ModuleDict({lvl: nn.LayerNorm(width) for lvl in LEVELS})
        self.out = nn.ModuleDict({lvl: nn.Linear(width, C) for lvl in LEVELS})
        for head in self.out.values():  # F = 0 at initialisation (EDM / AF3 practice)
            nn.init.zeros_(head.weight)
            nn.init.zeros_(head.bias)

    def forward(self, x_in: dict, c_noise: dict, ctx: Context) -> dict[str, torch.Tensor]:
        """x_in[l] (B, n_l, 3) = c_in x_l,noisy; c_noise[l] (B,); ctx for the same B samples."""
        hier, masks = ctx.hierarchy, ctx.masks()
        p = {lvl: self.length_scale * x_in[lvl] for lvl in LEVELS}
        h = self.inputs(c_noise, ctx)
        V = {lvl: off.unsqueeze(-1) * self.offset[lvl] for lvl, off in parent_offsets(p, hier).items()}
        nb = {lvl: Neighbourhood.of(p[lvl], masks[lvl], self.k) for lvl in LEVELS}  # positions stay: found once
        for block in self.blocks:
            h, V = block(h, V, nb, hier)
        return {lvl: (vector_norm(V[lvl]) * self.out[lvl](self.norm[lvl](h[lvl])).unsqueeze(2)).sum(-1) for lvl in LEVELS}
