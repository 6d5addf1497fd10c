"""The price sheet: the shipped one loads; every malformed line is refused naming its line and field."""

import hashlib

import pytest

import labkit as lk

HEADER = "field,value,unit,source,date"
GOOD = [
    "machine_usd_per_hour,0.5,USD per hour,my cloud,2025-01",
    "vector_db_usd_per_month,20,USD per month,my vendor,2025-02-03",
]


def write(tmp_path, lines, name="prices.csv"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_shipped_sheet_loads_with_sources_and_dates():
    prices = lk.read_price_sheet()
    assert {p.field for p in prices} >= {"machine_usd_per_hour", "vector_db_usd_per_month"}
    assert all(p.source and p.date for p in prices)
    cm = lk.load_prices()
    assert cm.machine_usd_per_hour == next(p.value for p in prices if p.field == "machine_usd_per_hour")
    assert cm.api_usd_per_m_prompt_tokens is None  # empty value = self-hosted


def test_a_good_sheet_and_overrides(tmp_path):
    path = write(tmp_path, ["# my prices", HEADER, *GOOD, "", "api_usd_per_m_prompt_tokens,,USD,none,2025-01"])
    cm = lk.load_prices(path, vector_db_usd_per_month=0)
    assert (cm.machine_usd_per_hour, cm.vector_db_usd_per_month, cm.api_usd_per_m_prompt_tokens) == (0.5, 0, None)


@pytest.mark.parametrize(
    "bad_line, line_no, field, words",
    [
        ("machine_usd_per_hour,-1,USD per hour,x,2025-01", 3, "value", "not a price >= 0"),
        ("machine_usd_per_hour,abc,USD per hour,x,2025-01", 3, "value", "not a number"),
        ("machine_usd_per_hour,nan,USD per hour,x,2025-01", 3, "value", "not a price"),
        ("gpu_per_hour,1,USD,x,2025-01", 3, "field", "unknown price"),
        ("machine_usd_per_hour,1,USD,,2025-01", 3, "source", "say where"),
        ("machine_usd_per_hour,1,USD,x,last year", 3, "date", "not a date"),
        ("machine_usd_per_hour,,USD,x,2025-01", 3, "value", "needs a number"),
    ],
)
def test_bad_line_names_file_line_and_field(tmp_path, bad_line, line_no, field, words):
    # line 1 a comment, 2 the header, 3 the bad line, then the good ones (one of them a duplicate field).
    others = [g for g in GOOD if not g.startswith(bad_line.split(",")[0])]
    path = write(tmp_path, ["# comment", HEADER, bad_line, *others])
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(lk.PriceSheetError) as e:
        lk.load_prices(path)
    msg = str(e.value)
    assert f"{path} line {line_no}" in msg and f"field '{field}'" in msg and words in msg
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before  # the user's file is untouched


@pytest.mark.parametrize(
    "lines, words",
    [
        ([], "empty"),
        (["field,price,unit,source,date", *GOOD], "header must be"),
        ([HEADER, "machine_usd_per_hour,1,USD,x"], "4 columns"),
        ([HEADER, GOOD[0]], "no line for vector_db_usd_per_month"),
        ([HEADER, *GOOD, GOOD[0]], "already set on line 2"),
    ],
)
def test_bad_sheets(tmp_path, lines, words):
    with pytest.raises(lk.PriceSheetError, match=words):
        lk.read_price_sheet(write(tmp_path, lines))


def test_missing_and_non_utf8_files(tmp_path):
    with pytest.raises(lk.PriceSheetError, match="no such price sheet"):
        lk.read_price_sheet(tmp_path / "nope.csv")
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "\nmachine_usd_per_hour,1,USD,caf\xe9,2025-01\n").encode("latin-1"))
    with pytest.raises(lk.PriceSheetError, match="not UTF-8"):
        lk.read_price_sheet(path)


def test_the_compare_input_check_reads_the_sheet_before_any_model(tmp_path, monkeypatch):
    # the report prices with data/prices.csv at the end of the run: a bad sheet stops the run before it starts
    data = tmp_path / "data"
    data.mkdir()
    write(data, [HEADER, GOOD[0]])
    monkeypatch.setenv("LABKIT_DATA", str(data))
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("The ferry leaves at 10 past the hour from the North Pier.\n")
    with pytest.raises(lk.PriceSheetError, match="no line for vector_db_usd_per_month") as e:
        lk.own_docs.check_inputs(lk.CompareConfig(tmp_path / "docs", out=tmp_path / "r.html"))
    assert isinstance(e.value, lk.LabkitInputError)
