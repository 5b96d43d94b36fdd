"""`bakeoff verify`: is a results folder what its manifest says it is? Never repairs.

Checked: the manifest and the stored scenario are readable (and the scenario matches the
hash the manifest recorded); every unit the manifest calls ok has its journal and raw
output, with the checksums recorded when it was measured; samples.parquet and
histograms.parquet are readable, have the expected columns and hold exactly the rows of
the ok units' journals. Beyond checksums and counts, values are recomputed
(bench.verify_values): each journal from its raw output with the workload's parser, each
table row from its journal, and manifest.json is checked against its schema
(bench.manifest_schema). Each problem comes with how to recover.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.manifest_schema import manifest_problems
from bench.results import (
    HISTOGRAM_COLUMNS,
    REQUIRED_SAMPLE_COLUMNS,
    ResultsDamaged,
    ResultStore,
    file_sha256,
    not_started,
    read_manifest,
    read_scenario,
    read_table,
)
from bench.resume import scenario_hash
from bench.verify_values import (
    compare_rows,
    hdr_problems,
    journal_problems,
    params_of,
    reparse,
    table_rows,
    value_column_problem,
)

REMEASURE = "resume the campaign (`bakeoff run SCENARIO --resume {id}`) to re-measure it"
REASSEMBLE = "rebuild the tables from the journals with `bakeoff assemble {dir}`"


@dataclass(frozen=True)
class Problem:
    where: str
    what: str
    recover: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what} -> {self.recover}"


def verify_campaign(d: Path) -> list[Problem]:
    """Every problem found in the folder (empty: intact)."""
    d = Path(d)
    problems: list[Problem] = []
    try:
        manifest = read_manifest(d)
    except ResultsDamaged as e:
        return [Problem("manifest.json", str(e), "restore it from a backup; the journals "
                        "under units/ hold the measurements")]
    if manifest.get("rescore_of"):
        return rescore_problems(d, manifest)
    cid = manifest.get("campaign_id", d.name)
    problems += [Problem("manifest.json", p, "restore it from a backup (it does not match "
                         "the schema bakeoff writes)") for p in manifest_problems(manifest)]
    try:
        campaign = read_scenario(d)
        recorded = manifest.get("scenario_hash")
        if recorded and scenario_hash(campaign) != recorded:
            problems.append(Problem("scenario.yaml", "differs from the scenario the campaign "
                                    "was measured with (hash mismatch)",
                                    "restore the scenario file the campaign was run with"))
    except ResultsDamaged as e:
        problems.append(Problem("scenario.yaml", str(e).splitlines()[0],
                                "restore the scenario file the campaign was run with"))
    if manifest.get("status") in (None, "running"):
        problems.append(Problem("manifest.json", f"status is {manifest.get('status')!r}, not "
                                "final (the campaign was killed, or is running)",
                                "`bakeoff gc --delete` marks a dead campaign's manifest "
                                "interrupted; then resume it"))
    store = ResultStore(d.parent, d.name)
    journals: dict[tuple[str, str, int], dict] = {}
    expected_rows: Counter[tuple[str, str, int]] = Counter()
    expected_hists: Counter[tuple[str, str, int]] = Counter()
    journals_ok = True
    for key, unit in sorted(manifest.get("units", {}).items()):
        if not isinstance(unit, dict) or unit.get("status") != "ok" or key.count("/") != 2 \
                or not key.rsplit("/", 1)[1].isdigit():
            continue  # reported by the schema check
        site, workload, rep = key.split("/")
        journal = store.dir / "units" / site / workload / f"{rep}.json"
        fix = REMEASURE.format(id=cid)
        if not journal.is_file():
            problems.append(Problem(f"units/{key}.json", "journal missing for an ok unit", fix))
            journals_ok = False
            continue
        if unit.get("journal_sha256") and file_sha256(journal) != unit["journal_sha256"]:
            problems.append(Problem(f"units/{key}.json", "journal changed since it was "
                                    "written (checksum mismatch)",
                                    f"delete it and {fix}"))
            journals_ok = False
        try:
            payload = store.read_journal(journal)
        except ResultsDamaged as e:
            problems.append(Problem(f"units/{key}.json", str(e).split(": ", 1)[-1],
                                    f"delete it and {fix}"))
            journals_ok = False
            continue
        expected_rows[(site, workload, int(rep))] += len(payload["samples"])
        expected_hists[(site, workload, int(rep))] += len(payload["histograms"])
        problems += [Problem(f"units/{key}.json", p, f"delete it and {fix}")
                     for p in journal_problems(key, payload)]
        for what in ("samples", "histograms"):
            if isinstance(unit.get(what), int) and unit[what] != len(payload[what]):
                problems.append(Problem(f"units/{key}.json", f"{len(payload[what])} {what}, "
                                        f"the manifest counted {unit[what]}",
                                        f"delete it and {fix}"))
        raw = unit.get("raw")
        if raw and not (d / raw).is_file():
            problems.append(Problem(raw, "raw output missing for an ok unit",
                                    f"delete units/{key}.json and {fix}"))
        elif raw and unit.get("raw_sha256") and file_sha256(d / raw) != unit["raw_sha256"]:
            problems.append(Problem(raw, "raw output changed since it was measured "
                                    "(checksum mismatch)", f"delete units/{key}.json and {fix}"))
        elif raw:
            problems += _recomputed(d / raw, key, workload, payload, fix)
        journals[(site, workload, int(rep))] = payload
    fix_tables = REASSEMBLE.format(dir=d)
    for name, required, expected in (("samples.parquet", REQUIRED_SAMPLE_COLUMNS, expected_rows),
                                     ("histograms.parquet", HISTOGRAM_COLUMNS, expected_hists)):
        if not (d / name).exists() and not expected and (
                name == "histograms.parquet" or not_started(manifest)):
            continue  # nothing measured (stopped before its first unit): nothing to table
        try:
            frame = read_table(d / name, required)
        except ResultsDamaged as e:
            problems.append(Problem(name, str(e).split(": ", 1)[-1].split(";")[0],
                                    fix_tables))
            continue
        found = Counter((str(s), str(w), int(r)) for s, w, r in
                        zip(frame["site"], frame["workload"], frame["repetition"], strict=True))
        if found != expected and journals_ok:
            missing = sorted(k for k in expected if found[k] < expected[k])
            extra = sorted(k for k in found if found[k] > expected.get(k, 0))
            detail = []
            if missing:
                detail.append("fewer rows than the journals for " + ", ".join(
                    "/".join(map(str, k)) for k in missing[:5]))
            if extra:
                detail.append("rows without an ok journal for " + ", ".join(
                    "/".join(map(str, k)) for k in extra[:5]))
            problems.append(Problem(name, "; ".join(detail) or "does not match the journals",
                                    fix_tables))
        problems += [Problem(name, p, fix_tables) for p in _table_values(name, frame, journals)]
    return problems


def rescore_problems(d: Path, manifest: dict) -> list[Problem]:
    """A re-score holds no measurements (its manifest's `rescore_of` names the campaign
    that has them): its scenario must be readable, it must hold no tables of its own (a
    copy would count rows twice), and the measured campaign must verify, problems named
    under `rescore_of/`."""
    from bench.results import measured_dir

    problems = []
    try:
        read_scenario(d)
    except ResultsDamaged as e:
        problems.append(Problem("scenario.yaml", str(e).splitlines()[0],
                                "restore the scenario the re-score used (scores/ has its "
                                "weights)"))
    for name in ("samples.parquet", "histograms.parquet"):
        if (d / name).exists():
            problems.append(Problem(name, "a re-score holds no measurements; this copy "
                                    "counts the measured campaign's rows twice",
                                    f"delete {d / name}"))
    try:
        measured = measured_dir(d, manifest)
    except ResultsDamaged as e:
        return [*problems, Problem("manifest.json", str(e).split(": ", 1)[-1],
                                   "restore the measured campaign beside its re-scores")]
    try:
        twice = bool(read_manifest(measured).get("rescore_of"))
    except ResultsDamaged:
        twice = False  # verify_campaign(measured) below says what is wrong with it
    if twice:  # never followed twice (no loop)
        return [*problems, Problem("manifest.json", f"rescore_of names {measured.name}, "
                                   "itself a re-score", "point rescore_of at the campaign "
                                   "that measured")]
    return problems + [Problem(f"rescore_of {measured.name}/{p.where}", p.what, p.recover)
                       for p in verify_campaign(measured)]


def _recomputed(raw: Path, key: str, workload: str, payload: dict, fix: str) -> list[Problem]:
    """The journal against what the parser makes of the raw output now."""
    try:
        text = raw.read_text(errors="replace")
    except OSError as e:
        return [Problem(str(raw), f"raw output unreadable ({e.strerror})", fix)]
    again = reparse(workload, text, params_of(payload))
    where = f"units/{key}.json"
    if isinstance(again, str):
        return [Problem(where, f"cannot be recomputed: {again}", f"delete it and {fix}")]
    samples, encoded = again
    stored = [s for s in payload["samples"] if isinstance(s, dict)]
    out = [Problem(where, p, f"delete it and {fix}")
           for p in compare_rows(key, stored, samples, "the journal", "the raw output")]
    stored_h = [h.get("encoded") if isinstance(h, dict) else h for h in payload["histograms"]]
    if stored_h != encoded:
        out.append(Problem(where, f"{key}: the journal's {len(stored_h)} histogram(s) differ "
                           f"from the {len(encoded)} the raw output gives",
                           f"delete it and {fix}"))
    return out


def _table_values(name: str, frame, journals: dict[tuple[str, str, int], dict]) -> list[str]:
    """Values, types and histogram blobs of a table against the journals, unit by unit."""
    if name == "samples.parquet":
        bad = value_column_problem(frame)
        if bad:
            return [bad]
        out: list[str] = []
        for key, payload in sorted(journals.items()):
            stored = [s for s in payload["samples"] if isinstance(s, dict)]
            out += compare_rows("/".join(map(str, key)), table_rows(frame, key), stored,
                                name, "the journal")
        return out[:20]
    out = hdr_problems(name, frame["encoded"].tolist())[:5]
    for key, payload in sorted(journals.items()):
        mask = ((frame["site"].astype(str) == key[0]) & (frame["workload"].astype(str) == key[1])
                & (frame["repetition"].astype("int64") == key[2]))
        stored = [h.get("encoded") for h in payload["histograms"] if isinstance(h, dict)]
        if frame[mask]["encoded"].tolist() != stored:
            out.append(f"{'/'.join(map(str, key))}: histograms differ from the journal's")
    return out[:20]
