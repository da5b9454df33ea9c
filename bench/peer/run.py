#!/usr/bin/env python3
"""Quiver through its public C API and its npm package against hnswlib natively and hnswlib-wasm, each engine
built and searched in a process of its own.

    bench/peer/run.py [--datasets fashion-mnist,synthetic-384] [--reps 3] [--passes 3]
                      [--ef 10,20,40,80,160,320] [--variants quiver,quiver:no-thp,hnswlib,hnswlib:thp]
                      [--no-build] [--out FILE]
    bench/peer/run.py --variants quiver,hnswlib,quiverdb,hnswlib-wasm   # with the npm side

    bench/peer/run.py --summarise FILE [--variants ...]   # the tables again from a run's JSON lines

Builds peer_quiver, peer_hnswlib and ann_bench (build/native-release, configured by scripts/build.sh or
`cmake --preset native-release`), prepares the data sets in .cache/bench (Fashion-MNIST from Debian's
dataset-fashion-mnist, the synthetic set generated; exact ground truth by `ann_bench prepare`), then runs the
variants one after another, rep after rep (quiver, quiver --no-thp, hnswlib, hnswlib --thp, quiver, ...), so that
all of them share the machine's noise. Each process builds its index, then for each ef runs one warm-up pass and
`--passes` timed passes over the 1,000 queries. Prints the raw JSON lines to --out (default
.cache/bench/peer-DATASET.jsonl) and a markdown summary on stdout: per variant the smallest ef reaching
recall@10 >= 0.95, its QPS (queries per CPU second and by the wall clock: the median over reps of each process's
median pass), the ratios to hnswlib with and without huge pages, build time (CPU and wall), and memory.

The npm variants (bench/peer/peer_npm.mjs in Node): quiverdb, the package in npm/dist (node npm/build.mjs), and
hnswlib-wasm from bench/js (installed here with `npm ci` when missing).
"""
import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, 'build', 'native-release')
CACHE = os.path.join(ROOT, '.cache', 'bench')
FASHION_SOURCE = '/usr/share/datasets/fashion-mnist'
TARGET_RECALL = 0.95
MIB = 1 << 20


def log(msg):
    print(f'[peer] {msg}', file=sys.stderr, flush=True)


NPM_ENGINES = ('quiverdb', 'hnswlib-wasm')


def build(variants):
    if 'quiverdb' in variants and not os.path.exists(os.path.join(ROOT, 'npm', 'dist', 'esm', 'node.js')):
        sys.exit('npm/dist is missing: build the package first (node npm/build.mjs)')
    if 'hnswlib-wasm' in variants and not os.path.isdir(os.path.join(ROOT, 'bench', 'js', 'node_modules', 'hnswlib-wasm')):
        subprocess.run(['npm', 'ci', '--silent'], cwd=os.path.join(ROOT, 'bench', 'js'), check=True)
    if not os.path.exists(os.path.join(BUILD, 'CMakeCache.txt')):
        subprocess.run(['cmake', '--preset', 'native-release'], cwd=ROOT, check=True)
    subprocess.run(['cmake', '--build', BUILD, '--target', 'peer_quiver', 'peer_hnswlib', 'ann_bench', '-j', '2'],
                   check=True)


def prepare(dataset):
    if dataset == 'fashion-mnist':
        folder = os.path.join(CACHE, 'fashion-mnist')
        os.makedirs(folder, exist_ok=True)
        for name in ('train-images-idx3-ubyte', 't10k-images-idx3-ubyte'):
            target = os.path.join(folder, name)
            if os.path.exists(target):
                continue
            source = os.path.join(FASHION_SOURCE, name + '.gz')
            if not os.path.exists(source):
                sys.exit(f'{source} is missing: apt-get install dataset-fashion-mnist')
            with gzip.open(source, 'rb') as src, open(target + '.tmp', 'wb') as dst:
                shutil.copyfileobj(src, dst)
            os.replace(target + '.tmp', target)
    # Generates the synthetic set if needed and computes the exact ground truth once.
    subprocess.run([os.path.join(BUILD, 'bench', 'ann_bench'), 'prepare', '--cache', CACHE, '--dataset', dataset],
                   check=True, stdout=subprocess.DEVNULL)


