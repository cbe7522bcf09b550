import type { StoredNotification } from '../../domain/notification';
import { loadAfter, type SubscriberHistory } from '../ports';
import type { StreamWriter } from '../stream-writer';
import type { SubscriberHub } from '../subscriber-hub';
import { controlEvent, toNtfyMessage, type NtfyMessage } from './ntfy-message';
import type { Since, Subscription } from './ntfy-subscription';

// One ntfy subscription, whatever carries it (json, sse, raw, ws): the open event, the backlog
// that since= asks for, then live messages, and a keepalive while nothing happens.

export interface FeedOptions {
  hub: SubscriberHub;
  history: SubscriberHistory;
  retentionSec: number;
  keepaliveMs: number;
  now: () => number;
}

/** Where events go: the stream's writer (which owns its timers) and the format's encoder. */
export interface EventSink {
  writer: StreamWriter;
  encode(event: NtfyMessage): string;
}

function emit(sink: EventSink, event: NtfyMessage): boolean {
  return sink.writer.write(sink.encode(event));
}

/** The backlog since= asks for, oldest first; null when it asks for none. A pruned or unknown id means all. */
function backlog(since: Since, topics: string[], history: SubscriberHistory): (() => Promise<StoredNotification[]>) | null {
  switch (since.kind) {
    case 'none':
      return null;
    case 'all':
      return () => loadAfter(history, 0, 0, topics);
    case 'time':
      return () => loadAfter(history, 0, since.ms, topics);
    case 'id':
      return () => loadAfter(history, history.seqOf(since.id) ?? 0, 0, topics);
    case 'latest':
      return async () => (await history.before(Number.MAX_SAFE_INTEGER, topics, 1)).reverse();
  }
}

/** Poll: the backlog, then the end (no open event, as ntfy does). */
export async function poll(options: FeedOptions, topics: string[], sub: Subscription, sink: EventSink): Promise<void> {
  const load = backlog(sub.since, topics, options.history);
  for (const n of load ? await load() : []) if (sub.matches(n)) emit(sink, toNtfyMessage(n, options.retentionSec));
  sink.writer.close();
}

/** A live subscription until its writer closes; resolves once the backlog is out. */
export async function follow(options: FeedOptions, topics: string[], sub: Subscription, tokenId: number, sink: EventSink): Promise<void> {
  const wanted = new Set(topics);
  emit(sink, controlEvent('open', topics, options.now()));
  sink.writer.every(options.keepaliveMs, () => emit(sink, controlEvent('keepalive', topics, options.now())));
  const remove = await options.hub.open(
    {
      tokenId,
      accepts: (n) => n.topic !== null && wanted.has(n.topic) && sub.matches(n),
      send: (n) => void emit(sink, toNtfyMessage(n, options.retentionSec)),
      close: () => sink.writer.close(),
    },
    backlog(sub.since, topics, options.history),
  );
  sink.writer.onClosed(remove);
}
