#!/usr/bin/env python3
"""Issue #16's targets, measured side by side in one run: `perf/compare.sh --targets` calls this after publishing.

    python3 perf/targets.py BAMFLOW REPS SHORT_BAM LONG_BAM... [--check] [--out FILE]

For each input (the short-read benchmark first, then the long-read ones), interleaved over REPS rounds
(perf/interleave.py's `measure`; every input's runs in every round):
  t1    BAMFLOW convert F -o - --quiet --threads 1 > /dev/null
  t2    BAMFLOW convert F -o - --quiet --threads 2 > /dev/null
  sam2  samtools view -@2 -o /dev/null F
  def   BAMFLOW convert F -o - --quiet > /dev/null          (default settings: the peak RSS figure)
  def5  BAMFLOW convert F5 -o - --quiet > /dev/null         (F5 = F five times over: the memory scaling check)
  pair  two t1 runs at once: the machine's own ceiling for 2 vs 1 (2 x t1 / pair), which moves with the host's load
F5 is made once, beside F (`samtools cat --no-PG -o F.x5.bam F F F F F`, kept while newer than F), and only kept
if its header is F's byte for byte and it has five times F's records (`samtools view -c`).
Before timing, the output identity check: the Arrow IPC stream at --threads 1, 2 and 3 must be the same bytes (cmp);
--threads 3 runs with DOTNET_PROCESSOR_COUNT=3, since bamflow reduces --threads to the cores it sees, and the
summary line must say 3 threads (else the row says so).
Prints a Markdown table of medians and each target of issue #16 met or missed; with --check, exits 1 if one is missed.
"""
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interleave import measure  # noqa: E402

# Issue #16, "Targets": (bamflow -@2 / samtools view -@2 at most, 2 vs 1 at least) by kind of input.
SPEED = {"short": (0.8, 1.85), "long": (1.0, 1.8)}
STRETCH_LONG = 0.8
RSS_MAX_MB = 400
SCALING = (0.85, 1.15)


def sh(*args, **kw):
    return subprocess.run(list(args), check=True, capture_output=True, text=True, errors="replace", **kw).stdout


