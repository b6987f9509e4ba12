#!/usr/bin/env python3
"""evaio.aio.stat against asyncio.to_thread(os.stat) and
loop.run_in_executor(None, os.stat), in the same process and the same run.

    PYTHONPATH=bindings/python EVAIO_LIBRARY=build/default/libevaio.so \
        python3 bench/python_bench.py [--n 100000] [--inflight 64] [--reps 5]

Stats cached files (a fresh temporary folder of --files files, stat'ed once
before timing) --n times per run, with --inflight requests in flight: that
many coroutines each await one stat after another from a shared list of
paths.  Each repetition runs every system once, in a rotating order, so
that drift of the machine hits them alike; the table shows each system's
median throughput over the repetitions, its ratio to to_thread's, and the
CPU time per stat of the event loop's thread and of the whole process
(steadier than throughput on a shared machine).  Run by hand, not by CI;
see bench/README.md.
"""

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time

try:
    import evaio.aio
except ImportError as e:
    sys.exit(f"python_bench: cannot import evaio ({e}); set PYTHONPATH=bindings/python and EVAIO_LIBRARY")


async def run(stat, paths, inflight):
    """(stats per second, main-thread CPU µs per stat, process CPU µs per stat)."""
    it = iter(paths)

    async def worker():
        for p in it:
            await stat(p)

    t, tt, pt = time.perf_counter(), time.thread_time(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(inflight)))
    n = len(paths)
    return (n / (time.perf_counter() - t), (time.thread_time() - tt) / n * 1e6,
            (time.process_time() - pt) / n * 1e6)


def systems(loop):
    return {
        "evaio.aio": evaio.aio.stat,
        "to_thread": lambda p: asyncio.to_thread(os.stat, p),
        "run_in_executor": lambda p: loop.run_in_executor(None, os.stat, p),
    }


async def main(args):
    loop = asyncio.get_running_loop()
    with tempfile.TemporaryDirectory(prefix="evaio-pybench-") as tmp:
        files = [os.path.join(tmp, f"f{i}") for i in range(args.files)]
        for f in files:
            with open(f, "w"):
                pass
            os.stat(f)
        paths = [files[i % len(files)] for i in range(args.n)]
        if args.threads:
            evaio.aio.ctx().set_max_parallel(args.threads)
        funcs = systems(loop)
        names = list(funcs)
        rates = {name: [] for name in names}
        # Warm-up: thread pools started, code paths hot.
        for name in names:
            await run(funcs[name], paths[:2000], args.inflight)
        for rep in range(args.reps):
            order = names[rep % len(names):] + names[:rep % len(names)]
            for name in order:
                rates[name].append(await run(funcs[name], paths, args.inflight))
            print(f"rep {rep + 1}/{args.reps}: " + ", ".join(f"{n} {rates[n][-1][0]:,.0f}/s" for n in names),
                  file=sys.stderr)
    med = {name: [statistics.median(r[i] for r in rates[name]) for i in range(3)] for name in names}
    base = med["to_thread"][0]
    print(f"\n{args.n} stats of cached files, {args.inflight} in flight, {args.reps} repetitions, median "
          f"(Python {sys.version.split()[0]}, {os.cpu_count()} CPUs)\n")
    print("| system | stats/s | min | max | vs to_thread | main thread µs/stat | process CPU µs/stat |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in names:
        r = [x[0] for x in rates[name]]
        print(f"| {name} | {med[name][0]:,.0f} | {min(r):,.0f} | {max(r):,.0f} | {med[name][0] / base:.2f}x "
              f"| {med[name][1]:.1f} | {med[name][2]:.1f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="stats per run (100000)")
    parser.add_argument("--inflight", type=int, default=64, help="requests in flight (64)")
    parser.add_argument("--reps", type=int, default=5, help="repetitions (5)")
    parser.add_argument("--files", type=int, default=1000, help="files to stat (1000)")
    parser.add_argument("--threads", type=int, default=0, help="evaio worker threads (default: evaio's, 4)")
    asyncio.run(main(parser.parse_args()))
