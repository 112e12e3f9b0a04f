#!/usr/bin/env python3
"""Writes the bad-input corpus of `cityflow-cli/tests/bad_inputs.rs`: the input files under
comptages/ and metrics/, and cases.json, the manifest the test runs case by case.

The files are committed; this script is how they were made and how to change them:

    python3 cityflow-cli/tests/bad-inputs/make_corpus.py

Every case is one run of `cityflow` in an empty directory, with only the case's variables in
its environment, and says what must come out of it:

- `exit`: the documented exit code (2: input, usage or configuration error; 1: an export
  failed; 0: the run succeeded, bad lines being counted);
- `stderr`: for exit codes 1 and 2, a text the error must contain; for exit 2 the error is
  one line on stderr;
- `counted`: for exit 0, `stats` fields of the `--json` summary that must be at least these;
- `exported`: how many files `output/` must hold afterwards (0: nothing exported, not even
  partly; a day from raw comptages has its CSV, its JSON and its map).

Placeholders in `args` and `env`: `{corpus}` is this directory, `{examples}` the example
metrics, `{work}` the run's directory (where `prepare` made runtime-only inputs: a 10 MB line,
an unreadable file, …, which are not committed).
"""

import gzip
import json
import os
import random
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
COMPTAGES = os.path.join(HERE, "comptages")
METRICS = os.path.join(HERE, "metrics")
RAW = os.path.join(HERE, "raw")

HEADER = (
    "Identifiant arc;Libelle;Date et heure de comptage;Débit horaire;Taux d'occupation;"
    "Etat trafic;Identifiant noeud amont;Libelle noeud amont;Identifiant noeud aval;"
    "Libelle noeud aval;Etat arc;Date debut dispo data;Date fin dispo data;geo_point_2d;geo_shape"
)
SHAPE = '"{""coordinates"": [[2.3065201, 48.8675116], [2.3088774, 48.8661153]], ""type"": ""LineString""}"'

# Column positions in HEADER.
ARC, LIBELLE, TIMESTAMP, DEBIT, TAUX, ETAT, ETAT_ARC, GEO_SHAPE = 0, 1, 2, 3, 4, 5, 10, 14


def base_rows():
    """Two arcs, three hours of 2025-11-03 (Paris): a valid file of one day."""
    rows = []
    for hour, (d0, t0, d1, t1) in enumerate(
        [(430, "2.535", 50, "2.350"), (281, "2.232", 38, "2.124"), (233, "2.102", 26, "2.092")]
    ):
        for arc, debit, taux in [(1000, d0, t0), (1001, d1, t1)]:
            rows.append(
                [
                    str(arc),
                    f"Arc_{arc}",
                    f"2025-11-03T0{hour}:00:00+01:00",
                    str(debit),
                    taux,
                    "Fluide",
                    "5000",
                    "Noeud_5000",
                    "5001",
                    "Noeud_5001",
                    "Ouvert",
                    "2005-01-01",
                    "2030-12-31",
                    "48.8668134, 2.3076987",
                    SHAPE,
                ]
            )
    return rows


def csv_text(rows, header=HEADER, sep=";"):
    return header.replace(";", sep) + "\n" + "".join(sep.join(r) + "\n" for r in rows)


def one_field(column, value, row=1):
    rows = base_rows()
    rows[row][column] = value
    return csv_text(rows)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(path, mode, **({} if mode == "wb" else {"encoding": "utf-8", "newline": ""})) as f:
        f.write(data)


EXAMPLES = os.path.join(HERE, "..", "..", "..", "examples", "metrics")
DAY = "2026-03-10"


