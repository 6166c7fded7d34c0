#!/usr/bin/env bash
# Fuzzes Bamflow's readers (tests/fuzz/Bamflow.Fuzz): BamReader, the sequential and the parallel engine.
#   tests/fuzz/run.sh mutate [N] [SEED]   the deterministic in-process mutation fuzzer: N mutants (default 200000)
#   tests/fuzz/run.sh afl [MINUTES]       AFL++ through SharpFuzz (apt-get install afl++; dotnet tool SharpFuzz.CommandLine)
#   tests/fuzz/run.sh replay FILE...      run saved inputs again
# The seed corpus is copied at run time from ../shared/data/bam (files up to 20 KB) and tests/fixtures into a
# temporary folder; nothing from ../shared is kept in the repository. Findings go to $FINDINGS (default: a temp dir).
set -euo pipefail
cd "$(dirname "$0")/../.."
mode=${1:-mutate}
work=$(mktemp -d -t bamflow-fuzz-XXXXXX)
findings=${FINDINGS:-$work/findings}
corpus=$work/corpus
mkdir -p "$corpus" "$findings"

cp tests/fixtures/*.bam "$corpus/"
if [[ -d ../shared/data/bam ]]; then
  find ../shared/data/bam -maxdepth 1 -name '*.bam' -size -20k -exec cp {} "$corpus/" \;
fi
echo "corpus: $(ls "$corpus" | wc -l) files in $corpus; findings: $findings" >&2

dotnet build -c Release tests/fuzz/Bamflow.Fuzz -v q -nologo >&2
dll=tests/fuzz/Bamflow.Fuzz/bin/Release/net10.0/Bamflow.Fuzz.dll

case $mode in
  mutate)
    dotnet "$dll" --mutate "${2:-200000}" --seed "${3:-1}" --corpus "$corpus" --findings "$findings" ${MINUTES:+--minutes "$MINUTES"}
    ;;
  replay)
    shift
    dotnet "$dll" --replay "$@"
    ;;
  afl)
    command -v afl-fuzz >/dev/null || { echo "afl-fuzz not found: apt-get install -y afl++" >&2; exit 2; }
    command -v sharpfuzz >/dev/null || export PATH="$PATH:$HOME/.dotnet/tools"
    command -v sharpfuzz >/dev/null || dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0 >&2
    # Instrument the libraries under test (not the harness, not the runtime) in a copy of the build output.
    out=$work/bin
    cp -r tests/fuzz/Bamflow.Fuzz/bin/Release/net10.0 "$out"
    for lib in Bamflow.Bgzf Bamflow.Bam Bamflow.Arrow Bamflow.Dataflow; do
      sharpfuzz "$out/$lib.dll" >&2
    done
    # AFL mutates small inputs best: seeds are the inflated BAM data of the small files (the harness compresses
    # them again with valid CRCs) plus the compressed files themselves.
    seeds=$work/seeds
    mkdir -p "$seeds"
    for f in "$corpus"/*.bam; do
      [[ $(stat -c %s "$f") -le 4096 ]] || continue
      cp "$f" "$seeds/"
      gzip -dc < "$f" > "$seeds/$(basename "$f" .bam).raw" 2>/dev/null || true
    done
    export AFL_SKIP_BIN_CHECK=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1
    timeout --signal=INT "$(( ${2:-15} * 60 ))" \
      afl-fuzz -i "$seeds" -o "$findings/afl" -t 20000 -m none -- dotnet "$out/Bamflow.Fuzz.dll" --afl || true
    cat "$findings/afl/default/fuzzer_stats" 2>/dev/null || true
    ls "$findings/afl/default/crashes" "$findings/afl/default/hangs" 2>/dev/null || true
    ;;
  *)
    echo "usage: $0 mutate [N] [SEED] | afl [MINUTES] | replay FILE..." >&2
    exit 2
    ;;
esac
