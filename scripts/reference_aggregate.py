#!/usr/bin/env python3
"""Independent reference for the per-arc, per-day aggregation, in DuckDB SQL.

    reference_aggregate.py INPUT.csv[.gz] OUTPUT.csv [--engine duckdb|duckdb-plain|polars] [--time]

Same definitions as `cityflow comptages aggregate`: rows of arcs whose `Etat arc` is
`Invalide` excluded; exact duplicate rows counted once; a negative flow or an occupancy
outside [0, 100] is missing; the day is the Europe/Paris local date of the timestamp.
Output: identifiant_arc;date;debit_count;debit_sum;debit_mean;debit_max;taux_count;taux_mean

`--engine duckdb-plain` is the plain per-arc, per-day GROUP BY a DuckDB user would first
write: `Invalide` rows excluded (its one WHERE), but no duplicate removal and impossible
values kept. Its figures are not ours (duplicates count twice); the benchmark runs it as the
fastest DuckDB can go on the file.

--time prints `query_seconds=S` on stderr: the query alone (reading the file, aggregating and
writing the output), without Python's start and the import of the engine (bench/comptages.sh).
"""
import sys
import time


# The export's columns, in order.
COLUMNS = ["arc", "libelle", "ts", "debit", "taux", "etat", "amont", "lamont", "aval", "laval",
           "etat_arc", "debut", "fin", "point", "shape"]


def duckdb_read_csv(typed):
    """DuckDB's reader of the export: every column as text, or flow and occupancy as DOUBLE."""
    types = {c: "DOUBLE" if typed and c in ("debit", "taux") else "VARCHAR" for c in COLUMNS}
    columns = ", ".join(f"'{c}': '{t}'" for c, t in types.items())
    return (f"read_csv(?, delim=';', header=true, quote='\"', escape='\"', auto_detect=false, "
            f"columns={{{columns}}})")


def duckdb_copy(src, dst, query):
    """Runs `query` (reading `src` through its `?`) into `dst`; returns the seconds it took."""
    import duckdb

    started = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"COPY ({query}) TO '{dst}' (HEADER, DELIMITER ';')", [src])
    return time.perf_counter() - started


def duckdb_aggregate(src, dst):
    return duckdb_copy(src, dst, f"""
          WITH raw AS (SELECT DISTINCT * FROM {duckdb_read_csv(typed=False)}),
          typed AS (
            SELECT arc,
                   CAST(timezone('Europe/Paris', CAST(ts AS TIMESTAMPTZ)) AS DATE) AS day,
                   TRY_CAST(debit AS DOUBLE) AS d,
                   TRY_CAST(taux AS DOUBLE) AS t
            FROM raw
            WHERE etat_arc IS DISTINCT FROM 'Invalide'
          ),
          clean AS (
            SELECT arc, day,
                   CASE WHEN d >= 0 THEN d END AS debit,
                   CASE WHEN t BETWEEN 0 AND 100 THEN t END AS taux
            FROM typed
          )
          SELECT arc AS identifiant_arc, day AS date,
                 count(debit) AS debit_count, CAST(sum(debit) AS BIGINT) AS debit_sum,
                 avg(debit) AS debit_mean, CAST(max(debit) AS BIGINT) AS debit_max,
                 count(taux) AS taux_count, avg(taux) AS taux_mean
          FROM clean GROUP BY arc, day ORDER BY TRY_CAST(arc AS BIGINT), arc, day""")


def duckdb_plain_aggregate(src, dst):
    return duckdb_copy(src, dst, f"""
          SELECT arc AS identifiant_arc,
                 CAST(timezone('Europe/Paris', CAST(ts AS TIMESTAMPTZ)) AS DATE) AS date,
                 count(debit) AS debit_count, sum(debit) AS debit_sum, avg(debit) AS debit_mean,
                 max(debit) AS debit_max, count(taux) AS taux_count, avg(taux) AS taux_mean
          FROM {duckdb_read_csv(typed=True)}
          WHERE etat_arc IS DISTINCT FROM 'Invalide'
          GROUP BY ALL""")


def polars_aggregate(src, dst):
    import polars as pl

    started = time.perf_counter()
    df = (
        pl.scan_csv(src, separator=";", has_header=True, new_columns=COLUMNS,
                    infer_schema=False, quote_char='"')
        .unique(maintain_order=False)
        .filter(pl.col("etat_arc").fill_null("") != "Invalide")
        .with_columns(
            pl.col("ts").str.to_datetime("%Y-%m-%dT%H:%M:%S%z", time_unit="us")
              .dt.convert_time_zone("Europe/Paris").dt.date().alias("date"),
            pl.col("debit").cast(pl.Float64, strict=False).alias("d"),
            pl.col("taux").cast(pl.Float64, strict=False).alias("t"),
        )
        .with_columns(
            pl.when(pl.col("d") >= 0).then(pl.col("d")).alias("d"),
            pl.when((pl.col("t") >= 0) & (pl.col("t") <= 100)).then(pl.col("t")).alias("t"),
        )
        .group_by(["arc", "date"])
        .agg(
            pl.col("d").count().alias("debit_count"),
            pl.col("d").sum().alias("debit_sum"),
            pl.col("d").mean().alias("debit_mean"),
            pl.col("d").max().alias("debit_max"),
            pl.col("t").count().alias("taux_count"),
            pl.col("t").mean().alias("taux_mean"),
        )
        .collect()
    )
    df.rename({"arc": "identifiant_arc"}).write_csv(dst, separator=";")
    return time.perf_counter() - started


if __name__ == "__main__":
    timed = "--time" in sys.argv
    args = [a for a in sys.argv[1:] if not a.startswith("--engine") and a != "--time"]
    engine = "duckdb"
    for i, a in enumerate(sys.argv):
        if a.startswith("--engine"):
            engine = a.split("=", 1)[1] if "=" in a else sys.argv[i + 1]
            if "=" not in a:
                args.remove(engine)
    if len(args) != 2:
        sys.exit(__doc__)
    engines = {
        "duckdb": duckdb_aggregate,
        "duckdb-plain": duckdb_plain_aggregate,
        "polars": polars_aggregate,
    }
    seconds = engines[engine](args[0], args[1])
    if timed:
        print(f"query_seconds={seconds:.4f}", file=sys.stderr)
