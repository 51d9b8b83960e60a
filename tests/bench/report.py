#!/usr/bin/python3
"""Turns raw results of bench.sh / adversarial.sh / gui-load.sh into tables (text and markdown)."""
import argparse
import math
import statistics
import sys
from collections import OrderedDict

MEM_TARGET = 1.05


def cpu_of(f):
    return float(f[2]) + float(f[3]) if len(f) >= 4 else None


def median(xs):
    return statistics.median(xs) if xs else None


def fmt(x, spec):
    return '-' if x is None else format(x, spec)


def ratio(a, b):
    return a / b if a is not None and b else None


def fmt_ratio(r, spec='.3f'):
    return fmt(r, spec) + 'x' if r else '-'


def geo_mean_sd(ratios):
    """Geometric mean of ratios and the standard deviation of their logarithm, in per cent."""
    logs = [math.log(x) for x in ratios]
    return math.exp(statistics.fmean(logs)), 100 * statistics.pstdev(logs)


def table(headers, rows):
    w = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    out = ['  '.join(str(h).ljust(w[i]) for i, h in enumerate(headers)),
           '  '.join('-' * w[i] for i in range(len(headers)))]
    for r in rows:
        out.append('  '.join(str(c).rjust(w[i]) if i else str(c).ljust(w[i]) for i, c in enumerate(r)))
    return '\n'.join(out)


def md_table(headers, rows):
    out = ['| ' + ' | '.join(headers) + ' |', '|' + '|'.join('---' for _ in headers) + '|']
    for r in rows:
        out.append('| ' + ' | '.join(str(c) for c in r) + ' |')
    return '\n'.join(out)


def bench(args):
    data = OrderedDict()   # name -> {'vs', 'target', 'with': [(t, kb)], 'without': [...], 'err': n}
    for line in open(args.results):
        parts = line.rstrip('\n').split('\t')
        name, vs, target, side, _r, res = parts[:6]
        d = data.setdefault(name, {'vs': vs, 'target': float(target), 'with': [], 'without': [], 'err': 0})
        f = res.split()
        if f[0] == 'ERR':
            d['err'] += 1
            continue
        d[side].append((float(f[0]), int(f[1]), cpu_of(f), _r))
    headers = ['mode', 'time with (s)', 'time without (s)', 'time ratio', 'paired ratio', 'best ratio', 'target', 'time',
               'CPU with (s)', 'CPU without (s)', 'CPU ratio', 'paired CPU ratio', 'rounds (geo mean, sd)',
               'RSS with (MB)', 'RSS without (MB)', 'RSS ratio', 'RSS']
    if args.judge_cpu:
        headers[7] = 'CPU'
    rows = []
    for name, d in data.items():
        # A "+" row is compared with the row named in vs, unless it has
        # partner runs of its own (bench.sh --concurrent).
        own_baseline = d['vs'] in ('-', '=')  # not a "+" row
        base = d if own_baseline or d['without'] else data.get(d['vs'], {'without': []})
        tw = median([x[0] for x in d['with']])
        to = median([x[0] for x in base['without']])
        mw = median([x[1] for x in d['with']])
        mo = median([x[1] for x in base['without']])
        cw = median([x[2] for x in d['with'] if x[2] is not None])
        co = median([x[2] for x in base['without'] if x[2] is not None])
        rt, rm, rc = ratio(tw, to), ratio(mw, mo), ratio(cw, co)
        # Each round's own ratio (its two runs ran back to back), then the median:
        # drift over the run cancels out.
        base_by_round = {x[3]: x[0] for x in base['without']}
        rp = median([x[0] / base_by_round[x[3]] for x in d['with'] if base_by_round.get(x[3])])
        cpu_by_round = {x[3]: x[2] for x in base['without'] if x[2]}
        round_ratios = [x[2] / cpu_by_round[x[3]] for x in d['with'] if x[2] and cpu_by_round.get(x[3])]
        rcp = median(round_ratios)
        # The rounds' spread, on a log scale: a geometric mean and a
        # standard deviation in per cent.
        spread = '-'
        if round_ratios:
            geo, sd = geo_mean_sd(round_ratios)
            spread = '%s, %.1f %%' % (fmt_ratio(geo), sd)
        judged = rcp if args.judge_cpu else rt
        # Fastest run of each side: other load on the machine only ever adds
        # time, so the fastest runs are the least disturbed.
        rb = ratio(min([x[0] for x in d['with']], default=None), min([x[0] for x in base['without']], default=None))
        label = name if own_baseline else '%s (vs %s)' % (name, d['vs'])
        if d['err']:
            label += ' [%d ERR]' % d['err']
        if args.judge_cpu:
            # Each run shared its CPU with the other: wall time says nothing.
            tw = to = rt = rp = rb = None
        rows.append([label, fmt(tw, '.2f'), fmt(to, '.2f'), fmt_ratio(rt),
                     fmt_ratio(rp), fmt_ratio(rb), '<=%.2fx' % d['target'],
                     '-' if judged is None else ('PASS' if judged <= d['target'] else 'FAIL'),
                     fmt(cw, '.2f'), fmt(co, '.2f'), fmt_ratio(rc), fmt_ratio(rcp), spread,
                     fmt(mw and mw / 1024, '.0f'), fmt(mo and mo / 1024, '.0f'),
                     fmt_ratio(rm),
                     '-' if rm is None else ('PASS' if rm <= MEM_TARGET else 'FAIL')])
    notes = ['Medians over the rounds; time = wall clock (PASS/FAIL is judged on the ratio of medians, '
             'or with --same-cpu on the paired CPU ratio), '
             'paired ratio = median of each round\'s with/without ratio, best ratio = fastest run with / '
             'fastest run without (other load only ever adds time), CPU = user + system '
             'time, paired CPU ratio = median of each round\'s with/without CPU-time ratio (with --same-cpu '
             'the two runs shared one CPU, so both met the same host speed), '
             'RSS = peak resident set (GNU time %M).',
             'Rows starting with "+" run a command only possible with the plugin and compare it with the '
             '"without" run of the row named in "vs" (with --concurrent: that command, run beside it).',
             'Targets: <=1.10x time without a protocol tree (default, -q, -2, -z expert), <=1.03x with one '
             '(-T fields, -Y, -V); <=1.05x peak memory. Never fatal.',
             'Plain -q is a control: tshark does not dissect at all then, so the plugin never runs. '
             'The tree control runs without the plugin on both sides: what it reads other than 1.00x is '
             'the method\'s own error on a row that builds a tree.',
             'rounds = geometric mean of the rounds\' paired CPU ratios and their standard deviation '
             '(of the logarithm, in per cent).']
    emit(args, headers, rows, notes)


