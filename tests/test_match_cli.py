"""``leadroute match`` and ``route --accounts`` end to end, bad inputs, and the missing
extra: one line naming file, row and column (or the extra), exit 2, nothing written."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("rapidfuzz", reason="needs the 'match' extra")

from solver.app import cli  # noqa: E402

ACCOUNTS = ("account_id,name,domain,website,country,parent_account_id\n"
            "A1,Acme Corp,acme.com,,US,\nA2,Acme GmbH,acme.de,,DE,A1\n"
            "A3,Novalink Analytics Inc.,,https://novalink.io,US,\n")
LEADS = ("lead_id,email,company,website,country,name,effort\n"
         "L1,jo@eu.acme.com,,,US,Jo Doe,1\nL2,kai@acme.de,,,DE,Kai Kern,1\n"
         "L3,zed@gmail.com,Novalink Analytcs,,US,Zed Zhu,1\nL4,JO@eu.acme.com,,,US,Jo Doe,1\n"
         "L5,,Novalink Dental,,US,,1\n")
REPS = "rep_id,capacity\nR1,3\nR2,3\n"
SCORES = ("lead_id,rep_id,score\nL1,R1,0.5\nL1,R2,0.4\nL2,R1,0.3\nL2,R2,0.6\n"
          "L3,R1,0.3\nL3,R2,0.5\nL4,R2,0.9\nL5,R1,0.3\n")
MATCH_COLUMNS = ["lead_id", "account_id", "confidence", "method", "reason", "duplicate_of"]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {}
    for name, text in (("leads", LEADS), ("accounts", ACCOUNTS), ("reps", REPS),
                       ("scores", SCORES)):
        paths[name] = tmp_path / f"{name}.csv"
        paths[name].write_text(text)
    paths["out"] = tmp_path / "out.csv"
    return paths


def run_main(args: list[str], monkeypatch: pytest.MonkeyPatch,
             capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["leadroute", *args])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 1), capsys.readouterr().err


def _match(files: dict[str, Path], *extra: str) -> list[str]:
    return ["match", "--leads", str(files["leads"]), "--accounts", str(files["accounts"]),
            "--out", str(files["out"]), "--quiet", *extra]


def _route(files: dict[str, Path], *extra: str) -> list[str]:
    return ["route", "--leads", str(files["leads"]), "--reps", str(files["reps"]),
            "--scores", str(files["scores"]), "--accounts", str(files["accounts"]),
            "--out", str(files["out"]), "--quiet", *extra]


def test_match_writes_one_row_per_lead(files: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_main(_match(files), monkeypatch, capsys)
    assert code == 0, err
    out = pd.read_csv(files["out"], keep_default_na=False, dtype=str)
    assert out.columns.tolist() == MATCH_COLUMNS
    assert out["lead_id"].tolist() == ["L1", "L2", "L3", "L4", "L5"]
    assert out["account_id"].tolist() == ["A1", "A2", "A3", "A1", ""]
    assert out["duplicate_of"].tolist() == ["", "", "", "L1", ""]


def test_route_fills_accounts_and_sends_duplicates_with_the_first_lead(
        files: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_main(_route(files), monkeypatch, capsys)
    assert code == 0, err
    out = pd.read_csv(files["out"], keep_default_na=False).set_index("lead_id")
    assert out.index.tolist() == ["L1", "L2", "L3", "L4", "L5"]
    assert "account A1 matched by email domain" in out.loc["L1", "reason"]
    assert out.loc["L4", "rep_id"] == out.loc["L1", "rep_id"] != ""
    assert out.loc["L4", "reason"].startswith("duplicate of L1")


def test_route_drops_duplicates_when_the_policy_says_so(
        files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[match]\nduplicates = "drop"\nmin_confidence = 0.9\n')
    code, err = run_main(_route(files, "--policy", str(policy)), monkeypatch, capsys)
    assert code == 0, err
    out = pd.read_csv(files["out"], keep_default_na=False).set_index("lead_id")
    assert (out.loc["L4", "status"], out.loc["L4", "rep_id"]) == ("unassigned", "")
    assert "dropped" in out.loc["L4", "reason"]
    assert "matched" not in out.loc["L3", "reason"]  # typo match 0.88 < 0.9


def test_min_match_confidence_flag_wins_over_the_policy(
        files: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_main(_route(files, "--min-match-confidence", "0.99"), monkeypatch, capsys)
    assert code == 0, err
    out = pd.read_csv(files["out"], keep_default_na=False).set_index("lead_id")
    assert not out["reason"].str.contains("matched by").any()


@pytest.mark.parametrize("table, text, message", [
    ("leads", "lead_id,email\nL1,not-an-email\n", r"leads\.csv, row 1, column 'email'"),
    ("leads", "lead_id,email\nL1,a@b.com\nL1,c@d.com\n", r"row 2, column 'lead_id'.*dupl"),
    ("leads", "lead_id,website\nL1,localhost\n", r"row 1, column 'website'.*web domain"),
    ("leads", "email\na@b.com\n", r"column 'lead_id'.*missing"),
    ("accounts", "account_id,name\nA1,Acme\nA1,Other\n", r"accounts\.csv, row 2, column "
     r"'account_id'.*duplicate"),
    ("accounts", "account_id,name\nA1,\n", r"row 1, column 'name'"),
    ("accounts", "account_id\nA1\n", r"column 'name'.*missing"),
    ("accounts", "account_id,name,domain\nA1,Acme,not a domain\n", r"row 1, column 'domain'"),
    ("accounts", "account_id,name,parent_account_id\nA1,Acme,A9\n",
     r"row 1, column 'parent_account_id'.*unknown parent"),
    ("accounts", "account_id,name,parent_account_id\nA1,Acme,A2\nA2,Beta,A1\n",
     r"column 'parent_account_id'.*cycle"),
    ("accounts", "", r"accounts\.csv.*empty"),
])
def test_bad_input_one_line_exit_2_nothing_written(
        files: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], table: str, text: str, message: str) -> None:
    from models.matching import match_leads
    from solver import InputError

    files[table].write_text(text)
    with pytest.raises(InputError, match=message):
        match_leads(files["leads"], files["accounts"])
    code, err = run_main(_match(files), monkeypatch, capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and re.search(message, err), err
    assert not files["out"].exists()


def test_library_bad_input_raises_input_error() -> None:
    from models.matching import AccountMatcher
    from solver import InputError

    with pytest.raises(InputError, match=r"accounts table, row 1, column 'name'"):
        AccountMatcher().fit(pd.DataFrame({"account_id": ["A1"], "name": [""]}))
    with pytest.raises(InputError, match=r"column 'min_confidence'"):
        AccountMatcher(min_confidence=1.5).fit(pd.DataFrame({"account_id": ["A1"],
                                                             "name": ["X"]}))


def test_missing_extra_names_it(files: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    for name in [m for m in sys.modules if m == "models.matching" or
                 m.startswith(("models.matching.", "rapidfuzz"))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "rapidfuzz", None)  # import fails as if not installed
    code, err = run_main(_match(files), monkeypatch, capsys)
    assert code == 2
    assert err.strip().count("\n") == 0
    assert "pip install 'leadroute[match]'" in err
    assert not files["out"].exists()


def test_a_batch_without_leads_gives_a_header_only_table(
        files: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    files["leads"].write_text("lead_id,email,company\n")
    code, err = run_main(_match(files), monkeypatch, capsys)
    assert code == 0, err
    out = pd.read_csv(files["out"])
    assert out.columns.tolist() == MATCH_COLUMNS and out.empty


def test_a_bad_match_policy_is_one_line(files: dict[str, Path], tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[match]\nduplicates = "merge"\n')
    code, err = run_main(_route(files, "--policy", str(policy)), monkeypatch, capsys)
    assert code == 2 and "match.duplicates" in err and len(err.strip().splitlines()) == 1
    assert not files["out"].exists()


def test_partitioned_routing_refuses_accounts(files: dict[str, Path],
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_main(_route(files, "--partition-by", "country"), monkeypatch, capsys)
    assert code == 2 and "--accounts" in err


def test_a_duplicate_routed_with_its_first_lead_counts_against_capacity(
        files: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """R1 has room for one lead: the person (two leads, efforts 1 + 1) does not fit, so
    both are unassigned rather than R1 going over capacity."""
    files["leads"].write_text("lead_id,email,effort\nL1,jo@acme.com,1\nL2,JO@acme.com,1\n")
    files["reps"].write_text("rep_id,capacity\nR1,1\n")
    files["scores"].write_text("lead_id,rep_id,score\nL1,R1,0.9\nL2,R1,0.9\n")
    code, err = run_main(_route(files), monkeypatch, capsys)
    assert code == 0, err
    out = pd.read_csv(files["out"], keep_default_na=False).set_index("lead_id")
    assert out["status"].tolist() == ["unassigned", "unassigned"]
    assert out.loc["L2", "reason"].startswith("duplicate of L1, which was not assigned")
    files["reps"].write_text("rep_id,capacity\nR1,2\n")
    code, err = run_main(_route(files), monkeypatch, capsys)
    out = pd.read_csv(files["out"], keep_default_na=False).set_index("lead_id")
    assert out["rep_id"].tolist() == ["R1", "R1"]
