#!/usr/bin/env python3
"""Times commands interleaved, REPS rounds, and prints medians: wall seconds, CPU seconds (user + system, from
rusage), idle2 = 2 x wall - CPU (core-seconds a 2-core machine left idle), peak RSS.

    python3 perf/interleave.py REPS 'LABEL=[VAR~VALUE;...]|COMMAND' ...

e.g.  python3 perf/interleave.py 20 't1=|bamflow convert BAM -o - --quiet --threads 1' \\
                                   't2=|bamflow convert BAM -o - --quiet --threads 2'
Each COMMAND runs under `bash -c exec`, stdout and stderr to /dev/null, with the VARs added to the environment.
Used for the same-run comparisons in perf/RESULTS.md that compare.sh does not make (build variants, settings).
"""
import os
import statistics
import subprocess
import sys
import time


def measure(reps, configs, progress=None):
    """Runs each (label, env, command) of configs once per round, reps rounds, and returns {label: [(wall seconds,
    CPU seconds, peak RSS KiB), ...]}. Peak RSS is the process's ru_maxrss, the figure `/usr/bin/time -f %M` prints;
    with `exec` it is the command's own process. A command that exits non-zero raises (a failed run is no figure)."""
    runs = {label: [] for label, _, _ in configs}
    with open(os.devnull, "w") as null:
        for round_index in range(reps):  # interleaved: noise on the shared machine hits every command alike
            for label, env, command in configs:
                start = time.perf_counter()
                process = subprocess.Popen(["bash", "-c", "exec " + command], env=env, stdout=null, stderr=null)
                _, status, usage = os.wait4(process.pid, 0)
                wall = time.perf_counter() - start
                if status != 0:
                    raise RuntimeError("%s failed (wait status %d): %s" % (label, status, command))
                runs[label].append((wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss))
            if progress:
                progress(round_index + 1)
    return runs


def main(argv):
    reps = int(argv[1])
    configs = []
    for spec in argv[2:]:
        label, rest = spec.split("=", 1)
        variables, command = rest.split("|", 1)
        env = dict(os.environ)
        for pair in filter(None, variables.split(";")):
            name, value = pair.split("~", 1)
            env[name] = value
        configs.append((label, env, command))
    runs = measure(reps, configs)
    for label, _, _ in configs:
        r = runs[label]
        print("%-12s wall %.3f (min %.3f) cpu %.3f idle2 %.3f rss %d MB" % (
            label, statistics.median(x[0] for x in r), min(x[0] for x in r), statistics.median(x[1] for x in r),
            statistics.median(2 * x[0] - x[1] for x in r), statistics.median(x[2] for x in r) / 1024))


if __name__ == "__main__":
    main(sys.argv)
