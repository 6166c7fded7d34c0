#!/usr/bin/env python3
"""Issue #18's figures for shards, every run of a table measured in the same interleaved rounds.

    python3 perf/shards.py BAMFLOW REPS BAM [MORE_BAM ...] [--check] [--out FILE.md]

Planning (every BAM): `bamflow plan BAM -n N` for N in 1, 4, 16, 64, 256 (and --no-index where BAM has an index):
wall seconds (median), compressed bytes planning read (the plan's own count) as a share of the file, boundaries from
the index and by search.
Conversion (the first BAM): the whole file, `bamflow convert BAM -@2 -o /dev/null` (the Arrow IPC file format, written
straight through, so the disk's writeback of gigabytes is no part of the figure), against its shards converted one after
the other, `bamflow convert BAM -@2 --plan P --shard K -o /dev/null`, for N in 4, 16, 64: the sum of the shards' wall
times (whole processes: start-up included) and of their engine times (the summary's seconds), each over the whole
file's, and the compressed bytes the shards read beyond their ranges (the summaries' input_bytes against the file).
Before timing, the shards' record counts are checked to add up to the whole run's.
--check: exit 1 when a target is missed (planning the first BAM into 64 shards reads < 1 % of it and takes < 0.5 s;
the 64 shards' wall times sum to <= 1.1x the whole file's).
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interleave import measure  # noqa: E402

PLAN_COUNTS = (1, 4, 16, 64, 256)
SHARD_COUNTS = (4, 16, 64)


def run(args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def has_index(bam):
    return any(os.path.exists(bam + suffix) or os.path.exists(os.path.splitext(bam)[0] + suffix) for suffix in (".bai", ".csi"))


def planning(bamflow, reps, bam, tmp):
    rows = []
    variants = [("", [])] + ([(" --no-index", ["--no-index"])] if has_index(bam) else [])
    configs = []
    for suffix, extra in variants:
        for n in PLAN_COUNTS:
            plan = os.path.join(tmp, "plan-%d%s.json" % (n, suffix.strip()))
            configs.append(("n=%d%s" % (n, suffix), dict(os.environ), " ".join([bamflow, "plan", bam, "-n", str(n), "-o", plan, "--quiet"] + extra)))
    runs = measure(reps, configs)
    size = os.path.getsize(bam)
    for (label, _, command), (suffix, _) in zip(configs, [v for v in variants for _ in PLAN_COUNTS]):
        plan = json.load(open(command.split(" -o ")[1].split(" ")[0]))
        p = plan["planning"]
        shards = [s["compressed_bytes"] for s in plan["shards"]]
        rows.append({
            "label": label, "wall": statistics.median(r[0] for r in runs[label]),
            "read": p["bytes_read"], "share": p["bytes_read"] / size, "index": p["boundaries_from_index"],
            "search": p["boundaries_from_search"], "largest": max(shards) / (size / len(shards)),
            "empty": sum(1 for s in shards if s == 0),
        })
    return rows


def conversion(bamflow, reps, bam, tmp):
    size = os.path.getsize(bam)
    out = "/dev/null"  # Arrow IPC file format, written straight through: the conversion's cost, not the disk's writeback
    whole_json = os.path.join(tmp, "whole.json")
    run([bamflow, "convert", bam, "-@2", "-o", out, "--quiet", "--summary-json", whole_json])
    whole_records = json.load(open(whole_json))["records"]
    configs = [("whole", dict(os.environ), "%s convert %s -@2 -o %s --quiet --summary-json %s" % (bamflow, bam, out, whole_json))]
    checks = {}
    for n in SHARD_COUNTS:
        plan = os.path.join(tmp, "conv-plan-%d.json" % n)
        run([bamflow, "plan", bam, "-n", str(n), "-o", plan, "--quiet"])
        script = os.path.join(tmp, "shards-%d.sh" % n)
        with open(script, "w") as f:
            f.write("set -e\nfor k in $(seq 1 %d); do %s convert %s -@2 --plan %s --shard $k -o %s --quiet --summary-json %s/s%d-$k.json; done\n"
                    % (n, bamflow, bam, plan, out, tmp, n))
        run(["bash", script])
        summaries = [json.load(open("%s/s%d-%d.json" % (tmp, n, k))) for k in range(1, n + 1)]
        records = sum(s["records"] for s in summaries)
        if records != whole_records:
            raise SystemExit("shards.py: the %d shards hold %d records, the whole file %d" % (n, records, whole_records))
        checks[n] = summaries
        configs.append(("%d shards" % n, dict(os.environ), "bash " + script))
    runs = measure(reps, configs)
    whole = statistics.median(r[0] for r in runs["whole"])
    whole_engine = json.load(open(whole_json))["seconds"]
    rows = [{"label": "whole file", "wall": whole, "ratio": 1.0, "engine": whole_engine, "engine_ratio": 1.0, "extra": 0.0}]
    for n in SHARD_COUNTS:
        label = "%d shards" % n
        wall = statistics.median(r[0] for r in runs[label])
        # The engine's own seconds (the summaries' "seconds"), from the last timed round.
        engine = sum(json.load(open("%s/s%d-%d.json" % (tmp, n, k)))["seconds"] for k in range(1, n + 1))
        read = sum(s["input_bytes"] for s in checks[n])
        rows.append({"label": label, "wall": wall, "ratio": wall / whole, "engine": engine,
                     "engine_ratio": engine / whole_engine, "extra": (read - size) / size, "per_shard": wall / n})
    return rows, whole_records


def main(argv):
    bamflow, reps, bams = argv[1], int(argv[2]), []
    check, out = False, None
    rest = argv[3:]
    while rest:
        a = rest.pop(0)
        if a == "--check":
            check = True
        elif a == "--out":
            out = rest.pop(0)
        else:
            bams.append(a)
    lines = []
    misses = []
    load = open("/proc/loadavg").read().split()[0]
    with tempfile.TemporaryDirectory() as tmp:
        lines.append("Command: `perf/compare.sh --shards` (REPS=%d); load average before: %s" % (reps, load))
        lines.append("")
        lines.append("Planning (`bamflow plan BAM -n N`; wall seconds, median):")
        lines.append("")
        lines.append("| file | MB | N | seconds | bytes read | share of file | from index | by search | largest shard / mean | empty |")
        lines.append("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
        for i, bam in enumerate(bams):
            for row in planning(bamflow, reps, bam, tmp):
                lines.append("| %s | %.1f | %s | %.3f | %s | %.2f %% | %d | %d | %.2f | %d |" % (
                    os.path.basename(bam), os.path.getsize(bam) / 1e6, row["label"], row["wall"], format(row["read"], ","),
                    100 * row["share"], row["index"], row["search"], row["largest"], row["empty"]))
                if i == 0 and row["label"] == "n=64" and (row["share"] >= 0.01 or row["wall"] >= 0.5):
                    misses.append("planning 64 shards: %.3f s, %.2f %% read (targets < 0.5 s, < 1 %%)" % (row["wall"], 100 * row["share"]))
        rows, records = conversion(bamflow, reps, bams[0], tmp)
        lines.append("")
        lines.append("Conversion of %s (%s records) at -@2, the shards one after the other (sums over the shards):" % (os.path.basename(bams[0]), format(records, ",")))
        lines.append("")
        lines.append("| run | wall seconds (median) | / whole | engine seconds | / whole | per shard (wall) | read beyond the ranges |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|")
        for row in rows:
            lines.append("| %s | %.2f | %.3f | %.2f | %.3f | %s | %.3f %% |" % (
                row["label"], row["wall"], row["ratio"], row["engine"], row["engine_ratio"],
                "%.3f" % row["per_shard"] if "per_shard" in row else "", 100 * row["extra"]))
            if row["label"] == "64 shards" and row["ratio"] > 1.1:
                misses.append("64 shards sum to %.3fx the whole file's wall time (target <= 1.1x)" % row["ratio"])
    text = "\n".join(lines) + "\n"
    print(text)
    if out:
        with open(out, "w") as f:
            f.write(text)
    if misses:
        print("missed: " + "; ".join(misses), file=sys.stderr)
        if check:
            sys.exit(1)


if __name__ == "__main__":
    main(sys.argv)
