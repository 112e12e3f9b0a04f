# shellcheck shell=bash
# Shared by the benchmark scripts (sourced): reading /usr/bin/time -v reports and medians.

# wall_seconds FILE → the elapsed wall-clock time of a `/usr/bin/time -v -o FILE` report, in s
wall_seconds() {
  awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$1"
}

# peak_rss_kb FILE → the maximum resident set size of such a report, in kB
peak_rss_kb() {
  awk -F': ' '/Maximum resident set size/ {print $2}' "$1"
}

# median VALUE... → the median (the upper one of an even count)
median() {
  printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