def metrics_case(name, file_kind, content):
    """metrics/NAME/: the example metrics with one file replaced by `content`."""
    d = os.path.join(METRICS, name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(EXAMPLES):
        shutil.copy(os.path.join(EXAMPLES, f), d)
    write(os.path.join(d, f"{file_kind}_metrics_{DAY}.json"), content)


def comptages_metrics_with(old, new):
    with open(os.path.join(EXAMPLES, f"comptages_metrics_{DAY}.json"), encoding="utf-8") as f:
        text = f.read()
    assert old in text, old
    return text.replace(old, new, 1)


cases = []


def error(name, why, args, stderr, env=None, exit=2, prepare=None):
    cases.append(
        {
            "name": name,
            "why": why,
            "args": args,
            "env": env or {},
            "prepare": prepare,
            "exit": exit,
            "stderr": stderr,
            "exported": 0,
        }
    )


def counted(name, why, file, counts, prepare=None):
    cases.append(
        {
            "name": name,
            "why": why,
            "args": ["report", "generate", "--all", "--json", "--comptages", file],
            "env": {},
            "prepare": prepare,
            "exit": 0,
            "counted": counts,
            # The one valid day: its CSV, its JSON and its map.
            "exported": 3,
        }
    )


def comptages_error(name, why, data, stderr, ext="csv"):
    write(os.path.join(COMPTAGES, f"{name}.{ext}"), data)
    error(
        name,
        why,
        ["report", "generate", "--all", "--comptages", f"{{corpus}}/comptages/{name}.{ext}"],
        stderr,
    )


def comptages_counted(name, why, data, counts):
    write(os.path.join(COMPTAGES, f"{name}.csv"), data)
    counted(name, why, f"{{corpus}}/comptages/{name}.csv", counts)


def metrics_error(name, why, stderr):
    error(
        name,
        why,
        ["report", "generate", "--date", DAY, "--metrics-dir", f"{{corpus}}/metrics/{name}"],
        stderr,
    )


def env_error(name, why, env, stderr, args=None):
    error(
        name,
        why,
        args or ["report", "generate", "--date", DAY, "--metrics-dir", "{examples}"],
        stderr,
        env=env,
    )


BIKE = ('{{"id_compteur": "100003096-353242251", "nom_compteur": "97 avenue Denfert Rochereau SO-NE", '
        '"sum_counts": {n}, "date": "2026-03-10T{h:02}:00:00+01:00", "coordinates": {coords}}}')
PARIS = '{"lon": 2.33338, "lat": 48.83511}'
BIKES_CSV_HEADER = ("Identifiant du compteur;Nom du compteur;Identifiant du site de comptage;Nom du site de comptage;"
                    "Comptage horaire;Date et heure de comptage;Date d'installation du site de comptage;"
                    "Lien vers photo du site de comptage;Coordonnées géographiques")
CHANTIERS_HEADER = ("Identifiant;Typologie;Date de début;Date de fin;Impact sur la circulation;"
                    "Code postal de l'arrondissement;geo_shape;geo_point_2d")


def bikes_csv(rows):
    lines = [BIKES_CSV_HEADER]
    for h, n in rows:
        lines.append(f"100003096-353242251;97 avenue Denfert Rochereau SO-NE;100003096;97 avenue Denfert Rochereau;"
                     f"{n};2026-03-10T{h:02}:00:00+01:00;2012-02-22;;48.83511,2.33338")
    return "\n".join(lines) + "\n"


def chantiers_csv(rows):
    return "\n".join([CHANTIERS_HEADER] + rows) + "\n"


def raw_error(name, why, option, file, data, stderr):
    write(os.path.join(RAW, file), data)
    error(name, why, ["report", "generate", "--date", DAY, option, f"{{corpus}}/raw/{file}"], stderr)


def raw_counted(name, why, option, file, data, counts):
    write(os.path.join(RAW, file), data)
    cases.append(
        {
            "name": name,
            "why": why,
            "args": ["report", "generate", "--date", DAY, "--json", option, f"{{corpus}}/raw/{file}"],
            "env": {},
            "prepare": None,
            "exit": 0,
            "counted": counts,
            "exported": 2,
        }
    )


def raw_cases():
    """Bike counters, weather timelines and roadworks CSV (issue 24)."""
    if os.path.isdir(RAW):
        shutil.rmtree(RAW)
    records = [BIKE.format(n=h + 3, h=h, coords=PARIS) for h in range(24)]
    raw_error("bikes-truncated-json", "a records page cut in the middle",
              "--bikes", "bikes-truncated.json", '{"total_count": 24, "results": [' + ", ".join(records[:3])[:-40],
              "truncated JSON at line 1")
    raw_error("bikes-invalid-json", "a records page that is not JSON",
              "--bikes", "bikes-invalid.json", '{"results": [\n' + records[0] + ",\n}\n",
              "invalid JSON at line 3")
    raw_error("bikes-count-is-an-object", "sum_counts as an object: a wrong type, not a value",
              "--bikes", "bikes-count-object.json",
              '{"results": [' + BIKE.format(n='{"value": 3}', h=0, coords=PARIS) + "]}",
              "invalid type: map, expected `sum_counts` as a number or null")
    raw_error("bikes-results-not-a-list", "`results` as a number",
              "--bikes", "bikes-results-number.json", '{"total_count": 1, "results": 3}',
              "`results` as an array of records")
    raw_error("bikes-jsonl-bad-line", "JSON Lines whose third line is broken",
              "--bikes", "bikes-bad-line.jsonl", "\n".join(records[:2] + ['{"id_compteur": ]'] + records[3:5]) + "\n",
              "invalid JSON at line 3")
    raw_error("bikes-invalid-utf8-json", "a Latin-1 byte in a records page",
              "--bikes", "bikes-latin1.json",
              ('{"results": [' + BIKE.format(n=1, h=0, coords=PARIS).replace("avenue", "av\xe9nue") + "]}").encode("latin-1"),
              "bikes-latin1.json: invalid JSON")
    raw_error("bikes-csv-missing-column", "the CSV export without `Comptage horaire`",
              "--bikes", "bikes-no-count.csv",
              "Identifiant du compteur;Date et heure de comptage\n100003096-353242251;2026-03-10T00:00:00+01:00\n",
              "missing required column(s) `Comptage horaire`")
    raw_error("bikes-csv-invalid-utf8", "a Latin-1 byte on line 3 of the CSV export",
              "--bikes", "bikes-latin1.csv", bikes_csv([(0, 3), (1, 4)]).encode().replace(b"Rochereau;4", b"Rocherau\xe9;4"),
              "line 3 is not valid UTF-8")
    raw_error("bikes-empty", "a 0-byte bike file", "--bikes", "bikes-empty.json", "", "the file is empty")
    raw_error("weather-days-not-a-list", "`days` as an object",
              "--weather", "weather-days-object.json", '{"resolvedAddress": "Paris", "days": {"datetime": "2026-03-10"}}',
              "invalid type: map, expected a sequence")
    raw_error("weather-truncated", "a timeline cut in the middle",
              "--weather", "weather-truncated.json", '{"days": [{"datetime": "2026-03-10", "temp": 8.',
              "truncated weather timeline")
    raw_error("weather-temp-is-text", "`temp` as a string",
              "--weather", "weather-temp-text.json", '{"days": [{"datetime": "2026-03-10", "temp": "doux"}]}',
              'invalid type: string "doux"')
    raw_error("weather-invalid-utf8", "a Latin-1 byte in a timeline",
              "--weather", "weather-latin1.json", '{"days": [{"datetime": "2026-03-10", "conditions": "pluie \xe9"}]}'.encode("latin-1"),
              "invalid weather timeline")
    raw_error("chantiers-missing-column", "the roadworks CSV without `Date de fin`",
              "--chantiers", "chantiers-no-end.csv",
              "Identifiant;Typologie;Date de début\nCP1;1;2026-03-01\n", "missing required column(s) `Date de fin`")
    raw_error("chantiers-invalid-utf8", "a Latin-1 byte on line 2 of the roadworks CSV",
              "--chantiers", "chantiers-latin1.csv",
              chantiers_csv(["CP1;1;2026-03-01;2026-03-20;IMPASSE;75005;;48.84, 2.35"]).encode().replace(b"IMPASSE", b"IMPASS\xc9"),
              "line 2 is not valid UTF-8")
    raw_error("chantiers-stray-quote", "an unclosed quote in a geo_shape, the rest of the file one record",
              "--chantiers", "chantiers-stray-quote.csv",
              chantiers_csv(['CP1;1;2026-03-01;2026-03-20;IMPASSE;75005;"{""type"": ""Polygon"";48.84, 2.35']
                            + [f"CP{i};1;2026-03-01;2026-03-20;IMPASSE;75005;;48.84, 2.35" for i in range(2, 12000)]),
              "the record starting on line 2 runs to the end of the file")
    error("raw-missing-root", "--raw names no directory",
          ["report", "generate", "--date", DAY, "--raw", "{corpus}/raw/nowhere"], "raw directory does not exist")
    error("bikes-missing-path", "--bikes names nothing",
          ["report", "generate", "--date", DAY, "--bikes", "{corpus}/raw/nowhere.json"], "no such file or directory")
    error("bikes-ten-mb-line", "a 10 MB line in the bike CSV export",
          ["report", "generate", "--date", DAY, "--bikes", "{work}/ten-mb-bikes.csv"],
          "is longer than 1 MiB", prepare="ten-mb-line-bikes")
    error("chantiers-ten-mb-line", "a 10 MB line in the roadworks CSV",
          ["report", "generate", "--date", DAY, "--chantiers", "{work}/ten-mb-chantiers.csv"],
          "is longer than 1 MiB", prepare="ten-mb-line-chantiers")
    error("bikes-jsonl-ten-mb-line", "a 10 MB line of garbage in JSON Lines",
          ["report", "generate", "--date", DAY, "--bikes", "{work}/ten-mb-bikes.jsonl"],
          "invalid JSON at line 2", prepare="ten-mb-line-jsonl")
    # Implausible values: rejected, counted, warned about; the report is exported.
    implausible = [BIKE.format(n=n, h=h, coords=PARIS) for h, n in enumerate([-4, 2.5, '"beaucoup"'])]
    implausible += [BIKE.format(n=h + 1, h=h, coords='{"lon": 120.0, "lat": -33.9}') for h in range(3, 24)]
    raw_counted("bikes-implausible-values", "negative, fractional and non-numeric counts, coordinates outside France",
                "--bikes", "bikes-implausible.jsonl", "\n".join(implausible) + "\n",
                {"raw_stats.bikes.counts_rejected": 3, "raw_stats.bikes.coordinates_rejected": 21})
    raw_counted("weather-tempmin-over-tempmax", "tempmin > tempmax rejects the day, not the run",
                "--weather", "weather-inverted.json",
                '{"days": [{"datetime": "2026-03-10", "temp": 8, "tempmin": 12, "tempmax": 4}]}',
                {"raw_stats.weather.days_rejected": 1})
    raw_counted("chantiers-bad-dates", "an unreadable date and an end before its start: rows rejected with their line",
                "--chantiers", "chantiers-bad-dates.csv",
                chantiers_csv(["CP1;1;2026-03-01;2026-03-20;IMPASSE;75005;;48.84, 2.35",
                               "CP2;1;01/03/2026;2026-03-20;IMPASSE;75005;;48.84, 2.35",
                               "CP3;1;2026-03-20;2026-03-01;IMPASSE;75005;;48.84, 2.35",
                               "CP4;1;2026-03-01;2026-03-20;IMPASSE;;;12.0, 100.0"]),
                {"raw_stats.chantiers.rows_rejected": 2, "raw_stats.chantiers.coordinates_rejected": 1})


def main():
    for d in (COMPTAGES, METRICS):
        shutil.rmtree(d, ignore_errors=True)

    # ---- The raw open-data CSV: whole-file problems are one-line errors, nothing exported.
    comptages_error("empty", "a 0-byte file", "", "the file is empty")
    comptages_error(
        "header-only", "a header and no row: nothing to export is an error", csv_text([]),
        "no valid row on any day",
    )
    comptages_error(
        "tab-separated", "neither `;` nor `,` in the header", csv_text(base_rows(), sep="\t"),
        "neither `;` nor `,` separators",
    )
    comptages_error(
        "missing-columns", "`Taux d'occupation` and `Etat trafic` absent",
        csv_text(
            [r[:TAUX] + r[ETAT + 1:] for r in base_rows()],
            header=";".join(h for i, h in enumerate(HEADER.split(";")) if i not in (TAUX, ETAT)),
        ),
        "missing required column(s): Taux d'occupation, Etat trafic",
    )
    whole = gzip.compress(csv_text(base_rows() * 20).encode(), mtime=0)
    comptages_error(
        "truncated", "a gzip file cut in the middle", whole[: len(whole) // 2],
        "cannot read past byte", ext="csv.gz",
    )
    rnd = random.Random(7)
    comptages_error(
        "binary", "4 KB of random bytes", bytes(rnd.randrange(256) for _ in range(4096)),
        "not UTF-8", ext="bin",
    )
    comptages_error(
        "invalid-utf8", "a Latin-1 `é` in a row (the file is not UTF-8)",
        one_field(LIBELLE, "Arc_\u00e9").encode("utf-8").replace("Arc_\u00e9".encode(), b"Arc_\xe9"),
        "invalid UTF-8 at byte",
    )
    comptages_error(
        "only-invalide", "every row has `Etat arc` = Invalide",
        csv_text([r[:ETAT_ARC] + ["Invalide"] + r[ETAT_ARC + 1:] for r in base_rows()]),
        "no valid row on any day",
    )
    error(
        "directory-as-input", "--comptages names a directory",
        ["report", "generate", "--all", "--comptages", "{corpus}/comptages"], "Is a directory",
    )
    error(
        "missing-input", "--comptages names no file",
        ["report", "generate", "--all", "--comptages", "{corpus}/comptages/nowhere.csv"],
        "No such file or directory",
    )

    # ---- Bad lines and values: counted, skipped, the valid rest exported.
    counted(
        "ten-mb-line", "a 10 MB `Libelle` (prepared at run time, not committed)",
        "{work}/ten-mb-line.csv", {"rows_malformed": 1}, prepare="ten-mb-line",
    )
    comptages_counted("nan-flow", "`Débit horaire` = NaN", one_field(DEBIT, "NaN"), {"rows_malformed": 1})
    comptages_counted("inf-flow", "`Débit horaire` = inf", one_field(DEBIT, "inf"), {"rows_malformed": 1})
    comptages_counted(
        "infinity-occupancy", "`Taux d'occupation` = Infinity", one_field(TAUX, "Infinity"),
        {"rows_malformed": 1},
    )
    comptages_counted("huge-number", "`Débit horaire` = 1e400", one_field(DEBIT, "1e400"), {"rows_malformed": 1})
    comptages_counted("negative-flow", "`Débit horaire` = -12", one_field(DEBIT, "-12"), {"values_rejected": 1})
    comptages_counted("negative-occupancy", "`Taux d'occupation` = -3", one_field(TAUX, "-3"), {"values_rejected": 1})
    comptages_counted("occupancy-over-100", "`Taux d'occupation` = 150", one_field(TAUX, "150"), {"values_rejected": 1})
    comptages_counted(
        "impossible-date", "30 February", one_field(TIMESTAMP, "2025-02-30T01:00:00+01:00"),
        {"rows_malformed": 1},
    )
    comptages_counted(
        "far-future-9999", "year 9999", one_field(TIMESTAMP, "9999-12-31T23:00:00+01:00"),
        {"rows_malformed": 1},
    )
    comptages_counted(
        "far-future-2999", "year 2999", one_field(TIMESTAMP, "2999-06-01T10:00:00+02:00"),
        {"rows_malformed": 1},
    )
    comptages_counted(
        "ancient-date", "year 1900, before the counters", one_field(TIMESTAMP, "1900-01-01T10:00:00+01:00"),
        {"rows_malformed": 1},
    )
    comptages_counted(
        "no-offset", "a timestamp without UTC offset: its Paris day is unknown",
        one_field(TIMESTAMP, "2025-11-03T01:00:00"), {"rows_malformed": 1},
    )
    comptages_counted("garbage-timestamp", "`hier` as a timestamp", one_field(TIMESTAMP, "hier"), {"rows_malformed": 1})
    comptages_counted(
        "malformed-geo-shape", "`geo_shape` that is not GeoJSON",
        one_field(GEO_SHAPE, '"{""coordinates"": [[2.3, oops"'), {"arcs_without_geometry": 1},
    )
    comptages_counted("unknown-state", "`Etat trafic` = Embouteillé", one_field(ETAT, "Embouteillé"), {"rows_malformed": 1})
    comptages_counted("stray-quote", "text after a closing quote", one_field(LIBELLE, '"Arc" 1000'), {"rows_malformed": 1})
    comptages_counted(
        "unterminated-quote", "a quote opened on the last line and never closed",
        one_field(LIBELLE, '"Arc ouvert', row=5), {"rows_malformed": 1},
    )
    rows = base_rows()
    rows[1] = rows[1][:5]
    comptages_counted("wrong-field-count", "a row of 5 fields", csv_text(rows), {"rows_malformed": 1})
    comptages_counted("empty-arc-id", "an empty `Identifiant arc`", one_field(ARC, ""), {"rows_malformed": 1})
    comptages_counted("nul-byte", "a NUL byte in a field", one_field(LIBELLE, "Arc\0"), {"rows_malformed": 1})

    # ---- Day selection that the file cannot satisfy.
    write(os.path.join(COMPTAGES, "one-day.csv"), csv_text(base_rows()))
    error(
        "date-not-in-file", "--date of a day the file has no row for",
        ["report", "generate", "--date", "2025-11-05", "--comptages", "{corpus}/comptages/one-day.csv"],
        "no row falls on 2025-11-05",
    )
    error(
        "range-not-in-file", "--from/--to that the file does not cover",
        ["report", "generate", "--from", "2025-01-01", "--to", "2025-01-31", "--comptages",
         "{corpus}/comptages/one-day.csv"],
        "no valid row between 2025-01-01 and 2025-01-31",
    )
    error(
        "range-reversed", "--from after --to",
        ["report", "generate", "--from", "2025-11-05", "--to", "2025-11-01", "--comptages",
         "{corpus}/comptages/one-day.csv"],
        "is after --to",
    )
    error(
        "zero-jobs", "--jobs 0",
        ["report", "generate", "--all", "--jobs", "0", "--comptages", "{corpus}/comptages/one-day.csv"],
        "--jobs",
    )

    # ---- The old tool's metrics files.
    metrics_case("malformed-json", "comptages", '{"global_metrics": {\n')
    metrics_error("malformed-json", "a truncated JSON file", "malformed metrics file at line 2")
    metrics_case("empty-json", "comptages", "")
    metrics_error("empty-json", "a 0-byte metrics file", "malformed metrics file at line 1")
    metrics_case("fractional-count", "comptages", comptages_metrics_with('"total_vehicules_jour": 18452310', '"total_vehicules_jour": 18452310.5'))
    metrics_error("fractional-count", "a count with a fraction", "is not a whole non-negative number")
    metrics_case("negative-count", "comptages", comptages_metrics_with('"total_vehicules_jour": 18452310', '"total_vehicules_jour": -5'))
    metrics_error("negative-count", "a negative count", "is negative")
    metrics_case("nan-literal", "comptages", comptages_metrics_with('"total_vehicules_jour": 18452310', '"total_vehicules_jour": NaN'))
    metrics_error("nan-literal", "NaN is not JSON", "malformed metrics file")
    metrics_case("number-out-of-range", "comptages", comptages_metrics_with('"total_vehicules_jour": 18452310', '"total_vehicules_jour": 1e400'))
    metrics_error("number-out-of-range", "1e400", "number out of range")
    metrics_case("wrong-type", "comptages", comptages_metrics_with('"total_vehicules_jour": 18452310', '"total_vehicules_jour": "beaucoup"'))
    metrics_error("wrong-type", "a string where a count is expected", 'invalid type: string "beaucoup"')
    metrics_case("wrong-shape", "weather", "[1, 2, 3]")
    metrics_error("wrong-shape", "an array where an object is expected", "weather_metrics_2026-03-10.json: malformed metrics file")
    metrics_case("invalid-utf8-metrics", "weather", b'{"metrics": {"conditions": "pluie \xe9"}, "impact_mobilite": 1.0}')
    metrics_error("invalid-utf8-metrics", "a Latin-1 byte in a metrics file", "malformed metrics file")
    # A directory where a metrics file should be (git keeps it by the file inside).
    d = os.path.join(METRICS, "file-is-a-directory")
    metrics_case("file-is-a-directory", "bikes", "{}")
    os.remove(os.path.join(d, f"bikes_metrics_{DAY}.json"))
    write(os.path.join(d, f"bikes_metrics_{DAY}.json", "keep"), "")
    metrics_error("file-is-a-directory", "a metrics file that is a directory", "is a directory, not a metrics file")
    write(os.path.join(METRICS, "no-metrics-file", "notes.txt"), "nothing for the day\n")
    metrics_error("no-metrics-file", "a directory without any metrics file of the day", "no metrics file for 2026-03-10")
    error(
        "missing-metrics-dir", "--metrics-dir names no directory",
        ["report", "generate", "--date", DAY, "--metrics-dir", "{corpus}/metrics/nowhere"],
        "does not exist",
    )
    error(
        "metrics-dir-is-a-file", "--metrics-dir names a file",
        ["report", "generate", "--date", DAY, "--metrics-dir", "{corpus}/make_corpus.py"],
        "not a directory",
    )
    error(
        "unreadable-metrics-file", "a metrics file without read permission (run as an unprivileged user when the test runs as root)",
        ["report", "generate", "--date", DAY, "--metrics-dir", "{work}/metrics"],
        "Permission denied", prepare="unreadable-metrics-file",
    )

    # ---- Dates and environment: path traversal, impossible dates, unknown values.
    env_error("date-path-traversal", "--date trying path traversal", {}, "--date",
              args=["report", "generate", "--date", "../../etc/passwd", "--metrics-dir", "{examples}"])
    env_error("date-impossible", "--date 2026-02-30", {}, "2026-02-30",
              args=["report", "generate", "--date", "2026-02-30", "--metrics-dir", "{examples}"])
    env_error("report-date-garbage", "REPORT_DATE=hier", {"REPORT_DATE": "hier"}, "REPORT_DATE",
              args=["report", "generate", "--metrics-dir", "{examples}"])
    env_error("s3-prefix-traversal", "S3_REPORTS_PREFIX=../../etc",
              {"USE_S3": "true", "S3_REPORTS_PREFIX": "../../etc"}, "S3_REPORTS_PREFIX")
    env_error("s3-bucket-traversal", "S3_REPORTS_BUCKET=../x", {"USE_S3": "true", "S3_REPORTS_BUCKET": "../x"}, "S3_REPORTS_BUCKET")
    env_error("database-type-unknown", "DATABASE_TYPE=oracle", {"DATABASE_TYPE": "oracle"}, "DATABASE_TYPE")
    env_error("use-s3-unknown", "USE_S3=maybe", {"USE_S3": "maybe"}, "USE_S3")
    env_error("use-dynamodb-unknown", "USE_DYNAMODB=oui", {"USE_DYNAMODB": "oui"}, "USE_DYNAMODB")
    env_error("mongodb-timeout-garbage", "MONGODB_TIMEOUT_MS=abc", {"DATABASE_TYPE": "mongodb", "MONGODB_TIMEOUT_MS": "abc"}, "MONGODB_TIMEOUT_MS")
    env_error("mongodb-attempts-zero", "MONGODB_MAX_ATTEMPTS=0", {"DATABASE_TYPE": "mongodb", "MONGODB_MAX_ATTEMPTS": "0"}, "MONGODB_MAX_ATTEMPTS")
    env_error("mongodb-url-not-mongodb", "MONGODB_URL=http://…", {"DATABASE_TYPE": "mongodb", "MONGODB_URL": "http://localhost:27017"}, "MONGODB_URL")
    env_error("mongodb-database-slash", "MONGODB_DATABASE=a/b", {"DATABASE_TYPE": "mongodb", "MONGODB_DATABASE": "a/b"}, "MONGODB_DATABASE")
    env_error("ttl-negative", "REPORT_TTL_DAYS=-1", {"REPORT_TTL_DAYS": "-1"}, "REPORT_TTL_DAYS")
    env_error("endpoint-without-scheme", "AWS_ENDPOINT_URL=localhost:4566", {"AWS_ENDPOINT_URL": "localhost:4566"}, "AWS_ENDPOINT_URL")
    env_error("access-key-without-secret", "AWS_ACCESS_KEY_ID alone", {"AWS_ACCESS_KEY_ID": "AKIDONLY"}, "AWS_SECRET_ACCESS_KEY")
    error(
        "output-dir-is-a-file", "OUTPUT_DIR names a file: both exports fail, named, nothing written",
        ["report", "generate", "--date", DAY, "--metrics-dir", "{examples}"],
        "Not a directory", env={"OUTPUT_DIR": "{work}/a-file"}, exit=1, prepare="output-dir-is-a-file",
    )

    raw_cases()

    names = [c["name"] for c in cases]
    assert len(names) == len(set(names)), "case names are unique"
    with open(os.path.join(HERE, "cases.json"), "w", encoding="utf-8") as f:
        json.dump(cases, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"{len(cases)} cases")


if __name__ == "__main__":
    main()
