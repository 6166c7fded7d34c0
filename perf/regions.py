#!/usr/bin/env python3
"""Issue #17's speed targets for region queries, every tool measured in the same interleaved run (`bamflow index`'s:
`perf/compare.sh --index`).

    python3 perf/regions.py BAMFLOW REPS BAM [--check] [--out FILE.md]

On BAM (coordinate-sorted; indexed by samtools into a temporary folder if it has no index):
  * one region holding about 10 % of the records (between the 45th and 55th percentile of the positions):
    `bamflow convert BAM REGION -o - --threads 2` against `samtools view -@2 -o /dev/null BAM REGION` (target <= 1.0);
  * 1,000 small regions (1 kb, spread over the references) with -M: against samtools view -M (target <= 1.0).
Before timing, every case's records are checked: `bamflow stats` over the selection prints what `samtools flagstat`
prints over `samtools view -b` of it (so the rows counted are the same rows), and the Arrow row count is samtools'.
Prints a Markdown table of medians (wall seconds, ratio) and writes it to --out.
"""
import json
import os
import random
import shlex
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interleave import measure  # noqa: E402


def sh(command, **kw):
    return subprocess.run(["bash", "-c", "set -o pipefail; " + command], check=True, capture_output=True, text=True, **kw).stdout


def positions(bam):
    """(reference, pos) of every placed record, in file order, and the references' lengths."""
    lengths = {}
    for line in sh("samtools view -H %s" % shlex.quote(bam)).splitlines():
        if line.startswith("@SQ"):
            fields = dict(f.split(":", 1) for f in line.split("\t")[1:] if ":" in f)
            lengths[fields["SN"]] = int(fields["LN"])
    out = sh("samtools view %s | cut -f3,4" % shlex.quote(bam))
    placed = [(r, int(p)) for r, p in (l.split("\t") for l in out.splitlines()) if r != "*"]
    return placed, lengths


def main(argv):
    bamflow, reps, bam = argv[1], int(argv[2]), argv[3]
    check = "--check" in argv
    out_path = argv[argv.index("--out") + 1] if "--out" in argv else None
    tmp = tempfile.mkdtemp(prefix="bamflow-regions-")
    q = shlex.quote
    if not (os.path.exists(bam + ".bai") or os.path.exists(bam + ".csi")):
        link = os.path.join(tmp, os.path.basename(bam))
        os.symlink(os.path.abspath(bam), link)
        sh("samtools index -@2 %s" % q(link))
        bam = link

    placed, lengths = positions(bam)
    placed.sort()
    lo, hi = placed[len(placed) * 45 // 100], placed[len(placed) * 55 // 100]
    if lo[0] != hi[0]:
        lo = next(p for p in placed if p[0] == hi[0])
    ten = "%s:%d-%d" % (hi[0], lo[1], hi[1])
    rng = random.Random(17)
    names = [n for n in lengths if lengths[n] > 0]
    small = []
    for _ in range(1000):
        name, pos = placed[rng.randrange(len(placed))] if placed else (rng.choice(names), 1)
        small.append("%s:%d-%d" % (name, pos, pos + 999))
    small_file = os.path.join(tmp, "small.args")
    with open(small_file, "w") as f:
        f.write(" ".join(small))
    small_args = "$(cat %s)" % q(small_file)

    cases = [
        ("10% region", "", ten),
        ("1,000 regions, -M", "-M", small_args),
    ]
    # The rows first: the same records as samtools, counted by flagstat over them and by the Arrow row count.
    for label, opts, regions in cases:
        ours = sh("%s stats %s %s %s" % (q(bamflow), opts, q(bam), regions))
        theirs = sh("samtools view -u %s %s %s | samtools flagstat -" % (opts, q(bam), regions))
        if ours != theirs:
            raise SystemExit("regions.py: %s: bamflow stats differs from samtools flagstat of the same selection" % label)
        summary = tmp + "/summary.json"
        sh("%s convert %s %s %s -o %s --quiet --summary-json %s" % (q(bamflow), opts, q(bam), regions, q(tmp + "/x.arrow"), q(summary)))
        rows = json.load(open(summary))["records"]
        count = int(sh("samtools view -c %s %s %s" % (opts, q(bam), regions)).strip())
        if rows != count:
            raise SystemExit("regions.py: %s: bamflow wrote %d rows, samtools view -c counts %d" % (label, rows, count))
    env = dict(os.environ)
    configs = []
    for label, opts, regions in cases:
        configs.append((label + " bamflow", env, "%s convert %s %s %s -o - --quiet --threads 2" % (q(bamflow), opts, q(bam), regions)))
        configs.append((label + " samtools", env, "samtools view -@2 -o /dev/null %s %s %s" % (opts, q(bam), regions)))
    runs = measure(reps, configs)

    def med(label):
        return statistics.median(r[0] for r in runs[label])

    targets = [("10% region", 1.0), ("1,000 regions, -M", 1.0)]
    lines = [
        "Command: `perf/regions.py BAMFLOW %d %s` on %s (%d placed records); medians of %d interleaved rounds, wall seconds"
        % (reps, os.path.basename(bam), os.path.basename(bam), len(placed), reps),
        "10%% region: `%s`; samtools 1.16, -@2 on both sides; rows checked first (flagstat of the selection, row count)" % ten,
        "",
        "| case | bamflow s | samtools s | ratio | target | met |",
        "|---|---:|---:|---:|---:|---|",
    ]
    missed = []
    for label, target in targets:
        ours, theirs = med(label + " bamflow"), med(label + " samtools")
        ratio = ours / theirs
        met = ratio <= target
        if not met:
            missed.append(label)
        lines.append("| %s | %.3f | %.3f | %.2f | <= %.1f | %s |" % (label, ours, theirs, ratio, target, "yes" if met else "no"))
    text = "\n".join(lines)
    print(text)
    if out_path:
        with open(out_path, "w") as f:
            f.write(text + "\n")
    if check and missed:
        raise SystemExit("regions.py: targets missed: " + ", ".join(missed))


if __name__ == "__main__":
    main(sys.argv)
