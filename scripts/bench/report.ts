import os from 'node:os';
import type { SystemResult } from './scenario';
import type { BenchSizes } from './sizes';
import { formatCount, formatMiB, formatMs, formatRatio } from './stats';

// Turns results into the printed report: the machine, one table per client count, the notes.

interface Row {
  label: string;
  value: (r: SystemResult) => number | undefined;
  format: (v: number | undefined) => string;
  /** false for diagnostics whose Beep/baseline ratio means nothing. */
  ratio?: boolean;
}

/** Cores of unrelated load above which a run is flagged as not representative. */
const OTHER_LOAD_WARNING = 0.15;

const percent = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '-' : `${(v * 100).toFixed(0)} %`);
const cpuMs = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '-' : `${v.toFixed(1)} ms`);

function rows(sizes: BenchSizes): Row[] {
  const rate = `@${sizes.fixedRate}/s`;
  return [
    { label: 'accepted/s (flat out)', value: (r) => r.flat.acceptedPerSec, format: formatCount },
    { label: 'delivered/s (flat out)', value: (r) => r.flat.deliveredPerSec, format: formatCount },
    { label: `p50 latency ${rate}`, value: (r) => r.fixed.latency.p50, format: formatMs },
    { label: `p99 latency ${rate}`, value: (r) => r.fixed.latency.p99, format: formatMs },
    { label: `max latency ${rate}`, value: (r) => r.fixed.latency.max, format: formatMs },
    { label: `accepted/s ${rate} (sustained)`, value: (r) => r.fixed.acceptedPerSec, format: formatCount },
    { label: 'peak RSS', value: (r) => r.peakRssBytes, format: formatMiB },
    {
      label: 'relay CPU per 1k deliveries',
      value: (r) => (r.flat.cpuSeconds === undefined ? undefined : (r.flat.cpuSeconds * 1000 * 1000) / r.flat.received),
      format: cpuMs,
    },
    {
      label: `relay CPU busy ${rate}`,
      value: (r) => (r.fixed.cpuSeconds === undefined ? undefined : (r.fixed.cpuSeconds * 1000) / r.fixed.elapsedMs),
      format: percent,
    },
    { label: 'bench process CPU busy (flat out)', value: (r) => r.flat.benchCores, format: percent, ratio: false },
    { label: 'other processes CPU busy (flat out)', value: (r) => r.flat.otherCores, format: percent, ratio: false },
  ];
}

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

/** The header: what machine and what sizes produced the numbers. */
export function machineReport(sizes: BenchSizes, quick: boolean): string {
  const cpus = os.cpus();
  return [
    `Beep bench${quick ? ' (BENCH_QUICK=1: smoke sizes, numbers not meaningful)' : ''}`,
    `machine: ${cpus.length} CPU × ${cpus[0]?.model.trim() ?? 'unknown'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ` +
      `${os.platform()} ${os.release()}, node ${process.version}`,
    `scenario per system and N: ${sizes.warmUp} warm-up posts; flat out ${sizes.clientCounts
      .map((n) => `${formatCount(sizes.flatOut(n))} posts (N=${n})`)
      .join(' / ')} with ${sizes.concurrency} requests in flight over a keep-alive agent; ` +
      `then ${sizes.fixedRate} posts/s for ${sizes.fixedSeconds} s (open loop).`,
    'all clients and the load generator share this one bench process and compete with the relay for the CPUs;',
    'both systems are measured the same way, so the ratios are fair but absolute numbers understate a real LAN.',
    '',
  ].join('\n');
}

/** One table for one client count: each system's column and the Beep/baseline ratio. */
export function tableReport(clients: number, results: Map<string, SystemResult | Error>, sizes: BenchSizes): string {
  const beep = results.get('beep');
  const base = results.get('baseline');
  const ok = (r: SystemResult | Error | undefined) => (r && !(r instanceof Error) ? r : undefined);
  const b = ok(beep);
  const s = ok(base);
  const labelWidth = 36;
  const colWidth = 13;
  const lines = [
    `${pad(`N=${clients} clients`, labelWidth)}${pad('beep', colWidth, true)}${pad('baseline', colWidth, true)}${pad('beep/baseline', colWidth + 3, true)}`,
  ];
  for (const row of rows(sizes)) {
    const bv = b ? row.value(b) : undefined;
    const sv = s ? row.value(s) : undefined;
    lines.push(
      `${pad(row.label, labelWidth)}${pad(row.format(bv), colWidth, true)}${pad(row.format(sv), colWidth, true)}${row.ratio === false ? '' : pad(formatRatio(bv, sv), colWidth + 3, true)}`,
    );
  }
  const scrape = b?.extras.metricsScrapeMs;
  if (scrape !== undefined) {
    lines.push(`${pad(`GET /metrics (median of ${sizes.metricsScrapes})`, labelWidth)}${pad(formatMs(scrape), colWidth, true)}${pad('n/a', colWidth, true)}`);
  }
  for (const [name, r] of [['beep', beep], ['baseline', base]] as const) {
    if (r instanceof Error) lines.push(`  ${name} FAILED: ${r.message.split('\n').slice(0, 6).join('\n    ')}`);
    else if (r) {
      const notes: string[] = [];
      for (const [phase, other] of [['flat-out', r.flat.otherCores], ['fixed-rate', r.fixed.otherCores]] as const) {
        if (other !== undefined && other > OTHER_LOAD_WARNING) {
          notes.push(`WARNING: other processes kept ${(other * 100).toFixed(0)} % of a core busy during the ${phase} phase; its numbers are skewed`);
        }
      }
      if (r.flat.retried + r.fixed.retried > 0) {
        notes.push(`${r.flat.retried + r.fixed.retried} posts retried after the server closed a reused keep-alive socket`);
      }
      if (r.flat.duplicates + r.fixed.duplicates > 0) {
        notes.push(`${formatCount(r.flat.duplicates + r.fixed.duplicates)} duplicate receipts (redeliveries, not counted)`);
      }
      for (const p of r.problems) notes.push(`FAILED: ${p}`);
      for (const n of notes) lines.push(`  ${name}: ${n}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** What the numbers mean and what the baseline leaves out. */
export function notesReport(): string {
  return [
    'notes:',
    '  accepted/s   = 2xx answers per second, first request to last answer.',
    '  delivered/s  = unique (notification, client) receipts per second, first request to the last client\'s last receipt.',
    '  latency      = client receipt time minus the post\'s scheduled send time, over every (notification, client) pair.',
    '  CPU          = user+system CPU (/proc) as a share of one core (2 cores = 200 %); relay per 1000 deliveries flat out;',
    '                 "other processes" is everything on the machine but the relay and the bench, and should be ~0.',
    '  peak RSS     = VmHWM of the relay process at the end of its run (fresh process per system and N).',
    '  baseline     = express + socket.io, io.emit() per POST: no durability (a notification posted while a client is',
    '                 offline, or in flight when it drops, is lost), no acks, no redelivery, no batching, no priorities,',
    '                 no per-device auth or revocation. Beep answers 202 only after the SQLite commit and keeps every',
    '                 notification until each paired device has acknowledged it.',
    '',
  ].join('\n');
}
