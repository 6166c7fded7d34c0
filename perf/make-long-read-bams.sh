#!/usr/bin/env bash
# Makes the long-read benchmark BAMs, the shapes of data a long-read user has, all simulated from the E. coli
# K-12 MG1655 reference in ../shared/data/ref by pbsim (Debian's pbsim 1.0.3, CLR/CCS error models), aligned
# by minimap2 where they are aligned. The same tool versions, seeds and arguments give the same records.
#
#   perf/make-long-read-bams.sh [OUT_DIR] [SCALE]      defaults: ./long-read-data 1
#
# Writes into OUT_DIR (prints the three paths last):
#   clr.bam        PacBio CLR-like: mean 12 kb (N50 ≈ 15 kb), ~88% accuracy, depth 20 × SCALE; minimap2 -ax map-pb
#                  with MD tags and a read group, coordinate-sorted and indexed.
#   unaligned.bam  a basecaller's unaligned BAM: no @SQ, every record flag 4, HiFi-like reads (pbsim CCS model,
#                  mean 15 kb), depth 20 × SCALE, with MM/ML base-modification tags (5hmC and 5mC at every CpG,
#                  C+h?;C+m?), and the ONT-style tags qs, ch, rn, RG.
#   ultralong.bam  ultra-long reads of 200 kb – 1 Mb (mean 400 kb), ~92% accuracy, depth 15 × SCALE, minimap2
#                  -ax map-ont, sorted and indexed.
# Re-running with a file present does not make it again. Needs: pbsim minimap2 samtools (Debian packages), python3.
set -euo pipefail
out=$(mkdir -p "${1:-./long-read-data}" && cd "${1:-./long-read-data}" && pwd)
scale=${2:-1}
here=$(cd "$(dirname "$0")" && pwd)
ref_gz=$here/../../shared/data/ref/ecoli-k12-mg1655.fa.gz
models=/usr/share/pbsim/models
for tool in pbsim minimap2 samtools python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y pbsim minimap2 samtools" >&2; exit 1; }
done
[[ -s $ref_gz ]] || { echo "missing $ref_gz (../shared beside the repository)" >&2; exit 1; }
work=$(mktemp -d "$out/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"   # relative names keep temporary paths out of the @PG lines
zcat "$ref_gz" > ref.fa
depth() { awk -v d="$1" -v s="$scale" 'BEGIN { printf "%.3f", d * s }'; }

# pbsim writes PREFIX_0001.fastq (one file per reference sequence; E. coli has one).
simulate() { # PREFIX DATA_TYPE DEPTH EXTRA...
  local prefix=$1 type=$2 d=$3; shift 3
  local model=$models/model_qc_clr; [[ $type == CCS ]] && model=$models/model_qc_ccs
  pbsim --prefix "$prefix" --data-type "$type" --depth "$d" --model_qc "$model" --seed 20261207 "$@" ref.fa >/dev/null 2>&1
  cat "$prefix"_*.fastq
}

align() { # FASTQ PRESET RG_ID OUT
  minimap2 -t 2 -ax "$2" --MD -R "@RG\tID:$3\tSM:MG1655\tPL:PACBIO" ref.fa "$1" 2>/dev/null |
    samtools sort -@ 2 -m 1G -T sort --no-PG -o "$4" - 2>/dev/null
  samtools index "$4"
}

if [[ ! -s $out/clr.bam ]]; then
  simulate clr CLR "$(depth 20)" --length-mean 12000 --length-sd 7000 --length-min 1000 --length-max 80000 \
    --accuracy-mean 0.88 --accuracy-sd 0.03 > clr.fq
  align clr.fq map-pb clr out.bam
  mv out.bam.bai "$out/clr.bam.bai"; mv out.bam "$out/clr.bam"
fi

if [[ ! -s $out/ultralong.bam ]]; then
  simulate ul CLR "$(depth 15)" --length-mean 400000 --length-sd 200000 --length-min 200000 --length-max 1000000 \
    --accuracy-mean 0.92 --accuracy-sd 0.02 > ul.fq
  align ul.fq map-ont ultralong out.bam
  mv out.bam.bai "$out/ultralong.bam.bai"; mv out.bam "$out/ultralong.bam"
fi

if [[ ! -s $out/unaligned.bam ]]; then
  simulate ccs CCS "$(depth 20)" --length-mean 15000 --length-sd 6000 --length-min 1000 --length-max 60000 > ccs.fq
  # SAM text as a basecaller writes it: unaligned, MM/ML at every CpG's C, both 5hmC (h) and 5mC (m), "?" mode.
  /usr/bin/python3 - ccs.fq > unaligned.sam <<'PY'
import random, re, sys
rng = random.Random(20261207)
print("@HD\tVN:1.6\tSO:unknown")
print("@RG\tID:run1\tSM:MG1655\tPL:ONT\tDS:basecall_model=sim")
with open(sys.argv[1]) as fq:
    n = 0
    while True:
        name = fq.readline()
        if not name:
            break
        seq = fq.readline().strip(); fq.readline(); qual = fq.readline().strip()
        n += 1
        cs = [m.start() for m in re.finditer("C", seq)]
        skips, last = [], -1
        for i, p in enumerate(cs):
            if p + 1 < len(seq) and seq[p + 1] == "G":
                skips.append(i - last - 1)
                last = i
        probs_m = [rng.randrange(200, 256) if rng.random() < 0.7 else rng.randrange(0, 40) for _ in skips]
        probs_h = [rng.randrange(0, 30) for _ in skips]
        body = ",".join(map(str, skips))
        mm = f"C+h?,{body};C+m?,{body};" if skips else "C+h?;C+m?;"
        ml = ",".join(map(str, probs_h + probs_m))
        tags = [f"qs:i:{rng.randrange(8, 30)}", f"ch:i:{rng.randrange(1, 3000)}", f"rn:i:{n}", "RG:Z:run1", f"MM:Z:{mm}"]
        if skips:
            tags.append(f"ML:B:C,{ml}")
        print("\t".join([f"read{n:07d}", "4", "*", "0", "0", "*", "*", "0", "0", seq, qual] + tags))
PY
  samtools view -b --no-PG -o "$out/unaligned.bam" unaligned.sam
fi
echo "$out/clr.bam"
echo "$out/unaligned.bam"
echo "$out/ultralong.bam"
