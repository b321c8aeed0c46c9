from dataclasses import replace

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from pomodoro_core.core.hierarchy import Hierarchy, broadcast, segment_mean, stack_coords
from pomodoro_core.core.structure import contiguous_crop


@st.composite
def segment_sizes(draw):
    return draw(st.lists(st.integers(1, 8), min_size=1, max_size=30))


@settings(max_examples=60, deadline=None)
@given(segment_sizes(), st.integers(1, 4))
def test_reduce_of_broadcast_is_identity(sizes, batch):
    index = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
    y = torch.randn(batch, len(sizes), 3, dtype=torch.float64)
    back = segment_mean(broadcast(y, index), index, len(sizes))
    assert torch.allclose(back, y)


@settings(max_examples=40, deadline=None)
@given(segment_sizes())
def test_segment_mean_matches_dense_mapping(sizes):
    index = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
    x = torch.randn(1, index.numel(), 3, dtype=torch.float64)
    M = torch.nn.functional.one_hot(index, len(sizes)).double()  # the reviewed dense form
    dense = (M.T @ x[0]) / M.sum(0, keepdim=True).T
    assert torch.allclose(segment_mean(x, index, len(sizes))[0], dense)


def test_batched_padding_equals_unbatched(complex_4e43, dimer_crop):
    small = contiguous_crop(complex_4e43, 20, seed=0)
    structures = [small, dimer_crop]
    hb = Hierarchy.from_structures(structures)
    xb = stack_coords(structures, dtype=torch.float64)
    xb[0, small.n_atoms :] = 1e6  # padding must not leak into any mean
    rb = hb.residue_centroids(xb)
    cb = hb.chain_centroids(rb)
    for b, s in enumerate(structures):
        h = Hierarchy.from_structure(s)
        x = torch.as_tensor(s.coords).unsqueeze(0)
        r = h.residue_centroids(x)
        assert torch.allclose(rb[b, : s.n_residues], r[0])
        assert torch.allclose(cb[b, : s.n_chains], h.chain_centroids(r)[0])
        assert torch.allclose(hb.residues_to_atoms(rb)[b, : s.n_atoms], h.residues_to_atoms(r)[0])


def test_residue_centroids_of_a_real_structure(dimer_crop):
    h = Hierarchy.from_structure(dimer_crop)
    r = h.residue_centroids(torch.as_tensor(dimer_crop.coords).unsqueeze(0))[0].numpy()
    for k in (0, 7, dimer_crop.n_residues - 1):
        assert np.allclose(r[k], dimer_crop.coords[dimer_crop.residue_index == k].mean(axis=0))
    assert h.atom_chain[0].numpy().tolist() == dimer_crop.chain_index.tolist()


def test_index_tensors_are_linear_in_size(dimer_crop):
    h = Hierarchy.from_structure(dimer_crop)
    total = sum(t.numel() for t in (h.atom_residue, h.residue_chain, h.atom_mask, h.residue_mask, h.chain_mask))
    assert total <= 2 * (dimer_crop.n_atoms + dimer_crop.n_residues + dimer_crop.n_chains)
    with pytest.raises(RuntimeError):
        broadcast(torch.zeros(1, 2, 3), torch.tensor([0, 5]))


def test_padding_masks_are_decided_on_the_host_and_agree_with_the_masks(complex_4e43, dimer_crop):
    """A level's mask is None exactly where no structure of the batch is padded at that level, before and after
    `select`, with the sizes (host ints) and without them (read from the masks)."""
    small = contiguous_crop(complex_4e43, 20, seed=0)
    h = Hierarchy.from_structures([small, dimer_crop])
    assert h.sizes == ((small.n_atoms, 20, small.n_chains), (dimer_crop.n_atoms, dimer_crop.n_residues, dimer_crop.n_chains))
    bigger = 0 if small.n_atoms > dimer_crop.n_atoms else 1
    for index in ([0, 1], [bigger, bigger], [1 - bigger]):
        picked = h.select(torch.tensor(index))
        from_masks = replace(picked, sizes=None).padding_masks()
        for lvl, m in picked.padding_masks().items():
            assert (m is None) == (from_masks[lvl] is None) == bool(getattr(picked, f"{lvl}_mask").all())
    copies = Hierarchy.from_structure(small).select(torch.zeros(5, dtype=torch.long))
    assert copies.sizes == h.sizes[:1] * 5 and all(m is None for m in copies.padding_masks().values())