def busy_seconds():
    """The machine's busy CPU time so far (every vCPU, all but idle and iowait), from /proc/stat, in seconds."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def q(path):
    return shlex.quote(path)


def records(bam):
    return int(sh("samtools", "view", "-c", "-@2", bam).strip())


def five_times(bam):
    """F.x5.bam beside F: made once, checked when made."""
    stem = bam[:-4] if bam.endswith(".bam") else bam
    big = stem + ".x5.bam"
    if os.path.exists(big) and os.path.getmtime(big) >= os.path.getmtime(bam):
        return big
    print("making %s (samtools cat, once) ..." % big, file=sys.stderr)
    partial = big + ".partial"
    subprocess.run(["samtools", "cat", "--no-PG", "-o", partial] + [bam] * 5, check=True)
    header = sh("samtools", "view", "-H", "--no-PG", bam)
    if sh("samtools", "view", "-H", "--no-PG", partial) != header:
        os.remove(partial)
        raise SystemExit("targets.py: samtools cat changed the header of %s" % bam)
    n, n5 = records(bam), records(partial)
    if n5 != 5 * n:
        os.remove(partial)
        raise SystemExit("targets.py: %s has %d records, not 5 x %d" % (partial, n5, n))
    os.replace(partial, big)
    return big


def identity(bamflow, bam, tmp):
    """Returns (same bytes at 1, 2 and 3 threads?, note)."""
    reference = os.path.join(tmp, "t1.arrow")
    with open(reference, "wb") as out:
        subprocess.run([bamflow, "convert", bam, "-o", "-", "--quiet", "--threads", "1"], stdout=out, check=True)
    note, same = [], os.path.getsize(reference) > 0
    for n in (2, 3):
        env = dict(os.environ, DOTNET_PROCESSOR_COUNT=str(n)) if n > os.cpu_count() else None
        command = "cmp %s <(%s convert %s -o - --threads %d 2>%s)" % (
            q(reference), q(bamflow), q(bam), n, q(os.path.join(tmp, "err")))
        result = subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True)
        if result.returncode != 0:
            same = False
            note.append("%d threads differ: %s" % (n, result.stdout.strip() or result.stderr.strip()))
        summary = open(os.path.join(tmp, "err")).read()
        if not re.search(r"\b%d threads\b" % n, summary):
            note.append("the summary at --threads %d does not say %d threads" % (n, n))
    os.remove(reference)
    return same, "; ".join(note)


def main(argv):
    check = "--check" in argv
    argv = [a for a in argv if a != "--check"]
    out_path = None
    if "--out" in argv:
        i = argv.index("--out")
        out_path = argv[i + 1]
        del argv[i:i + 2]
    bamflow, reps, short, longs = argv[1], int(argv[2]), argv[3], argv[4:]
    inputs = [(short, "short")] + [(f, "long") for f in longs]
    started = time.time()
    load_before = os.getloadavg()

    files = []
    tmp = tempfile.mkdtemp(prefix="bamflow-targets.")
    try:
        for bam, kind in inputs:
            big = five_times(bam)
            print("identity check on %s ..." % os.path.basename(bam), file=sys.stderr)
            same, note = identity(bamflow, bam, tmp)
            files.append(dict(bam=bam, big=big, kind=kind, name=os.path.basename(bam), records=records(bam),
                              mb=os.path.getsize(bam) / 1e6, same=same, note=note))
    finally:
        shutil.rmtree(tmp)

    env = dict(os.environ)
    configs = []
    bamflow = q(bamflow)
    for i, f in enumerate(files):
        bam, big = q(f["bam"]), q(f["big"])
        configs += [
            ("%d t1" % i, env, "%s convert %s -o - --quiet --threads 1" % (bamflow, bam)),
            ("%d t2" % i, env, "%s convert %s -o - --quiet --threads 2" % (bamflow, bam)),
            ("%d sam2" % i, env, "samtools view -@2 -o /dev/null %s" % bam),
            ("%d def" % i, env, "%s convert %s -o - --quiet" % (bamflow, bam)),
            ("%d def5" % i, env, "%s convert %s -o - --quiet" % (bamflow, big)),
            ("%d pair" % i, env, "{0} > /dev/null & {0} > /dev/null; wait".format(
                "%s convert %s -o - --quiet --threads 1" % (bamflow, bam))),
        ]
    busy_before, timed_start = busy_seconds(), time.perf_counter()
    runs = measure(reps, configs, progress=lambda r: print("round %d of %d done" % (r, reps), file=sys.stderr))
    timed = time.perf_counter() - timed_start
    load_after = os.getloadavg()
    # Other jobs' share of the machine while the rounds ran: its busy time less the measured commands' own CPU.
    others = (busy_seconds() - busy_before - sum(x[1] for r in runs.values() for x in r)) / timed

    def med(label, k):
        return statistics.median(x[k] for x in runs[label])

    lines, missed, stretch_met, stretch_missed = [], [], [], []
    lines.append("Command: `perf/compare.sh --targets` (REPS=%d): bamflow = %s, inputs %s; medians of %d interleaved rounds" % (
        reps, bamflow, ", ".join(b for b, _ in inputs), reps))
    lines.append("Machine: %d cores, %s; %s; load average %.2f before, %.2f after (1 min); other jobs "
                 "used %.2f of the %d cores on average during the timed rounds (%.0f s)" % (
                     os.cpu_count(), cpu_model(), sh("samtools", "--version").splitlines()[0], load_before[0],
                     load_after[0], max(0.0, others), os.cpu_count(), timed))
    lines.append("")
    lines.append("| file | records | MB | -@1 s | -@2 s | samtools -@2 s | -@2 / samtools | 2 vs 1 | ceiling | CPU-s -@1 / -@2 "
                 "| RSS MB | RSS MB, 5x | 5x / 1x | same bytes at 1/2/3 threads |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for i, f in enumerate(files):
        t1, t2, s2 = med("%d t1" % i, 0), med("%d t2" % i, 0), med("%d sam2" % i, 0)
        c1, c2 = med("%d t1" % i, 1), med("%d t2" % i, 1)
        rss, rss5 = med("%d def" % i, 2) / 1024, med("%d def5" % i, 2) / 1024
        rss_max = max(x[2] for x in runs["%d def" % i] + runs["%d def5" % i]) / 1024
        ratio, speedup, scaling = t2 / s2, t1 / t2, rss5 / rss
        ceiling = 2 * t1 / med("%d pair" % i, 0)
        max_ratio, min_speedup = SPEED[f["kind"]]
        lines.append("| `%s` (%s) | %s | %.1f | %.2f | %.2f | %.2f | %.2f | %.2fx | %.2fx | %.2f / %.2f | %.0f | %.0f | %.2f | %s |" % (
            f["name"], f["kind"], format(f["records"], ","), f["mb"], t1, t2, s2, ratio, speedup, ceiling, c1, c2, rss, rss5, scaling,
            ("yes" if f["same"] else "**NO**") + (" (%s)" % f["note"] if f["note"] else "")))
        name = f["name"]
        if ratio > max_ratio:
            missed.append("%s: -@2 is %.2fx samtools view -@2 (target <= %.2fx)" % (name, ratio, max_ratio))
        if speedup < min_speedup:
            missed.append("%s: 2 vs 1 threads %.2fx (target >= %.2fx)" % (name, speedup, min_speedup))
        if rss_max > RSS_MAX_MB:
            missed.append("%s: peak RSS up to %.1f MB (target <= %d MB, every run)" % (name, rss_max, RSS_MAX_MB))
        if not SCALING[0] <= scaling <= SCALING[1]:
            missed.append("%s: peak RSS 5x / 1x = %.2f (target %.2f-%.2f)" % (name, scaling, SCALING[0], SCALING[1]))
        if not f["same"]:
            missed.append("%s: output differs between thread counts" % name)
        if f["kind"] == "long":
            (stretch_met if ratio <= STRETCH_LONG else stretch_missed).append(name)
    lines.append("")
    lines.append("Targets (issue #16): -@2 / samtools <= %.2f short, <= %.2f long (stretch %.2f); 2 vs 1 >= %.2f short, "
                 ">= %.2f long; peak RSS <= %d MB in every default run (1x and 5x); 5x / 1x within %.2f-%.2f; same bytes "
                 "at every thread count." % (SPEED["short"][0], SPEED["long"][0], STRETCH_LONG, SPEED["short"][1],
                                              SPEED["long"][1], RSS_MAX_MB, SCALING[0], SCALING[1]))
    lines.append("ceiling: two --threads 1 runs at once, 2 x (-@1 s) / their time: what this machine allowed 2 vs 1 "
                 "to be during the run (not a target).")
    lines.append("Missed: " + ("none" if not missed else "; ".join(missed)))
    if stretch_met or stretch_missed:
        lines.append("Stretch (long reads, -@2 / samtools <= %.2f; not checked): met on %s; not on %s." % (
            STRETCH_LONG, ", ".join(stretch_met) or "none", ", ".join(stretch_missed) or "none"))
    lines.append("Took %.0f s (identity checks and any 5x files included)." % (time.time() - started))
    text = "\n".join(lines)
    print(text)
    if out_path:
        with open(out_path, "w") as out:
            out.write(text + "\n")
    return 1 if check and missed else 0


def cpu_model():
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown CPU"


if __name__ == "__main__":
    sys.exit(main(sys.argv))
