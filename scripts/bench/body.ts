// What every posted notification carries, so each system's phones are counted and timed the
// same way: the body is `<phase>:<index>:<send time, nowMs()>`.

/** The notification body for post `index` of `phase`, stamped with its (scheduled) send time. */
export function encodeBody(phase: string, index: number, sentAtMs: number): string {
  return `${phase}:${index}:${sentAtMs.toFixed(3)}`;
}

/** A decoded body; undefined when it is not one of the bench's. */
export interface DecodedBody {
  phase: string;
  index: number;
  sentAtMs: number;
}

/** Parses a body written by encodeBody, without allocating for the common case. */
export function decodeBody(body: unknown): DecodedBody | undefined {
  if (typeof body !== 'string') return undefined;
  const first = body.indexOf(':');
  const second = body.indexOf(':', first + 1);
  if (first < 0 || second < 0) return undefined;
  const index = Number(body.slice(first + 1, second));
  const sentAtMs = Number(body.slice(second + 1));
  if (!Number.isInteger(index) || index < 0 || !Number.isFinite(sentAtMs)) return undefined;
  return { phase: body.slice(0, first), index, sentAtMs };
}
