import type { AttachmentLinker, StoredNotification } from '../../domain/notification';
import type { Logger } from '../../observability/logger';
import { pump } from '../backlog-pump';
import type { SubscriberHistory } from '../ports';
import type { StreamWriter } from '../stream-writer';
import type { Feed, SubscriberHub } from '../subscriber-hub';
import { controlEvent, toNtfyMessage, type NtfyMessage } from './ntfy-message';
import type { Since, Subscription } from './ntfy-subscription';

// One ntfy subscription, whatever carries it (json, sse, raw, ws): the open event, the backlog
// that since= asks for (read page by page as the stream drains), then live messages, and a
// keepalive while nothing happens.

export interface FeedOptions {
  hub: SubscriberHub;
  history: SubscriberHistory;
  retentionSec: number;
  keepaliveMs: number;
  /** notifications per history read (a poll pages like a live stream). */
  pageSize: number;
  now: () => number;
  logger: Logger;
}

/** Where events go: the stream's writer (which owns its timers) and the format's encoder. */
export interface EventSink {
  writer: StreamWriter;
  encode(event: NtfyMessage): string;
  /** Signs stored attachments' links for this subscriber (absolute, on the host it connected to). */
  link?: AttachmentLinker;
}

function emit(sink: EventSink, event: NtfyMessage): boolean {
  return sink.writer.write(sink.encode(event));
}

/** The seq the backlog starts after, or null when since= asks for none. A pruned or unknown id means all. */
async function startOf(since: Since, topics: string[], history: SubscriberHistory): Promise<number | null> {
  switch (since.kind) {
    case 'none':
      return null;
    case 'all':
    case 'time':
      return 0;
    case 'id':
      return (await history.seqOf(since.id)) ?? 0;
    case 'latest': {
      const [newest] = await history.before(Number.MAX_SAFE_INTEGER, topics, 1);
      return newest ? newest.seq - 1 : 0;
    }
  }
}

/** The feed of one subscription over one stream. */
function feedOf(options: FeedOptions, topics: string[], sub: Subscription, tokenId: number, sink: EventSink): Feed {
  const wanted = new Set(topics);
  const sinceMs = sub.since.kind === 'time' ? sub.since.ms : 0;
  return {
    tokenId,
    accepts: (n: StoredNotification) => n.topic !== null && wanted.has(n.topic) && sub.matches(n),
    send: (n) => emit(sink, toNtfyMessage(n, options.retentionSec, sink.link)),
    drained: () => sink.writer.drained(),
    history: (afterSeq, limit) => options.history.after(afterSeq, sinceMs, topics, limit),
    close: (error) => {
      if (error) options.logger.error('subscriber backlog failed', { error: String(error) });
      sink.writer.close(error ? 'cut' : 'end');
    },
  };
}

/** Poll: the backlog, page by page, then the end (no open event, as ntfy does). */
export async function poll(options: FeedOptions, topics: string[], sub: Subscription, sink: EventSink): Promise<void> {
  const start = await startOf(sub.since, topics, options.history);
  if (start !== null) await pump(feedOf(options, topics, sub, 0, sink), start, options.pageSize);
  sink.writer.close();
}

/** A live subscription until its writer closes. */
export async function follow(options: FeedOptions, topics: string[], sub: Subscription, tokenId: number, sink: EventSink): Promise<void> {
  emit(sink, controlEvent('open', topics, options.now()));
  sink.writer.every(options.keepaliveMs, () => emit(sink, controlEvent('keepalive', topics, options.now())));
  const start = await startOf(sub.since, topics, options.history);
  if (!sink.writer.isOpen) return;
  sink.writer.onClosed(options.hub.open(feedOf(options, topics, sub, tokenId, sink), start));
}
