"""The seed article's claims, each decided in one notebook.

A claim decided in two places can get two verdicts in one run: "fine-tuned models respond faster" once
held in 04 (12 questions, one timer) and was not resolved in 05 (16 questions, another timer). Each claim
here names the one notebook whose cell gives its verdict; the other notebooks point there.
``tests/test_claims.py`` checks that every notebook labels a verdict only with the claims it owns.

Introduced in 04_side_by_side.ipynb.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SeedClaim", "SEED_CLAIMS", "seed_claim", "decided_elsewhere"]


@dataclass(frozen=True)
class SeedClaim:
    """One claim of the seed article and the notebook that decides it.

    Introduced in 04_side_by_side.ipynb.
    """

    text: str  # the claim, as the verdict tables print it
    notebook: str  # the notebook (file stem) whose cell gives the verdict


_04, _05 = "04_side_by_side", "05_cost_and_scale"
SEED_CLAIMS: dict[str, SeedClaim] = {
    "upfront_cost": SeedClaim("Cost: RAG has a lower upfront cost than fine-tuning", _05),
    "deploy_time": SeedClaim("Deployment time: RAG is faster to deploy", _05),
    "scale": SeedClaim("Scale: RAG handles thousands of documents efficiently", _05),
    "query_cost": SeedClaim("Cost: fine-tuning has a lower per-query cost than RAG", _04),
    "maintenance": SeedClaim("Maintenance: RAG absorbs changed knowledge faster than updating the fine-tune", _04),
    "stale": SeedClaim("Fine-tuned knowledge goes stale (ft gives old answers after the update)", _04),
    "accuracy": SeedClaim("Accuracy: RAG is more accurate than fine-tuning (fact cards, an upper bound)", _04),
    "accuracy_docs": SeedClaim("Accuracy: RAG is more accurate than fine-tuning on the documents", _04),
    "format": SeedClaim(
        "Behaviour: fine-tuning controls format (hybrid vs RAG's template, house style on questions both answered)",
        _04,
    ),
    "confidently_wrong": SeedClaim("Hallucination: RAG is confidently wrong less often than fine-tuning", _04),
    "confidently_wrong_docs": SeedClaim(
        "Hallucination: RAG is confidently wrong less often than fine-tuning on the documents", _04
    ),
    "declines_unanswerable": SeedClaim(
        "Hallucination: RAG declines unanswerable questions more often than fine-tuning", _04
    ),
    "latency": SeedClaim("Latency: fine-tuned models respond faster than RAG (batch 1, p50)", _04),
    "hybrid_accuracy": SeedClaim("Hybrid: more accurate than RAG", _04),
    "hybrid_confidently_wrong": SeedClaim("Hybrid: confidently wrong less often than RAG", _04),
    "hybrid_selective": SeedClaim(
        "Hybrid: right more often than RAG on the questions both answered (selective accuracy)", _04
    ),
    "hybrid_fresh": SeedClaim("Hybrid: up to date without retraining (v2 accuracy vs the stale ft)", _04),
}


def seed_claim(key: str) -> str:
    """The wording of seed claim ``key``, to label its verdict in the notebook that owns it.

    >>> seed_claim("latency")
    'Latency: fine-tuned models respond faster than RAG (batch 1, p50)'

    Introduced in 04_side_by_side.ipynb.
    """
    if key not in SEED_CLAIMS:
        raise KeyError(f"no seed claim {key!r}; the claims are: {', '.join(SEED_CLAIMS)}")
    return SEED_CLAIMS[key].text


def decided_elsewhere(notebook: str) -> list[str]:
    """The claims another notebook decides than ``notebook`` (to point the learner there).

    >>> decided_elsewhere("05_cost_and_scale")[:1]
    ['Cost: fine-tuning has a lower per-query cost than RAG (notebook 04)']

    Introduced in 04_side_by_side.ipynb.
    """
    return [f"{c.text} (notebook {c.notebook[:2]})" for c in SEED_CLAIMS.values() if c.notebook != notebook]
