import * as F from './figures';
import type { BenchSizes } from './sizes';
import type { SystemKind } from './system';
import { formatCount, formatKb, formatMb, formatMs, formatPercent, formatUs } from './stats';
import { atLeastTimesRelay, atMost, atMostRelayPlus, atMostTimesRelay, type Target } from './targets';

// What the report prints, section by section: each figure's label, format and issue 12's
// target. Diagnostic rows (client core load, RSS before phones) have no ratio and no target.

/** One printed figure. */
export interface Row {
  label: string;
  figure: string;
  format: (v: number | undefined) => string;
  target?: Target;
  /** Client core load: marked SAT past the threshold, no ratio. */
  clientCore?: boolean;
  /** Printed for context only: no ratios. */
  diagnostic?: boolean;
}

/** A titled group of rows; `beepOnly` sections print one value column. */
export interface Section {
  title: string;
  rows: Row[];
  beepOnly?: boolean;
  /** Its own columns and one ratio (the cluster against one node), instead of the run's systems and the relay ratios. */
  compare?: { columns: SystemKind[]; ratio: [SystemKind, SystemKind]; heading: string };
}

const seconds = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '-' : `${v.toFixed(2)} s`);
const core = (label: string, figure: string): Row => ({ label, figure, format: formatPercent, clientCore: true, diagnostic: true });

function latencyRows(phones: number, p: F.LatencyPriority, rate: number): Row[] {
  // Issue 12: at 100 phones p50 <= relay + 2 ms and p99 <= relay; at 1000, 1.2x and 1.5x.
  const p50 = phones === 100 ? atMostRelayPlus(2, 'ms') : phones === 1000 ? atMostTimesRelay(1.2) : undefined;
  const p99 = phones === 100 ? atMostRelayPlus(0, 'ms') : phones === 1000 ? atMostTimesRelay(1.5) : undefined;
  const at = `${formatCount(rate)}/s`;
  return [
    { label: `${p}: p50 post->phone @${at}`, figure: F.latencyP50(phones, p), format: formatMs, target: p50 },
    { label: `${p}: p99 post->phone @${at}`, figure: F.latencyP99(phones, p), format: formatMs, target: p99 },
    core(`  client core busy (${p})`, F.latencyClientCore(phones, p)),
  ];
}