def adversarial(args):
    data = OrderedDict()   # (kind, scale, mode) -> dict
    for line in open(args.results):
        kind, scale, n, packets, mode, side, _r, res = line.rstrip('\n').split('\t')[:8]
        d = data.setdefault((kind, scale, mode), {'n': int(n), 'packets': int(packets), 'with': [],
                                                  'without': [], 'err': 0})
        f = res.split()
        if f[0] == 'ERR':
            d['err'] += 1
            continue
        d[side].append((float(f[0]), int(f[1]), cpu_of(f)))
    unit = {'flows': 'flow', 'pipeline': 'command', 'multiline': 'line', 'longline': 'KB', 'window': 'segment'}
    headers = ['kind', 'scale', 'n', 'packets', 'mode', 'time with (s)', 'time without (s)', 'ratio',
               'CPU with (s)', 'CPU without (s)', 'us/pkt with', 'RSS with (MB)', 'RSS without (MB)', 'RSS delta (MB)', 'delta per unit (B)',
               'marginal per unit (B)']
    rows = []
    prev = {}
    for (kind, scale, mode), d in data.items():
        tw = median([x[0] for x in d['with']])
        to = median([x[0] for x in d['without']])
        mw = median([x[1] for x in d['with']])
        mo = median([x[1] for x in d['without']])
        cw = median([x[2] for x in d['with'] if x[2] is not None])
        co = median([x[2] for x in d['without'] if x[2] is not None])
        delta = (mw - mo) * 1024 if mw is not None and mo is not None else None
        units = d['n'] / 1024.0 if kind == 'longline' else d['n']
        per = delta / units if delta is not None else None
        marginal = None
        p = prev.get((kind, mode))
        if p and delta is not None and units != p[0]:
            marginal = (delta - p[1]) / (units - p[0])
        if delta is not None:
            prev[(kind, mode)] = (units, delta)
        rows.append([kind, scale, d['n'], d['packets'], mode + (' [%d ERR]' % d['err'] if d['err'] else ''),
                     fmt(tw, '.2f'), fmt(to, '.2f'), fmt_ratio(ratio(tw, to), '.2f'),
                     fmt(cw, '.2f'), fmt(co, '.2f'),
                     fmt(tw and tw * 1e6 / d['packets'], '.1f'), fmt(mw and mw / 1024, '.0f'),
                     fmt(mo and mo / 1024, '.0f'), fmt(delta and delta / 1048576, '.1f'),
                     '%s/%s' % (fmt(per, '.0f'), unit[kind]), '%s/%s' % (fmt(marginal, '.0f'), unit[kind])])
    notes = ['Medians over the runs. RSS delta = peak RSS with plugin - without; "delta per unit" divides it '
             'by n (flows, commands, lines, KB of the long line, segments); "marginal per unit" is the slope between '
             'this scale and the previous one (constant per-flow cost shows as equal values).',
             'us/pkt with = wall time with plugin per packet: equal values across scales mean linear time. '
             'CPU = user + system seconds.']
    emit(args, headers, rows, notes)


