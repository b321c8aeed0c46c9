"""A 3-D view of a structure or a sampling trajectory, superposed on its target, that works offline.

3Dmol.js (BSD-3-Clause; npm package `3dmol`, the version and hash in VIEWER_JS below; `scripts/vendor_3dmol.sh`
fetches it again) is vendored in `report/vendor/` and inlined into an iframe, so the view needs no network in
`marimo edit`, `marimo run` and a static report alike.  The step slider lives inside the iframe: it still moves in
a static report, where marimo's own controls are frozen.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import torch

from ..core.geometry import superpose
from ..core.structure import Structure

VENDOR = Path(__file__).resolve().parent / "vendor"
VIEWER_JS = {
    "file": "3Dmol-min.js",
    "npm": "3dmol@2.5.5",
    "sha256": "f7cc78921ae72e7623e89cdd111434f58c2efddd2ffda1cd212644b406fb8016",
}
MOST_FRAMES = 60  # a longer trajectory is shown at evenly spaced steps (the first and last always)
COORD_LIMIT = 9999.0  # a PDB coordinate field holds 8.3 digits: farther atoms are drawn at the limit


def viewer_js() -> str:
    """The vendored 3Dmol.js, checked against its recorded hash."""
    data = (VENDOR / VIEWER_JS["file"]).read_bytes()
    if hashlib.sha256(data).hexdigest() != VIEWER_JS["sha256"]:
        raise RuntimeError(f"{VENDOR / VIEWER_JS['file']} is not {VIEWER_JS['npm']}: run scripts/vendor_3dmol.sh")
    return data.decode()


def pdb_model(structure: Structure, coords: np.ndarray, b: float) -> list[str]:
    """ATOM records of `structure` at `coords` (N, 3); the B-factor column tells sample (0) from target (1) apart."""
    xyz = np.clip(coords, -COORD_LIMIT, COORD_LIMIT)
    lines = []
    for i, (name, res, (x, y, z)) in enumerate(zip(structure.atom_name, structure.residue_index, xyz, strict=True)):
        chain = str(structure.chain_id[structure.residue_chain[res]])[:1] or "A"
        element = str(structure.element[i])[:2]
        lines.append(
            f"ATOM  {(i + 1) % 100000:5d} {name:<4s} {structure.residue_name[res][:3]:>3s} {chain}{(res + 1) % 10000:4d}    "
            f"{x:8.3f}{y:8.3f}{z:8.3f}  1.00{b:6.2f}          {element:>2s}"
        )
    return lines


def frame_steps(n_states: int, most: int = MOST_FRAMES) -> list[int]:
    """At most `most` evenly spaced state indices, the first and last included."""
    return sorted(set(np.linspace(0, n_states - 1, min(n_states, most)).round().astype(int).tolist()))


def trajectory_pdb(states: torch.Tensor, structure: Structure, steps: list[int]) -> str:
    """One MODEL per shown step: the state superposed on the target, followed by the target itself."""
    target = torch.as_tensor(structure.coords, dtype=torch.float64)
    fitted = superpose(states[steps].to(torch.float64), target.expand(len(steps), -1, -1)).numpy()
    ref = pdb_model(structure, structure.coords, 1.0)
    models = []
    for k, x in enumerate(fitted):
        models += [f"MODEL     {k + 1:4d}", *pdb_model(structure, x, 0.0), *ref, "ENDMDL"]
    return "\n".join(models) + "\nEND\n"


def trajectory_view(states: torch.Tensor, structure: Structure, captions: list[str], height: int = 460):
    """An iframe with the states (T, N, 3) in 3-D, coloured by residue (blue → red along the sequence), the target in
    grey, and a slider over the steps (starting at the last); `captions[t]` labels state t.  Each state is superposed on
    the target first."""
    import marimo as mo

    if states.ndim != 3 or states.shape[1:] != (structure.n_atoms, 3) or len(captions) != len(states):
        raise ValueError(f"states {tuple(states.shape)} and {len(captions)} captions do not fit {structure.n_atoms} atoms")
    steps = frame_steps(len(states))
    page = _PAGE.format(
        js=viewer_js(),
        pdb=json.dumps(trajectory_pdb(states, structure, steps)),
        captions=json.dumps([captions[s] for s in steps]),
        last=len(steps) - 1,
        residues=structure.n_residues,
        height=height - 70,
    )
    return mo.iframe(page, height=f"{height}px")


def trajectory_section(traj, target: Structure, target_word: str = "target"):
    """A heading and the 3-D view of sample 0 of a sampled trajectory (`traj.x` (T, samples, N, 3), `traj.sigmas`)."""
    import marimo as mo

    captions = [f"step {t}: σ = {s:.3g} Å" for t, s in enumerate(traj.sigmas)]
    return mo.vstack(
        [
            mo.md(
                f"## The trajectory in 3-D (sample 0, every step superposed on the {target_word}, grey)\n"
                "The slider below the view moves through the steps, also in a static report."
            ),
            trajectory_view(traj.x[:, 0], target, captions),
        ]
    )


_PAGE = """<!doctype html><html><head><meta charset="utf-8"><script>{js}</script>
<style>body{{margin:0;font:13px sans-serif}} #v{{width:100%;height:{height}px;position:relative}}
#bar{{display:flex;gap:10px;align-items:center;padding:6px 4px}} #s{{flex:1}}</style></head><body>
<div id="v"></div>
<div id="bar"><label for="s">step</label><input id="s" type="range" min="0" max="{last}" value="{last}">
<span id="cap"></span></div>
<div style="padding:0 4px;color:#555">Colour: residue number along the sequence, red (first) through yellow and
green to blue (last); grey: the target. Drag to rotate, scroll to zoom.</div>
<script>
const captions = {captions};
const viewer = $3Dmol.createViewer(document.getElementById("v"), {{backgroundColor: "white"}});
viewer.addModelsAsFrames({pdb}, "pdb");
const target = {{predicate: a => a.b > 0.5}}, sample = {{predicate: a => a.b < 0.5}};
viewer.setStyle(target, {{stick: {{radius: 0.12, color: "#9a9a9a"}}}});
viewer.setStyle(sample, {{stick: {{radius: 0.22, colorscheme: {{prop: "resi", gradient: "roygb", min: 1, max: {residues}}}}},
                         sphere: {{scale: 0.28, colorscheme: {{prop: "resi", gradient: "roygb", min: 1, max: {residues}}}}}}});
const slider = document.getElementById("s"), cap = document.getElementById("cap");
function show(k) {{ cap.textContent = captions[k]; viewer.setFrame(k).then(() => viewer.render()); }}
slider.addEventListener("input", () => show(Number(slider.value)));
viewer.zoomTo(target);
show({last});
window.viewerReady = true;
</script></body></html>"""
