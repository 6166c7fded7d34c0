#!/usr/bin/env bash
# End-to-end comparison on the benchmark BAM, every tool measured in the same run, interleaved, several times.
#   perf/compare.sh [BAM]          default BAM: made by ../shared/bench/make-bench-bam.sh into perf/out/bench-data
#   perf/compare.sh --quick        tiny input (tests/fixtures/sample.bam), one repetition: keeps the script alive in CI
#   perf/compare.sh --long-reads   the same on each long-read benchmark BAM that perf/make-long-read-bams.sh makes into
#                                  perf/out/long-read-data (PacBio CLR-like, unaligned with MM/ML, ultra-long 200 kb-1 Mb)
#   perf/compare.sh --targets [--check-targets]
#                                  issue #16's targets in one interleaved run (perf/targets.py): on the benchmark BAM
#                                  and the three long-read BAMs, bamflow at 1 and 2 threads against samtools view -@2,
#                                  2 vs 1, peak RSS with default settings on the file and on it five times over (made
#                                  once beside it), and the same output bytes at 1, 2 and 3 threads. --check-targets
#                                  (alone or with --targets): exit 1 when a target is missed. Env: BENCH_BAM (default:
#                                  as above), LONG_READ_DIR (default perf/out/long-read-data; made if a file is
#                                  missing), BAMFLOW (an executable to measure instead of publishing this tree's).
#   perf/compare.sh --index [BAM]  issue #17's `bamflow index` target: bamflow index -@1/-@2 (BAI, and CSI -c at -@2)
#                                  against samtools index -@2 (and -c), interleaved; checks the indexes are the same
#                                  (BAI bytes; CSI inflated). Target: bamflow -@2 <= 0.7x samtools -@2 (stretch 0.5x).
#                                  Env: BAMFLOW as above.
#   perf/compare.sh --regions [BAM] [--check-targets]
#                                  issue #17's region targets (perf/regions.py): a region holding 10 % of the records
#                                  and 1,000 small regions with -M, bamflow convert -@2 against samtools view -@2 on the
#                                  same regions, after checking both select the same records. Env: BAMFLOW as above.
#   perf/compare.sh --shards [BAM ...] [--check-targets]
#                                  issue #18's shard figures (perf/shards.py): planning time and bytes read for N = 1 to
#                                  256 shards of each BAM, and the shards of the first converted one after the other
#                                  against the whole file (-@2). Default BAMs: the 10M-record benchmark (the benchmark
#                                  BAM five times over, samtools cat, made once beside it), the benchmark BAM (indexed),
#                                  the long-read BAMs of perf/make-long-read-bams.sh (LONG_READ_DIR). Env: BAMFLOW as above.
# Env: REPS (default 5). Prints a Markdown table (medians) and writes it to perf/out/compare-<date>.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); root=$(cd "$here/.." && pwd)
reps=${REPS:-5}; bam=""; quick=0
if [[ ${1:-} == --targets || ${1:-} == --check-targets ]]; then
  check=(); for a in "$@"; do [[ $a == --check-targets ]] && check=(--check); done
  for tool in samtools dotnet python3; do command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }; done
  short=${BENCH_BAM:-$("$root/../shared/bench/make-bench-bam.sh" "$here/out/bench-data" | tail -1)}
  long_dir=${LONG_READ_DIR:-$here/out/long-read-data}; long=("$long_dir/clr.bam" "$long_dir/unaligned.bam" "$long_dir/ultralong.bam")
  for f in "${long[@]}"; do
    [[ -s $f ]] || { mapfile -t long < <("$here/make-long-read-bams.sh" "$long_dir" | tail -3); break; }
  done
  mkdir -p "$here/out"
  bamflow=${BAMFLOW:-}
  if [[ -z $bamflow ]]; then
    dotnet publish "$root/src/Bamflow.Cli" -c Release -o "$here/out/bamflow" >/dev/null; bamflow=$here/out/bamflow/bamflow
  fi
  exec python3 "$here/targets.py" "$bamflow" "$reps" "$short" "${long[@]}" "${check[@]}" \
    --out "$here/out/targets-$(date +%Y%m%d-%H%M%S).md"
