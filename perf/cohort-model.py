#!/usr/bin/env python3
"""Issue #18's model past this machine: the wall time of converting a cohort on a cluster, worked out from figures
measured here (perf/RESULTS.md: `perf/compare.sh --shards` and `perf/compare.sh`), with the cluster's own figures as
assumptions that are printed with the result.

    python3 perf/cohort-model.py [--samples 100] [--gb 100] [--nodes 10 100] [--cores 64] [--shard-gb 4]
                                 [--core-s-per-gb S] [--shard-overhead-s S] [--plan-s S] [--nic-gbps G]
                                 [--fs-gbps G] [--submit-per-s R] [--job-latency-s S] [--extra-read F]

Measured here (defaults; replace them with your own run's):
  core-s-per-gb     core-seconds bamflow spends per GB of BAM (short reads, Arrow out): the benchmark at one thread
  shard-overhead-s  wall seconds a shard job costs beyond its share of the work (start-up, fill and drain, the plan's
                    schema read): (sum of the 64 shards' wall times - the whole file's) / 64, at -@2
  plan-s            planning one file into its shards (64 shards of the 10M-record benchmark: reads < 1 %)
  extra-read        compressed bytes a shard reads beyond its range, as a share of the file
Assumed (not measurable on one 2-core machine; say so when quoting the result):
  cores             cores per node, each converting as fast as one core here (bamflow's 2-vs-1 here: 1.84x)
  nic-gbps          GB/s one node reads from storage (25 GbE: about 3 GB/s)
  fs-gbps           GB/s the shared storage gives all nodes together (a parallel file system or object store)
  submit-per-s      jobs per second the workflow engine submits to the scheduler (Snakemake to Slurm: a few)
  job-latency-s     a job's queueing and start-up on the cluster (container pull excluded)
  threads-per-job   -@ of each shard job; a node runs cores / threads-per-job jobs at once
The model: every shard is a job; the cohort's
wall time is the largest of the CPU time spread over the cores the jobs can fill, the bytes over the nodes' links, the bytes over the
storage, and the submission of all jobs, plus one job's latency and the planning (done in parallel, one job per file).
"""
import argparse
import math


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--samples", type=int, default=100)
    p.add_argument("--gb", type=float, default=100.0, help="GB of BAM per sample")
    p.add_argument("--nodes", type=int, nargs="+", default=[10, 100])
    p.add_argument("--cores", type=int, default=64)
    p.add_argument("--threads-per-job", type=int, default=8, help="-@ of each shard job (a node runs cores / threads jobs at once)")
    p.add_argument("--shard-gb", type=float, default=4.0, help="GB of BAM per shard (shards per file = ceil(gb / shard-gb))")
    p.add_argument("--core-s-per-gb", type=float, required=True)
    p.add_argument("--shard-overhead-s", type=float, required=True)
    p.add_argument("--plan-s", type=float, required=True)
    p.add_argument("--extra-read", type=float, default=0.0)
    p.add_argument("--nic-gbps", type=float, default=3.0)
    p.add_argument("--fs-gbps", type=float, default=50.0)
    p.add_argument("--submit-per-s", type=float, default=5.0)
    p.add_argument("--job-latency-s", type=float, default=30.0)
    a = p.parse_args()

    shards_per_file = max(1, math.ceil(a.gb / a.shard_gb))
    jobs = a.samples * shards_per_file
    total_gb = a.samples * a.gb * (1 + a.extra_read)
    cpu_core_s = a.samples * a.gb * a.core_s_per_gb + jobs * a.shard_overhead_s * a.threads_per_job  # a job holds its cores
    print("Cohort: %d samples x %.0f GB = %.1f TB of BAM; %d shards per file of %.1f GB, %d shard jobs." % (
        a.samples, a.gb, a.samples * a.gb / 1000, shards_per_file, a.gb / shards_per_file, jobs))
    print("Measured here: %.2f core-s per GB, %.3f s per shard job beyond its work, planning %.2f s per file, %.2f %% read beyond the ranges." % (
        a.core_s_per_gb, a.shard_overhead_s, a.plan_s, 100 * a.extra_read))
    print("Assumed: %d cores per node in jobs of -@%d, each core as fast as one here; %.1f GB/s per node; %.0f GB/s shared storage; %.0f jobs/s submitted; %.0f s job latency." % (
        a.cores, a.threads_per_job, a.nic_gbps, a.fs_gbps, a.submit_per_s, a.job_latency_s))
    print()
    print("| nodes | cores | CPU-bound | node links | shared storage | submitting | wall time (the largest + latency + planning) | bound by |")
    print("|---:|---:|---:|---:|---:|---:|---:|---|")
    for nodes in a.nodes:
        busy_cores = min(nodes * a.cores, jobs * a.threads_per_job)  # fewer jobs than slots leave cores idle
        cpu = cpu_core_s / busy_cores
        links = total_gb / (nodes * a.nic_gbps)
        storage = total_gb / a.fs_gbps
        submit = jobs / a.submit_per_s
        parts = {"CPU": cpu, "node links": links, "shared storage": storage, "job submission": submit}
        bound = max(parts, key=parts.get)
        wall = parts[bound] + a.job_latency_s + a.plan_s
        print("| %d | %d | %s | %s | %s | %s | **%s** | %s |" % (
            nodes, nodes * a.cores, fmt(cpu), fmt(links), fmt(storage), fmt(submit), fmt(wall), bound))


def fmt(seconds):
    return "%.0f s" % seconds if seconds < 120 else "%.1f min" % (seconds / 60) if seconds < 7200 else "%.1f h" % (seconds / 3600)


if __name__ == "__main__":
    main()
