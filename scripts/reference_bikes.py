#!/usr/bin/env python3
"""Independent reference for the bike section, in DuckDB SQL, on the dataset's CSV export.

    reference_bikes.py INPUT.csv[.gz] OUTPUT.csv [--engine duckdb|duckdb-plain] [--time]

`--engine duckdb` (default) computes, per Europe/Paris day, what `cityflow` puts in a report
(docs/inputs.md, "Bike counters"), with DuckDB's own CSV reader, time zones and SQL:
- a count is valid when it is a non-negative whole number; the same (counter, hour) counts
  once;
- the counters of the run are every counter of the file; a counter fails on day D when all
  its valid counts of D are 0, when one non-zero count is seen in more than 12 of D's hours,
  or when 6 or more of D's hours (23, 24 or 25) have no valid count;
- the day's total is the sum of its valid counts over the counters not failing.
Output: date;total;failing (the failing counter ids, sorted, `|`-separated).

`--engine duckdb-plain` is the plain `GROUP BY counter, Paris day` a DuckDB user would first
write (a SUM of `Comptage horaire`, nothing else): the benchmark's baseline. Output:
counter;date;total.

--time prints `query_seconds=S` on stderr: the query alone, without Python's start and the
import of DuckDB (bench/bikes.sh).
"""
import sys
import time

COLUMNS = ["counter", "nom", "site", "site_nom", "n", "ts", "install", "photo", "coords",
           "tech", "id_photos", "test_photos", "photo1", "url", "type", "mois"]


def read_csv():
    columns = ", ".join(f"'{c}': 'VARCHAR'" for c in COLUMNS)
    return (f"read_csv(?, delim=';', header=true, quote='\"', escape='\"', auto_detect=false, "
            f"columns={{{columns}}})")


def run(src, dst, query):
    import duckdb

    started = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"COPY ({query}) TO '{dst}' (HEADER, DELIMITER ';')", [src])
    return time.perf_counter() - started


def reference(src, dst):
    return run(src, dst, f"""
      WITH raw AS (
        SELECT counter, CAST(ts AS TIMESTAMPTZ) AS instant, TRY_CAST(n AS DOUBLE) AS n
        FROM {read_csv()}
      ),
      hourly AS (  -- one value per (counter, hour); NULL when no valid count
        SELECT counter, instant,
               MAX(CASE WHEN n >= 0 AND n = floor(n) THEN n END) AS n
        FROM raw GROUP BY counter, instant
      ),
      placed AS (
        SELECT counter, n,
               CAST(timezone('Europe/Paris', instant) AS DATE) AS day
        FROM hourly
      ),
      days AS (
        SELECT DISTINCT day,
          date_diff('hour', timezone('Europe/Paris', CAST(day AS TIMESTAMP)),
                            timezone('Europe/Paris', CAST(day + 1 AS TIMESTAMP))) AS hours
        FROM placed
      ),
      counters AS (SELECT DISTINCT counter FROM raw),
      per_day AS (
        SELECT counter, day, COUNT(n) AS valid, SUM(n) AS total
        FROM placed GROUP BY counter, day
      ),
      same AS (
        SELECT counter, day, MAX(c) AS most
        FROM (SELECT counter, day, n, COUNT(*) AS c FROM placed WHERE n > 0
              GROUP BY counter, day, n)
        GROUP BY counter, day
      ),
      judged AS (
        SELECT d.day, c.counter, COALESCE(p.total, 0) AS total,
               (COALESCE(p.valid, 0) > 0 AND COALESCE(p.total, 0) = 0)
               OR COALESCE(s.most, 0) > 12
               OR d.hours - COALESCE(p.valid, 0) >= 6 AS failing
        FROM days d CROSS JOIN counters c
        LEFT JOIN per_day p ON p.counter = c.counter AND p.day = d.day
        LEFT JOIN same s ON s.counter = c.counter AND s.day = d.day
      )
      SELECT strftime(day, '%Y-%m-%d') AS date,
             CAST(SUM(CASE WHEN failing THEN 0 ELSE total END) AS BIGINT) AS total,
             COALESCE(string_agg(CASE WHEN failing THEN counter END, '|' ORDER BY counter), '')
               AS failing
      FROM judged GROUP BY day ORDER BY day
    """)


def plain(src, dst):
    return run(src, dst, f"""
      SELECT counter, CAST(timezone('Europe/Paris', CAST(ts AS TIMESTAMPTZ)) AS DATE) AS date,
             SUM(TRY_CAST(n AS DOUBLE)) AS total
      FROM {read_csv()} GROUP BY ALL
    """)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    engine = "duckdb"
    if "--engine" in sys.argv:
        engine = sys.argv[sys.argv.index("--engine") + 1]
        args = [a for a in args if a != engine]
    if len(args) != 2:
        sys.exit(__doc__)
    seconds = {"duckdb": reference, "duckdb-plain": plain}[engine](args[0], args[1])
    if "--time" in sys.argv:
        print(f"query_seconds={seconds:.3f}", file=sys.stderr)


if __name__ == "__main__":
    main()