fi
if [[ ${1:-} == --regions ]]; then
  for tool in samtools dotnet python3; do command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }; done
  bam=${2:-}; [[ $bam == --check-targets ]] && bam=""
  [[ -n $bam ]] || bam=$("$root/../shared/bench/make-bench-bam.sh" "$here/out/bench-data" | tail -1)
  check=(); for a in "$@"; do [[ $a == --check-targets ]] && check=(--check); done
  mkdir -p "$here/out"; bamflow=${BAMFLOW:-}
  if [[ -z $bamflow ]]; then
    dotnet publish "$root/src/Bamflow.Cli" -c Release -o "$here/out/bamflow" >/dev/null; bamflow=$here/out/bamflow/bamflow
  fi
  exec python3 "$here/regions.py" "$bamflow" "$reps" "$bam" "${check[@]}" --out "$here/out/regions-$(date +%Y%m%d-%H%M%S).md"
fi
if [[ ${1:-} == --shards ]]; then
  for tool in samtools dotnet python3; do command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }; done
  shift; bams=(); check=()
  for a in "$@"; do if [[ $a == --check-targets ]]; then check=(--check); else bams+=("$a"); fi; done
  if ((${#bams[@]} == 0)); then
    short=${BENCH_BAM:-$("$root/../shared/bench/make-bench-bam.sh" "$here/out/bench-data" | tail -1)}
    big=${short%.bam}.x5.bam
    [[ -s $big && $big -nt $short ]] || samtools cat --no-PG -o "$big" "$short" "$short" "$short" "$short" "$short"
    long_dir=${LONG_READ_DIR:-$here/out/long-read-data}
    [[ -s $long_dir/ultralong.bam ]] || "$here/make-long-read-bams.sh" "$long_dir" >/dev/null
    bams=("$big" "$short" "$long_dir/clr.bam" "$long_dir/ultralong.bam")
  fi
  mkdir -p "$here/out"; bamflow=${BAMFLOW:-}
  if [[ -z $bamflow ]]; then
    dotnet publish "$root/src/Bamflow.Cli" -c Release -o "$here/out/bamflow" >/dev/null; bamflow=$here/out/bamflow/bamflow
  fi
  exec python3 "$here/shards.py" "$bamflow" "$reps" "${bams[@]}" "${check[@]}" --out "$here/out/shards-$(date +%Y%m%d-%H%M%S).md"
fi
if [[ ${1:-} == --index ]]; then
  for tool in samtools bgzip dotnet /usr/bin/time; do command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }; done
  bam=${2:-$("$root/../shared/bench/make-bench-bam.sh" "$here/out/bench-data" | tail -1)}
  mkdir -p "$here/out"; bamflow=${BAMFLOW:-}
  if [[ -z $bamflow ]]; then
    dotnet publish "$root/src/Bamflow.Cli" -c Release -o "$here/out/bamflow" >/dev/null; bamflow=$here/out/bamflow/bamflow
  fi
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  # The same index first: BAI byte for byte, CSI once inflated.
  samtools index -@2 "$bam" "$tmp/s.bai"; "$bamflow" index -@2 "$bam" "$tmp/b.bai"
  cmp -s "$tmp/s.bai" "$tmp/b.bai" || { echo "compare.sh: bamflow index and samtools index write different BAI for $bam" >&2; exit 1; }
  samtools index -c -@2 "$bam" "$tmp/s.csi"; "$bamflow" index -c -@2 "$bam" "$tmp/b.csi"
  cmp -s <(bgzip -dc "$tmp/s.csi") <(bgzip -dc "$tmp/b.csi") || { echo "compare.sh: bamflow index -c and samtools index -c differ for $bam" >&2; exit 1; }
  names=("bamflow index -@1" "bamflow index -@2" "samtools index -@2" "bamflow index -c -@2" "samtools index -c -@2")
  cmds=("$bamflow index -@1 $bam $tmp/i" "$bamflow index -@2 $bam $tmp/i" "samtools index -@2 $bam $tmp/i"
        "$bamflow index -c -@2 $bam $tmp/i" "samtools index -c -@2 $bam $tmp/i")
  load=$(cut -d' ' -f1 /proc/loadavg)
  for ((r = 0; r < reps; r++)); do                     # interleaved: noise hits every tool alike
    for i in "${!names[@]}"; do /usr/bin/time -f '%e %M' -o "$tmp/t" bash -c "${cmds[$i]}"; cat "$tmp/t" >> "$tmp/run$i"; done
  done
  median() { sort -n | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
  out=$here/out/index-$(date +%Y%m%d-%H%M%S).md
  {
    echo "Command: \`perf/compare.sh --index\` (REPS=$reps) on $(basename "$bam"), $(awk -v b="$(stat -c %s "$bam")" 'BEGIN{printf "%.1f", b/1e6}') MB; load average before: $load"
    echo
    echo "| run | seconds (median) | fastest | peak RSS MB | ratio vs samtools index -@2 (same format) |"
    echo "|---|---:|---:|---:|---:|"
    for i in "${!names[@]}"; do
      ref=2; [[ ${names[$i]} == *-c* ]] && ref=4
      awk -v n="${names[$i]}" -v s="$(cut -d' ' -f1 "$tmp/run$i" | median)" -v f="$(cut -d' ' -f1 "$tmp/run$i" | sort -n | head -1)" \
        -v kb="$(cut -d' ' -f2 "$tmp/run$i" | median)" -v r="$(cut -d' ' -f1 "$tmp/run$ref" | median)" \
        'BEGIN{printf "| `%s` | %.2f | %.2f | %.0f | %.2f |\n", n, s, f, kb/1024, s/r}'
    done
    echo
    echo "Target (issue #17): bamflow index -@2 <= 0.70x samtools index -@2 (stretch 0.50x)."
  } | tee "$out"
  exit 0
fi
if [[ ${1:-} == --long-reads ]]; then
  mapfile -t long_bams < <("$here/make-long-read-bams.sh" "$here/out/long-read-data" | tail -3)
  for f in "${long_bams[@]}"; do "$0" "$f"; done
  exit 0
fi
if [[ ${1:-} == --quick ]]; then bam=$root/tests/fixtures/sample.bam; reps=1; quick=1; else bam=${1:-}; fi
for tool in samtools bgzip dotnet /usr/bin/time; do command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y samtools tabix time)" >&2; exit 1; }; done
if [[ -z $bam ]]; then bam=$("$root/../shared/bench/make-bench-bam.sh" "$here/out/bench-data" | tail -1); fi
mkdir -p "$here/out"
dotnet publish "$root/src/Bamflow.Cli" -c Release -o "$here/out/bamflow" >/dev/null
bamflow=$here/out/bamflow/bamflow
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# The published executable is Native AOT; `dotnet run` and the tests use the JIT build. Both must write the same bytes.
dotnet build "$root/src/Bamflow.Cli" -c Release -o "$tmp/jit" >/dev/null
for f in "$root/tests/fixtures/sample.bam" "$root/tests/fixtures/edge-cases.bam"; do
  "$bamflow" convert "$f" -o "$tmp/native.arrow" --quiet
  dotnet "$tmp/jit/bamflow.dll" convert "$f" -o "$tmp/jit.arrow" --quiet
  cmp -s "$tmp/native.arrow" "$tmp/jit.arrow" || { echo "compare.sh: the native and JIT builds write different files for $f" >&2; exit 1; }
  # Parquet too, with row groups small enough that several are encoded at once and joined.
  "$bamflow" convert "$f" -o "$tmp/native.parquet" --quiet --row-group-size 100
  dotnet "$tmp/jit/bamflow.dll" convert "$f" -o "$tmp/jit.parquet" --quiet --row-group-size 100
  cmp -s "$tmp/native.parquet" "$tmp/jit.parquet" || { echo "compare.sh: the native and JIT builds write different Parquet files for $f" >&2; exit 1; }
done
cores=$(nproc); records=$(samtools view -c "$bam"); mb=$(awk -v b="$(stat -c %s "$bam")" 'BEGIN{printf "%.1f", b/1e6}')
declare -A runs
add() { runs["$1"]="$2"; }
for n in $(seq 1 "$cores"); do
  add "bamflow --threads $n" "$bamflow convert $bam -o - --quiet --threads $n"
  add "samtools view -@$n -o /dev/null" "samtools view -@$n -o /dev/null $bam"
  add "samtools view -c -@$n" "samtools view -c -@$n $bam"
  add "bgzip -d -@$n" "bgzip -d -@$n -c $bam"
  add "bamflow stats --threads $n" "$bamflow stats --threads $n $bam"
  add "samtools flagstat -@$n" "samtools flagstat -@$n $bam"
done
# bamflow stats must print what samtools flagstat prints (text and JSON), on this file too.
cmp -s <("$bamflow" stats "$bam") <(samtools flagstat "$bam") && cmp -s <("$bamflow" stats --json "$bam") <(samtools flagstat -O json "$bam") \
  || { echo "compare.sh: bamflow stats and samtools flagstat disagree on $bam" >&2; exit 1; }
add "bamflow --sequential" "$bamflow convert $bam -o - --quiet --sequential"
# The machine's own ceiling for two threads: two independent 1-thread conversions at once. No handoffs between
# them, so what they lose against one alone is the hardware's (shared caches, memory, the host's other guests).
if ((cores > 1)); then
  add "2 x bamflow --threads 1 at once" "$bamflow convert $bam -o - --quiet --threads 1 > /dev/null & $bamflow convert $bam -o - --quiet --threads 1 > /dev/null; wait"
fi
# Parquet (zstd, the default), to stdout like the IPC runs, at every thread count.
for n in $(seq 1 "$cores"); do add "bamflow parquet --threads $n" "$bamflow convert $bam -o - --format parquet --quiet --threads $n"; done
for ((r = 0; r < reps; r++)); do                       # interleaved: noise hits every tool alike
  for name in "${!runs[@]}"; do
    /usr/bin/time -f '%e %M' -o "$tmp/t" bash -c "${runs[$name]} > /dev/null"
    echo "$(cat "$tmp/t")" >> "$tmp/$(echo "$name" | tr ' /@' '___')"
  done
done
median() { sort -n | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
stat_of() { local f=$tmp/$(echo "$1" | tr ' /@' '___'); echo "$(cut -d' ' -f1 "$f" | median) $(cut -d' ' -f2 "$f" | median)"; }
out=$here/out/compare-$(date +%Y%m%d-%H%M%S).md
{
  echo "Command: \`perf/compare.sh $*\` (REPS=$reps) on $(basename "$bam"): $records records, $mb MB"
  echo "Machine: $cores cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(samtools --version | head -1), bgzip $(bgzip --version | head -1 | awk '{print $NF}'), dotnet $(dotnet --version)"
  echo "samtools/bgzip -@N: N extra threads. Medians of $reps runs; ratio = seconds / seconds of samtools view -@N -o /dev/null at the same N (for stats rows: of samtools flagstat -@N)."
  echo
  echo "| run | seconds | records/s | MB/s (compressed) | peak RSS MB | ratio vs samtools |"
  echo "|---|---:|---:|---:|---:|---:|"
  for name in $(printf '%s\n' "${!runs[@]}" | sort | tr ' ' '~'); do
    name=${name//\~/ }; read -r s kb <<< "$(stat_of "$name")"
    n=$(echo "$name" | grep -oE '(-@|--threads )[0-9]+' | grep -oE '[0-9]+' || echo 1)
    reference="samtools view -@$n -o /dev/null"; [[ $name == *stats* || $name == *flagstat* ]] && reference="samtools flagstat -@$n"
    read -r ref _ <<< "$(stat_of "$reference")"; files=1; [[ $name == 2\ x* ]] && files=2   # two conversions: twice the records
    awk -v n="$name" -v s="$s" -v kb="$kb" -v rec="$((records * files))" -v mb="$(awk -v m="$mb" -v f="$files" 'BEGIN{print m*f}')" -v ref="$ref" \
      'BEGIN{printf "| `%s` | %.2f | %.0f | %.0f | %.0f | %.2f |\n", n, s, rec/s, mb/s, kb/1024, s/ref}'
  done
  read -r s1 _ <<< "$(stat_of "bamflow --threads 1")"
  if ((cores > 1)); then
    read -r s2 _ <<< "$(stat_of "bamflow --threads 2")"; read -r sp _ <<< "$(stat_of "2 x bamflow --threads 1 at once")"
    awk -v a="$s1" -v b="$s2" -v p="$sp" 'BEGIN{printf "\nbamflow speed-up, 2 threads vs 1: %.2fx; the machine'"'"'s ceiling (2 x 1-thread time / time of two 1-thread runs at once): %.2fx, so %.0f%% of it\n", a/b, 2*a/p, 100*(a/b)/(2*a/p)}'
  fi
  # Parquet: time against the Arrow IPC run at the same thread count (target <= 2; medians, and the fastest of
  # each, which a shared machine disturbs least), size against the input BAM (target <= 1.2; one more run, into
  # a file, to measure it).
  "$bamflow" convert "$bam" -o "$tmp/size.parquet" --quiet
  best_of() { cut -d' ' -f1 "$tmp/$(echo "$1" | tr ' /@' '___')" | sort -n | head -1; }
  echo
  echo "| Parquet (zstd) | seconds | Arrow IPC seconds | time vs Arrow IPC | fastest vs fastest | peak RSS MB | output MB | size vs input BAM |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  for n in $(seq 1 "$cores"); do
    read -r p kb <<< "$(stat_of "bamflow parquet --threads $n")"; read -r a _ <<< "$(stat_of "bamflow --threads $n")"
    awk -v n="$n" -v p="$p" -v a="$a" -v bp="$(best_of "bamflow parquet --threads $n")" -v ba="$(best_of "bamflow --threads $n")" -v kb="$kb" \
      -v out="$(stat -c %s "$tmp/size.parquet")" -v inp="$(stat -c %s "$bam")" \
      'BEGIN{printf "| `bamflow parquet --threads %d` | %.2f | %.2f | %.2f | %.2f | %.0f | %.1f | %.2f |\n", n, p, a, p/a, bp/ba, kb/1024, out/1e6, out/inp}'
  done
} | tee "$out"

# Memory must not grow with the input: the same run on five copies of the file (samtools cat), three times.
if ((!quick)); then
  big=$tmp/x5.bam; samtools cat -o "$big" "$bam" "$bam" "$bam" "$bam" "$bam"
  for ((r = 0; r < 3; r++)); do
    /usr/bin/time -f '%e %M' -o "$tmp/t" "$bamflow" convert "$big" -o - --quiet > /dev/null; cat "$tmp/t" >> "$tmp/x5"
  done
  s5=$(cut -d' ' -f1 "$tmp/x5" | median); kb5=$(cut -d' ' -f2 "$tmp/x5" | median); max5=$(cut -d' ' -f2 "$tmp/x5" | sort -n | tail -1)
  read -r _ kb1 <<< "$(stat_of "bamflow --threads $cores")"
  awk -v r="$((records * 5))" -v s="$s5" -v a="$kb1" -v b="$kb5" -v m="$max5" -v n="$cores" \
    'BEGIN{printf "\nPeak RSS, default settings (--threads %d): %.0f MB on %d records, %.0f MB on 5x that (%d records, %.2f s; medians; largest of the 3 runs on 5x: %.0f MB): ratio %.2f\n", n, a/1024, r/5, b/1024, r, s, m/1024, b/a}' | tee -a "$out"
fi
