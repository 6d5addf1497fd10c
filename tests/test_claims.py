"""Each seed claim is decided in one notebook: labelled there with ``lk.seed_claim`` and nowhere else."""

import re
from pathlib import Path

import pytest

import labkit as lk

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("[0-9][0-9]_*.py"))
LABEL = re.compile(r"""seed_claim\(\s*["'](\w+)["']\s*\)""")


def labels_in(path: Path) -> list[str]:
    return LABEL.findall(path.read_text(encoding="utf-8"))


def test_every_claim_is_decided_in_its_own_notebook_and_only_there():
    used = {nb.stem: labels_in(nb) for nb in NOTEBOOKS}
    for key, c in lk.SEED_CLAIMS.items():
        deciders = [stem for stem, keys in used.items() if key in keys]
        assert deciders == [c.notebook], f"claim {key!r} is decided in {deciders}, not only in {c.notebook}"
        assert used[c.notebook].count(key) == 1, f"{c.notebook} labels two verdicts {key!r}"


def test_no_notebook_writes_an_owned_claim_by_hand():
    """A claim's wording typed as a string would dodge the label check above."""
    for nb in NOTEBOOKS:
        text = nb.read_text(encoding="utf-8")
        for key, c in lk.SEED_CLAIMS.items():
            assert c.text not in text, f"{nb.name} spells out claim {key!r}: label it lk.seed_claim({key!r})"


def test_the_label_scan_finds_a_second_decider(tmp_path):
    twice = tmp_path / "99_twice.py"
    twice.write_text('v = lk.verdict(a, b)\nlabel = lk.seed_claim("latency")\nlk.seed_claim( "scale" )\n')
    assert labels_in(twice) == ["latency", "scale"]


@pytest.mark.parametrize("key", ["", "Latency", "faster"])
def test_an_unknown_claim_names_the_known_ones(key):
    with pytest.raises(KeyError, match="hybrid_fresh"):
        lk.seed_claim(key)


def test_decided_elsewhere_lists_the_other_notebooks_claims():
    elsewhere = lk.decided_elsewhere("04_side_by_side")
    assert len(elsewhere) == sum(c.notebook != "04_side_by_side" for c in lk.SEED_CLAIMS.values()) > 0
    assert all(text.endswith("(notebook 05)") for text in elsewhere)
    assert len(lk.decided_elsewhere("05_cost_and_scale")) + len(elsewhere) == len(lk.SEED_CLAIMS)