def gui(args):
    """gui-load.sh: start-up pairs ("startup", round, with, without CPU s) and load rounds
    ("load", round, with, without CPU s, with, without peak RSS KB)."""
    startup = {'with': [], 'without': []}
    rounds = []
    for line in open(args.results):
        f = line.rstrip('\n').split('\t')
        if f[0] == 'startup':
            startup['with'].append(float(f[2]))
            startup['without'].append(float(f[3]))
        else:
            rounds.append(tuple(float(x) for x in f[2:6]))
    s_with, s_without = median(startup['with']), median(startup['without'])
    # Each round's load alone: its CPU time less the median start-up of its side.
    loads = [(a - s_with, b - s_without) for a, b, _, _ in rounds]
    if any(lw <= 0 or lwo <= 0 for lw, lwo in loads):
        sys.exit('a load round took no more CPU than the median start-up: too few packets for the start-up '
                 'to be taken out (use more)')
    raw = median([a / b for a, b, _, _ in rounds])
    load_ratios = [lw / lwo for lw, lwo in loads]
    load = median(load_ratios)
    geo, sd = geo_mean_sd(load_ratios)
    rss = median([ra / rb for _, _, ra, rb in rounds])
    us_per_packet = median([lw - lwo for lw, lwo in loads]) / args.packets * 1e6
    print('\n'.join([
        'start-up CPU s (median of %d pairs): with %.2f, without %.2f' % (len(startup['with']), s_with, s_without),
        'first pass CPU s (median of %d rounds): with %.2f, without %.2f'
        % (len(rounds), median([r[0] for r in rounds]), median([r[1] for r in rounds])),
        'CPU time ratio, start-up included: median %s' % fmt_ratio(raw),
        'CPU time ratio, load only: median %s, geometric mean %s, sd %.1f %%, rounds %.3f-%s'
        % (fmt_ratio(load), fmt_ratio(geo), sd, min(load_ratios), fmt_ratio(max(load_ratios))),
        "plugin's share per packet: %.2f us" % us_per_packet,
        'peak RSS ratio: median %s' % fmt_ratio(rss),
    ]))
    if args.markdown:
        with open(args.markdown, 'w') as out:
            out.write('| GUI file load (same CPU) | with / without |\n|---|---|\n')
            out.write('| CPU time, start-up included | %s |\n' % fmt_ratio(raw))
            out.write('| CPU time, load only | %s |\n' % fmt_ratio(load))
            out.write('| peak RSS | %s |\n' % fmt_ratio(rss))


def emit(args, headers, rows, notes):
    print()
    print(args.title)
    for i in args.info:
        print('  ' + i)
    print()
    print(table(headers, rows))
    print()
    for n in notes:
        print(n)
    if args.markdown:
        with open(args.markdown, 'w') as f:
            f.write('## %s\n\n' % args.title)
            for i in args.info:
                f.write('- %s\n' % i)
            f.write('\n' + md_table(headers, rows) + '\n\n')
            for n in notes:
                f.write(n + '\n\n')
        print('markdown written to %s' % args.markdown)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('what', choices=('bench', 'adversarial', 'gui'))
    ap.add_argument('results')
    ap.add_argument('--title', default='')
    ap.add_argument('--info', action='append', default=[])
    ap.add_argument('--markdown')
    ap.add_argument('--judge-cpu', action='store_true',
                    help='judge time on the paired CPU-time ratio (bench.sh --same-cpu)')
    ap.add_argument('--packets', type=int, help='packets in the capture (gui)')
    args = ap.parse_args()
    {'bench': bench, 'adversarial': adversarial, 'gui': gui}[args.what](args)


if __name__ == '__main__':
    sys.exit(main())