def run_variant(variant, dataset, args):
    engine, _, mode = variant.partition(':')
    if engine in NPM_ENGINES:
        argv = ['node', os.path.join(ROOT, 'bench', 'peer', 'peer_npm.mjs'), '--engine', engine, '--dataset', dataset,
                '--ef', args.ef, '--passes', str(args.passes)]
    else:
        argv = [os.path.join(BUILD, 'bench', 'peer', 'peer_' + engine), '--cache', CACHE, '--dataset', dataset,
                '--ef', args.ef, '--passes', str(args.passes)]
    if mode:
        argv.append('--' + mode)
    out = subprocess.run(argv, check=True, stdout=subprocess.PIPE, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith('{')]


def median(values):
    return statistics.median(values) if values else float('nan')


def summarise(dataset, variants, lines):
    """Markdown tables for one data set from the JSON lines of every run."""
    builds = {v: [l for l in lines if l['kind'] == 'build' and l['variant'] == v] for v in variants}
    searches = {v: [l for l in lines if l['kind'] == 'search' and l['variant'] == v] for v in variants}
    efs = sorted({l['ef'] for l in lines if l['kind'] == 'search'})
    reps = max(len(b) for b in builds.values())

    def at(v, ef, key='cpu_qps'):
        rows = sorted((l for l in searches[v] if l['ef'] == ef), key=lambda l: l['run'])
        return median([l['recall'] for l in rows]), median([l[key] for l in rows]), [l[key] for l in rows]

    chosen = {}
    for v in variants:
        for ef in efs:
            recall, cpu_qps, runs = at(v, ef)
            if recall >= TARGET_RECALL:
                chosen[v] = (ef, recall, cpu_qps, runs, at(v, ef, 'qps')[1])
                break
    build_cpu = {v: median([b['build_cpu_seconds'] for b in builds[v]]) for v in variants}
    build_wall = {v: median([b['build_seconds'] for b in builds[v]]) for v in variants}

    def ratio(value, ref, table):
        return f'{value / table[ref]:.2f}' if ref in table and table[ref] else '-'

    out = [f'### {dataset} ({builds[variants[0]][0]["base"]:,} x {builds[variants[0]][0]["dim"]}, '
           f'{reps} reps)', '']
    out.append(f'At the smallest ef reaching recall@10 >= {TARGET_RECALL}. QPS: queries per CPU second, the median '
               'over reps of each process\'s median timed pass; wall QPS the same by the wall clock. Ratios: over '
               'hnswlib without huge pages (x hnswlib) and with them (x THP), each at its own such ef; build: CPU '
               'seconds, ratio over hnswlib\'s.')
    out.append('')
    out.append('| engine | ef | recall@10 | QPS | x hnswlib | x THP | QPS per rep | x hnswlib per rep | wall QPS | '
               'wall x hnswlib | build CPU s | build x hnswlib | build wall s |')
    out.append('|---|---|---|---|---|---|---|---|---|---|---|---|---|')
    cpu_ref = {v: c[2] for v, c in chosen.items()}
    wall_ref = {v: c[4] for v, c in chosen.items()}
    for v in variants:
        build_cells = f'{build_cpu[v]:.1f} | {ratio(build_cpu[v], "hnswlib", build_cpu)} | {build_wall[v]:.1f}'
        if v not in chosen:
            out.append(f'| {v} | - | below {TARGET_RECALL} at every ef | | | | | | | | {build_cells} |')
            continue
        ef, recall, qps, runs, wall = chosen[v]
        runs_text = ', '.join(f'{r:.0f}' for r in runs)
        # Each rep's processes ran next to each other in time: their ratio cancels the load that changes between reps.
        ref_runs = chosen['hnswlib'][3] if 'hnswlib' in chosen else []
        paired = ', '.join(f'{a / b:.2f}' for a, b in zip(runs, ref_runs))
        out.append(f'| {v} | {ef} | {recall:.3f} | {qps:.0f} | {ratio(qps, "hnswlib", cpu_ref)} | '
                   f'{ratio(qps, "hnswlib:thp", cpu_ref)} | {runs_text} | {paired} | {wall:.0f} | '
                   f'{ratio(wall, "hnswlib", wall_ref)} | {build_cells} |')
    pairs = [('quiverdb', 'hnswlib-wasm'), ('quiverdb', 'quiver')]
    extra = [f'{a} {cpu_ref[a] / cpu_ref[b]:.2f}x {b}' for a, b in pairs if a in cpu_ref and b in cpu_ref]
    if extra:
        out.append('')
        out.append('Search, per CPU second at each one\'s smallest ef reaching the recall: ' + '; '.join(extra) + '.')
    out.append('')
    out.append('Memory, MiB (medians over reps). Process figures are less the RSS with the data set loaded '
               '(before the build); heap: malloc\'s bytes in use after the build less before (npm: the '
               'WebAssembly memory, which never shrinks); engine: the engine\'s own count (Quiver: `memory_bytes` of `qv_collection_stats_json`; hnswlib has none); on huge pages: '
               'AnonHugePages of the whole process after the build:')
    out.append('')
    out.append('| engine | RSS after build | peak RSS during build | peak RSS, end of searches | heap | engine count | '
               'on huge pages |')
    out.append('|---|---|---|---|---|---|---|')
    for v in variants:
        b = builds[v]
        after = median([x['rss_after_build_bytes'] - x['rss_loaded_bytes'] for x in b]) / MIB
        peak = median([x['peak_rss_bytes'] - x['rss_loaded_bytes'] for x in b]) / MIB
        last = {}
        for s in searches[v]:
            last[s['run']] = s['peak_rss_bytes']
        loaded = {x['run']: x['rss_loaded_bytes'] for x in b}
        peak_end = median([last[r] - loaded[r] for r in last]) / MIB
        heap = median([x['heap_bytes'] for x in b]) / MIB
        mem = [x['engine_memory_bytes'] for x in b if x['engine_memory_bytes'] >= 0]
        engine_mem = f'{median(mem) / MIB:.1f}' if mem else '-'
        huge = [x['anon_huge_page_bytes'] for x in b if 'anon_huge_page_bytes' in x]
        huge_text = f'{median(huge) / MIB:.0f}' if huge else '-'
        out.append(f'| {v} | {after:.1f} | {peak:.1f} | {peak_end:.1f} | {heap:.1f} | {engine_mem} | {huge_text} |')
    out.append('')
    out.append('Recall@10 / QPS per CPU second at every ef (medians over reps):')
    out.append('')
    out.append('| engine | ' + ' | '.join(f'ef={ef}' for ef in efs) + ' |')
    out.append('|---|' + '---|' * len(efs))
    for v in variants:
        cells = []
        for ef in efs:
            recall, qps, _ = at(v, ef)
            cells.append(f'{recall:.3f} / {qps:.0f}')
        out.append(f'| {v} | ' + ' | '.join(cells) + ' |')
    out.append('')
    return '\n'.join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--datasets', default='fashion-mnist,synthetic-384')
    parser.add_argument('--reps', type=int, default=3)
    parser.add_argument('--passes', type=int, default=3)
    parser.add_argument('--ef', default='10,20,40,80,160,320')
    parser.add_argument('--variants', default='quiver,quiver:no-thp,hnswlib,hnswlib:thp')
    parser.add_argument('--no-build', action='store_true')
    parser.add_argument('--out', help='where the JSON lines go (default .cache/bench/peer-DATASET.jsonl)')
    parser.add_argument('--summarise', metavar='FILE', help='print the tables of an earlier run\'s JSON lines')
    args = parser.parse_args()
    variants = args.variants.split(',')
    if args.summarise:
        with open(args.summarise) as f:
            lines = [json.loads(line) for line in f if line.strip()]
        for dataset in dict.fromkeys(l['dataset'] for l in lines):
            rows = [l for l in lines if l['dataset'] == dataset]
            present = [v for v in variants if any(l['variant'] == v for l in rows)]
            print(summarise(dataset, present, rows), flush=True)
        return
    for ref in ('hnswlib',):
        if ref not in variants:
            sys.exit('--variants must include hnswlib (the reference of the ratios)')

    if not args.no_build:
        build(variants)
    os.makedirs(CACHE, exist_ok=True)
    for dataset in args.datasets.split(','):
        prepare(dataset)
        lines = []
        out_path = args.out or os.path.join(CACHE, f'peer-{dataset}.jsonl')
        with open(out_path, 'w') as out:
            for rep in range(args.reps):
                for v in variants:
                    t0 = time.monotonic()
                    for line in run_variant(v, dataset, args):
                        line['variant'] = v
                        line['run'] = rep
                        lines.append(line)
                        out.write(json.dumps(line) + '\n')
                    out.flush()
                    log(f'{dataset} rep {rep + 1}/{args.reps} {v}: {time.monotonic() - t0:.0f} s')
        print(summarise(dataset, variants, lines), flush=True)


if __name__ == '__main__':
    main()