/** Every section, for the phone counts of this run. */
export function reportSections(sizes: BenchSizes): Section[] {
  const sections: Section[] = [
    {
      title: 'Ingest flat out, no phones',
      rows: [
        { label: 'accepted/s', figure: F.INGEST_RATE, format: formatCount },
        { label: 'server CPU per accepted POST', figure: F.INGEST_CPU_US, format: formatUs, target: atMostTimesRelay(1.4) },
        core('  client core busy', F.INGEST_CLIENT_CORE),
        { label: `idle RSS (${sizes.idleWaitMs / 1000} s after ready, no load)`, figure: F.IDLE_RSS_MB, format: formatMb, target: atMost(80, 'MB') },
      ],
    },
  ];
  for (const phones of sizes.phoneCounts) {
    const posts = Math.round(sizes.latencyDeliveriesPerSec / phones);
    sections.push({
      title: `${formatCount(phones)} phones (latency at ${formatCount(posts)} posts/s)`,
      rows: [
        { label: `fan-out deliveries/s (window ${sizes.fanoutWindow})`, figure: F.fanoutRate(phones), format: formatCount, target: atLeastTimesRelay(1.5) },
        { label: 'server CPU per delivery', figure: F.fanoutCpuUs(phones), format: formatUs, target: atMostTimesRelay(0.7) },
        core('  client core busy (fan-out)', F.fanoutClientCore(phones)),
        ...latencyRows(phones, 'default', sizes.latencyDeliveriesPerSec),
        ...latencyRows(phones, 'urgent', sizes.latencyDeliveriesPerSec),
        { label: 'RSS before phones connect', figure: F.rssBeforePhonesMb(phones), format: formatMb, diagnostic: true },
        {
          label: 'RSS with phones connected',
          figure: F.rssConnectedMb(phones),
          format: formatMb,
          target: phones === 1000 ? atMostTimesRelay(1.15) : undefined,
        },
        // At 100 phones the difference (~4 MB) is within GC noise; the target is judged at 1000.
        {
          label: 'RSS per connected phone',
          figure: F.rssPerPhoneKb(phones),
          format: formatKb,
          target: phones === 1000 ? atMostTimesRelay(1.2) : undefined,
        },
        {
          label: 'RSS after fan-out and latency',
          figure: F.rssAfterLoadMb(phones),
          format: formatMb,
          target: phones === 1000 ? atMostTimesRelay(1.3) : undefined,
        },
      ],
    });
  }
  const c = sizes.clusterPhones;
  const share = (label: string, phase: 'fanout' | F.LatencyPriority): Row => ({ label, figure: F.clusterRedisShare(c, phase), format: formatPercent, diagnostic: true });
  sections.push({
    title: `Cluster (informational): ${formatCount(c)} phones split between two nodes, posts alternating; both nodes and redis-server on the server core`,
    compare: { columns: ['beep', 'cluster'], ratio: ['cluster', 'beep'], heading: '2 nodes/Beep' },
    rows: [
      { label: `fan-out deliveries/s (window ${sizes.fanoutWindow})`, figure: F.fanoutRate(c), format: formatCount },
      { label: 'server CPU per delivery (every process)', figure: F.fanoutCpuUs(c), format: formatUs },
      share('  redis-server share of that CPU', 'fanout'),
      { label: `default: p50 post->phone @${formatCount(sizes.latencyDeliveriesPerSec)}/s`, figure: F.latencyP50(c, 'default'), format: formatMs },
      { label: `default: p99 post->phone @${formatCount(sizes.latencyDeliveriesPerSec)}/s`, figure: F.latencyP99(c, 'default'), format: formatMs },
      share('  redis-server share of CPU (default)', 'default'),
      { label: `urgent: p50 post->phone @${formatCount(sizes.latencyDeliveriesPerSec)}/s`, figure: F.latencyP50(c, 'urgent'), format: formatMs },
      { label: `urgent: p99 post->phone @${formatCount(sizes.latencyDeliveriesPerSec)}/s`, figure: F.latencyP99(c, 'urgent'), format: formatMs },
      { label: 'RSS with phones connected (every process)', figure: F.rssConnectedMb(c), format: formatMb },
      core('  client core busy (fan-out)', F.fanoutClientCore(c)),
    ],
  });
  sections.push({
    title: `Catch-up: ${formatCount(sizes.catchupPending)} pending for one offline phone, kill -9, restart (Beep only)`,
    beepOnly: true,
    rows: [
      { label: 'spawn -> first /health answer', figure: F.CATCHUP_FIRST_HEALTH_MS, format: formatMs, target: atMost(1000, 'ms') },
      { label: `phone connects -> has all ${formatCount(sizes.catchupPending)}`, figure: F.CATCHUP_ALL_S, format: seconds, target: atMost(15, 's') },
      { label: 'RSS idle after restart', figure: F.CATCHUP_IDLE_MB, format: formatMb, diagnostic: true },
      { label: 'RSS peak during catch-up', figure: F.CATCHUP_PEAK_MB, format: formatMb, diagnostic: true },
      { label: 'RSS peak minus idle', figure: F.CATCHUP_RSS_OVER_IDLE_MB, format: formatMb, target: atMost(60, 'MB') },
      { label: `/health max (every ${sizes.healthProbeMs} ms)`, figure: F.CATCHUP_HEALTH_MAX_MS, format: formatMs, target: atMost(100, 'ms') },
      { label: '/health p99', figure: F.CATCHUP_HEALTH_P99_MS, format: formatMs, diagnostic: true },
      { label: '/health probes', figure: F.CATCHUP_HEALTH_PROBES, format: formatCount, diagnostic: true },
      core('  client core busy', F.CATCHUP_CLIENT_CORE),
    ],
  });
  return sections;
}
