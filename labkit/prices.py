"""The price sheet: ``data/prices.csv`` read into a ``CostModel``, every value checked, every error located.

Prices are the cost model's only assumptions, so they live in a file a learner edits, each with its source
and the date it was read. A malformed line stops the load with its line number and field; nothing is
guessed and the file is never written.

Introduced in 05_cost_and_scale.ipynb.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from pathlib import Path

from .cost import CostModel
from .data import data_dir
from .files import LabkitInputError, read_csv, where

__all__ = ["PriceSheetError", "Price", "read_price_sheet", "load_prices"]

HEADER = ["field", "value", "unit", "source", "date"]
# Fields a sheet may set, and whether an empty value is allowed (it means "not billed that way").
FIELDS = {
    "machine_usd_per_hour": False,
    "vector_db_usd_per_month": False,
    "embed_api_usd_per_m_tokens": True,
    "api_usd_per_m_prompt_tokens": True,
    "api_usd_per_m_completion_tokens": True,
}
_DATE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")


class PriceSheetError(LabkitInputError):
    """A price sheet that cannot be read; the message names the file, line and field.

    Introduced in 05_cost_and_scale.ipynb.
    """


@dataclasses.dataclass(frozen=True)
class Price:
    """One line of the sheet: a CostModel field, its value (None = not billed that way), and its provenance.

    Introduced in 05_cost_and_scale.ipynb.
    """

    field: str
    value: float | None
    unit: str
    source: str
    date: str
    line: int


def _default_path() -> Path:
    return data_dir() / "prices.csv"


def read_price_sheet(path: str | Path | None = None) -> list[Price]:
    """Read and check every line of a price sheet (default: the workbook's ``data/prices.csv``).

    >>> [p.field for p in read_price_sheet()][:2]
    ['machine_usd_per_hour', 'vector_db_usd_per_month']

    Introduced in 05_cost_and_scale.ipynb.
    """
    path = Path(path) if path is not None else _default_path()
    missing = "no such price sheet. Copy data/prices.csv and edit its values."
    head_line, header, rows = read_csv(path, missing, PriceSheetError, comment="#")
    if not header:
        raise PriceSheetError(f"{path}: empty. It needs the header line {','.join(HEADER)} and one line per price.")
    if header != HEADER:
        raise PriceSheetError(
            f"{where(path, head_line)}: the header must be {','.join(HEADER)}, got {','.join(header)}; fix the header."
        )
    prices, seen = [], {}
    for line, row in rows:
        prices.append(_parse_row(path, line, row, seen))
    missing = [f for f, optional in FIELDS.items() if not optional and f not in seen]
    if missing:
        raise PriceSheetError(f"{path}: no line for {', '.join(missing)}; add one (see data/prices.csv for the form).")
    return prices


def _parse_row(path: Path, line: int, row: dict[str, str], seen: dict) -> Price:
    at = functools.partial(where, path, line)  # at('value'): this line's field 'value'
    name, value, unit, source, date = (row[h] for h in HEADER)
    if name not in FIELDS:
        raise PriceSheetError(f"{at('field')}: unknown price {name!r}; known: {', '.join(FIELDS)}.")
    if name in seen:
        raise PriceSheetError(f"{at('field')}: {name} is already set on line {seen[name]}; keep one.")
    seen[name] = line
    if value == "":
        if not FIELDS[name]:
            raise PriceSheetError(f"{at('value')}: {name} needs a number (0 if it costs nothing).")
        number = None
    else:
        try:
            number = float(value)
        except ValueError:
            raise PriceSheetError(f"{at('value')}: {value!r} is not a number (write e.g. 0.0864).") from None
        if not math.isfinite(number) or number < 0:
            raise PriceSheetError(f"{at('value')}: {name} = {value} is not a price >= 0 in {unit or 'USD'}.")
    if not source:
        raise PriceSheetError(f"{at('source')}: say where {name}'s price comes from (a page, or 'my own').")
    if not _DATE.match(date):
        raise PriceSheetError(f"{at('date')}: {date!r} is not a date like 2025-09 or 2025-09-01.")
    return Price(name, number, unit, source, date, line)


def load_prices(path: str | Path | None = None, **overrides) -> CostModel:
    """A ``CostModel`` from a price sheet; ``overrides`` replace single fields (e.g. ``vector_db_usd_per_month=0``).

    >>> load_prices(vector_db_usd_per_month=0).vector_db_usd_per_month
    0

    Introduced in 05_cost_and_scale.ipynb.
    """
    values = {p.field: p.value for p in read_price_sheet(path)}
    return CostModel(**{**values, **overrides})
