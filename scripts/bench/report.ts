import os from 'node:os';
import type { CorePlan } from './cores';
import type { BenchOptions } from './options';
import { reportSections, type Row, type Section } from './report-rows';
import { benchShareOf } from './figures';
import type { Results } from './results';
import { formatCount, formatRatio } from './stats';
import { SYSTEM_KINDS, SYSTEM_LABELS, type SystemKind } from './system';

// Turns the results into the printed report: what ran where, one table per section with each
// system's median, Beep's ratio to both relays, issue 12's target and pass/MISS, then problems.

const LABEL = 40;
const VALUE = 12;
const RATIO = 11;
const TARGET = 18;

const pad = (text: string, width: number) => text.padEnd(width);
const padLeft = (text: string, width: number) => text.padStart(width);

/** What ran, on which cores, at which sizes. */
export function headerReport(options: BenchOptions, plan: CorePlan): string {
  const { sizes } = options;
  const cpus = os.cpus();
  const pinning = plan.unpinned
    ? `NOT PINNED (${plan.unpinned}): server and clients share every core, so no figure of this run counts`
    : `server (Beep or relay) on CPU ${plan.serverCpu} (taskset -c ${plan.serverCpu}); poster, phones and prober on CPU ${plan.clientCpu}`;
  return [
    `Beep bench${options.quick ? ' — BENCH_QUICK=1: smoke sizes, one run, numbers not meaningful' : ''}`,
    `machine: ${cpus.length} CPU x ${cpus[0]?.model.trim() ?? 'unknown'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ` +
      `${os.platform()} ${os.release()}, node ${process.version}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    `cores: ${pinning}`,
    `scenarios: ${options.scenarios.join(', ')}; systems: ${options.systems.map((k) => SYSTEM_LABELS[k]).join(', ')}; ` +
      `phones: ${sizes.phoneCounts.join(', ')}; runs: ${sizes.runs} (median of the runs that count)`,
    `sizes: ingest ${formatCount(sizes.ingestPosts)} posts (${sizes.concurrency} in flight); fan-out ` +
      sizes.phoneCounts.map((n) => `${formatCount(sizes.fanoutPosts(n))} posts to ${n}`).join(', ') +
      `; latency ${sizes.latencySeconds} s per priority at ${formatCount(sizes.latencyDeliveriesPerSec)} deliveries/s; ` +
      `catch-up ${formatCount(sizes.catchupPending)}; idle RSS ${sizes.idleWaitMs / 1000} s after ready`,
    '',
  ].join('\n');
}

function cell(results: Results, row: Row, kind: SystemKind, saturatedAbove: number): string {
  const s = results.summary(row.figure, kind);
  if (!s) return '-';
  if (row.clientCore) {
    // "busy/own": the client core's busy share, and this bench's own share of it.
    const own = results.summary(benchShareOf(row.figure), kind)?.value;
    const text = `${Math.round(s.value * 100)}/${own === undefined ? '-' : Math.round(own * 100)}%`;
    return s.value > saturatedAbove ? `${text} SAT` : text;
  }
  const text = row.format(s.value);
  if (s.counting === 0) return `${text}!`;
  return s.counting < s.runs ? `${text}*` : text;
}

/** Beep's median over `other`'s, marked ! when either side has no counting run. */
function ratioCell(results: Results, row: Row, other: SystemKind): string {
  const beep = results.summary(row.figure, 'beep');
  const them = results.summary(row.figure, other);
  const text = formatRatio(beep?.value, them?.value);
  return text !== '-' && (beep!.counting === 0 || them!.counting === 0) ? `${text}!` : text;
}

/** The verdict cell, and whether it passed (undefined = not judged). */
function verdict(results: Results, row: Row): { text: string; pass?: boolean } {
  if (!row.target) return { text: '' };
  const beep = results.summary(row.figure, 'beep');
  if (!beep) return { text: '-' };
  if (beep.counting === 0) return { text: 'n/c (client core saturated)' };
  const relay = results.value(row.figure, 'relay');
  const judged = row.target.judge(beep.value, relay);
  if (!judged) return { text: results.summary(row.figure, 'relay') ? 'n/c (relay saturated)' : 'n/a (relay not run)' };
  return { text: judged.text, pass: judged.pass };
}

/** A section with its own columns and one ratio, no targets (the cluster against one node); nothing when it has no data. */
function compareSection(results: Results, section: Section, saturatedAbove: number): string[] {
  const { columns, ratio, heading } = section.compare!;
  if (!section.rows.some((row) => results.summary(row.figure, ratio[0]))) return [];
  const head = pad('', LABEL) + columns.map((k) => padLeft(SYSTEM_LABELS[k], VALUE)).join('') + padLeft(heading, Math.max(RATIO, heading.length + 2));
  const lines = ['', section.title, head, '-'.repeat(head.length)];
  for (const row of section.rows) {
    const [of, over] = ratio.map((k) => results.summary(row.figure, k));
    const ratioText = row.diagnostic ? '' : formatRatio(of?.value, over?.value);
    lines.push(pad(row.label, LABEL) + columns.map((k) => padLeft(cell(results, row, k, saturatedAbove), VALUE)).join('') + padLeft(ratioText, Math.max(RATIO, heading.length + 2)));
  }
  return lines;
}

/** Every section that has data, then the tally of targets, problems and notes. */
export function resultsReport(results: Results, options: BenchOptions): string {
  const lines: string[] = [];
  const tally = { pass: 0, miss: 0, unjudged: 0 };
  const columns = SYSTEM_KINDS.filter((k) => options.systems.includes(k));
  for (const section of reportSections(options.sizes)) {
    if (section.compare) {
      lines.push(...compareSection(results, section, options.sizes.saturatedAbove));
      continue;
    }
    const shown = section.beepOnly ? (['beep'] as SystemKind[]) : columns;
    const rows = section.rows.filter((row) => shown.some((k) => results.summary(row.figure, k)));
    if (rows.length === 0) continue;
    const ratios = !section.beepOnly && shown.includes('beep');
    const head =
      pad('', LABEL) +
      shown.map((k) => padLeft(SYSTEM_LABELS[k], VALUE)).join('') +
      (ratios && shown.includes('relay') ? padLeft('Beep/relay', RATIO) : '') +
      (ratios && shown.includes('relay-ack') ? padLeft('Beep/+ack', RATIO) : '') +
      `  ${pad('target', TARGET)}verdict`;
    lines.push('', section.title, head, '-'.repeat(head.length));
    for (const row of rows) {
      const ratio = (other: SystemKind) => (ratios && shown.includes(other) ? padLeft(row.diagnostic ? '' : ratioCell(results, row, other), RATIO) : '');
      const judged = verdict(results, row);
      if (row.target) {
        if (judged.pass === true) tally.pass++;
        else if (judged.pass === false) tally.miss++;
        else tally.unjudged++;
      }
      lines.push(
        pad(row.label, LABEL) +
          shown.map((k) => padLeft(cell(results, row, k, options.sizes.saturatedAbove), VALUE)).join('') +
          ratio('relay') +
          ratio('relay-ack') +
          `  ${pad(row.target?.text ?? '', TARGET)}${judged.text}`,
      );
    }
  }
  lines.push(
    '',
    `targets: ${tally.pass} pass, ${tally.miss} MISS, ${tally.unjudged} not judged`,
    'legend: values are medians over runs; * = some runs did not count, ! = no run counted: the client core was above ' +
      `${Math.round(options.sizes.saturatedAbove * 100)} % busy,`,
    '        so the phase measured the clients (SAT); client core busy = busy/own: how busy the clients\' CPU was (anyone),',
    '        and how much of it this bench used;',
    '        CPU = server process user+system time (/proc/<pid>/stat) over the phase; latency = phone receipt minus the',
    '        post\'s scheduled send time (open loop); RSS = VmRSS of the server process (the cluster: its nodes and redis-server together); MB = 10^6 bytes.',
  );
  for (const note of results.notes) lines.push(`note: ${note}`);
  for (const problem of results.problems) lines.push(`FAILED: ${problem}`);
  return `${lines.join('\n')}\n`;
}
