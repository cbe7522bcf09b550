// The names every figure is stored under, shared by the scenarios that measure them and the
// report that prints them (one place, so a typo cannot orphan a figure).

/** Latency phases: Beep's default priority, and urgent (the relays ignore the field). */
export type LatencyPriority = 'default' | 'urgent';

export const INGEST_RATE = 'ingest.acceptedPerSec';
export const INGEST_CPU_US = 'ingest.cpuPerPostUs';
export const INGEST_CLIENT_CORE = 'ingest.clientCore';
export const IDLE_RSS_MB = 'idle.rssMb';

export const fanoutRate = (phones: number) => `fanout.${phones}.deliveriesPerSec`;
export const fanoutCpuUs = (phones: number) => `fanout.${phones}.cpuPerDeliveryUs`;
export const fanoutClientCore = (phones: number) => `fanout.${phones}.clientCore`;

export const latencyP50 = (phones: number, p: LatencyPriority) => `latency.${phones}.${p}.p50`;
export const latencyP99 = (phones: number, p: LatencyPriority) => `latency.${phones}.${p}.p99`;
export const latencyClientCore = (phones: number, p: LatencyPriority) => `latency.${phones}.${p}.clientCore`;

export const rssBeforePhonesMb = (phones: number) => `memory.${phones}.beforeMb`;
export const rssConnectedMb = (phones: number) => `memory.${phones}.connectedMb`;
export const rssPerPhoneKb = (phones: number) => `memory.${phones}.perPhoneKb`;
export const rssAfterLoadMb = (phones: number) => `memory.${phones}.afterLoadMb`;

export const CATCHUP_FIRST_HEALTH_MS = 'catchup.firstHealthMs';
export const CATCHUP_ALL_S = 'catchup.allSeconds';
export const CATCHUP_RSS_OVER_IDLE_MB = 'catchup.rssOverIdleMb';
export const CATCHUP_IDLE_MB = 'catchup.idleMb';
export const CATCHUP_PEAK_MB = 'catchup.peakMb';
export const CATCHUP_HEALTH_MAX_MS = 'catchup.healthMaxMs';
export const CATCHUP_HEALTH_P99_MS = 'catchup.healthP99Ms';
export const CATCHUP_HEALTH_PROBES = 'catchup.healthProbes';
export const CATCHUP_CLIENT_CORE = 'catchup.clientCore';

/** The cluster's redis-server: its share of the server side's CPU time in a phase (the nodes have the rest). */
export const clusterRedisShare = (phones: number, phase: 'fanout' | LatencyPriority) => `cluster.${phones}.${phase}.redisShare`;

/** The figure holding this bench's own share of the client core, beside a client-core figure. */
export const benchShareOf = (clientCoreFigure: string) => `${clientCoreFigure}.bench`;
