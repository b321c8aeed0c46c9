from pathlib import Path

import pytest

from pomodoro_core.core.structure import contiguous_crop, find_structure, load_structure, spatial_crop

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def complex_4e43():
    return load_structure(find_structure("4E43"))


@pytest.fixture(scope="session")
def dimer_crop():
    """A two-chain spatial crop of the 1hvr homodimer (the chain level is real)."""
    return spatial_crop(load_structure(find_structure("1hvr")), 32, seed=0)


@pytest.fixture(scope="session")
def crop():
    """A 12-residue contiguous crop of 5PTI (one chain)."""
    return contiguous_crop(load_structure(find_structure("5PTI")), 12, seed=0)
