import { Router, type Request, type Response } from 'express';
import { COMPAT_PUBLISH_BODY_BYTES } from '../../config/defaults';
import { bodyReader } from '../compat-body';
import { BeepError } from '../../domain/errors';
import type { NotificationInput } from '../../domain/notification';
import type { Logger } from '../../observability/logger';
import { compatErrors } from '../compat-errors';
import { credentialOf, peerOf } from '../credentials';
import type { Publish, TokenGate } from '../ports';
import { isTopicName, parseTopicList } from '../topics';
import { follow, poll, type EventSink, type FeedOptions } from './ntfy-feed';
import { toNtfyMessage, type NtfyMessage } from './ntfy-message';
import { NtfyParams } from './ntfy-params';
import type { DelayBounds } from '../../schedule/delay';
import { openPublisher } from './open-topics';
import { fromJson, fromRequest, jsonTopic, type Publisher } from './ntfy-publish';
import { parseSubscription } from './ntfy-subscription';
import type { StreamSlots } from '../stream-slots';
import { httpTransport, StreamWriter, type StreamWriterLimits } from '../stream-writer';

// ntfy's HTTP API on a Beep listener: publish (PUT/POST /<topic>, JSON to /, GET
// /<topic>/publish|send|trigger) and subscribe (/<topics>/json, /sse, /raw). A first path
// segment that is not a topic name (Beep's own routes, reserved names) falls through.

export interface NtfyDeps extends FeedOptions {
  tokens: TokenGate;
  /** How every subscriber stream is written (StreamWriter). */
  streams: StreamWriterLimits;
  /** Caps on open streams per token and per address. */
  slots: StreamSlots;
  publish: Publish;
  listener: string;
  logger: Logger;
  /** Topics that take a token-less POST/PUT from a local script (compat.ntfy.openTopics; admin listener only, else empty). */
  openTopics?: ReadonlySet<string>;
  /** Scheduled delivery's bounds (compat.ntfy.minDelaySec/maxDelaySec); absent: delays are refused. */
  delayBounds?: DelayBounds;
}

/** Content types and encoders of the three HTTP stream formats (docs/subscribe/api.md). */
const FORMATS: Record<string, { type: string; encode: (m: NtfyMessage) => string }> = {
  json: { type: 'application/x-ndjson; charset=utf-8', encode: (m) => `${JSON.stringify(m)}\n` },
  sse: {
    type: 'text/event-stream; charset=utf-8',
    encode: (m) => `${m.event === 'message' ? '' : `event: ${m.event}\n`}data: ${JSON.stringify(m)}\n\n`,
  },
  raw: { type: 'text/plain; charset=utf-8', encode: (m) => (m.event === 'message' ? `${(m.message ?? '').replace(/\r?\n/g, ' ')}\n` : '\n') },
};

/** Publish bodies, read only once the token is checked. */
const publishBody = bodyReader({ bytes: COMPAT_PUBLISH_BODY_BYTES });

export function ntfyRoutes(deps: NtfyDeps): Router {
  const router = Router();
  const timing = () => ({ nowMs: deps.now(), bounds: deps.delayBounds });
  const caller = (req: Request) => ({ ip: peerOf(req), protocol: 'ntfy' as const, listener: deps.listener });

  async function answer(res: Response, parse: () => NotificationInput): Promise<void> {
    const { input, outcome } = await deps.publish.receive('ntfy', parse);
    if ('muted' in outcome) return void res.status(200).json({ id: null, event: 'message', topic: input.topic, muted: outcome.muted });
    res.status(200).json(toNtfyMessage(outcome.notification, deps.retentionSec));
  }

  // JSON publishing: PUT/POST / with the object as the body. Its topic is in the body, so the
  // token is checked first (a publish token at all), its scope once the body is read.
  router.post('/', async (req, res) => jsonPublish(req, res));
  router.put('/', async (req, res) => jsonPublish(req, res));
  async function jsonPublish(req: Request, res: Response): Promise<void> {
    const token = await deps.tokens.authenticate(credentialOf(req), 'publish', [], caller(req));
    let body: unknown;
    try {
      body = JSON.parse((await publishBody(req, res)).toString('utf8'));
    } catch (error) {
      if (error instanceof BeepError) throw error;
      throw new BeepError('invalid_json', 'The body must be a JSON object with "topic".');
    }
    deps.tokens.requireScope(token, 'publish', [jsonTopic(body)], caller(req));
    await answer(res, () => fromJson(body as Record<string, unknown>, { tokenId: token.id, name: token.name }, timing()));
  }

  async function publish(req: Request, res: Response, next: () => void): Promise<void> {
    const topic = String(req.params.topic);
    if (!isTopicName(topic)) return next();
    parseTopicList(topic);
    const publisher = openPublisher(req, topic, deps.openTopics) ?? (await tokenPublisher(req, topic));
    const params = new NtfyParams(req.headers, req.query as Record<string, unknown>);
    const body = (await publishBody(req, res)).toString('utf8');
    await answer(res, () => fromRequest(topic, params, body, req.headers['content-type'], publisher, timing()));
  }
  async function tokenPublisher(req: Request, topic: string): Promise<Publisher> {
    const token = await deps.tokens.authenticate(credentialOf(req), 'publish', [topic], caller(req));
    return { tokenId: token.id, name: token.name };
  }
  router.put('/:topic', publish);
  router.post('/:topic', publish);
  for (const verb of ['publish', 'send', 'trigger']) router.all(`/:topic/${verb}`, publish);

  router.get('/:topics/:format', async (req, res, next) => {
    const format = FORMATS[String(req.params.format)];
    const first = String(req.params.topics).split(',')[0];
    if (!format || !isTopicName(first)) return next();
    const topics = parseTopicList(String(req.params.topics));
    const token = await deps.tokens.authenticate(credentialOf(req), 'subscribe', topics, caller(req));
    const sub = parseSubscription(new NtfyParams(req.headers, req.query as Record<string, unknown>, true), deps.now());
    // The slot is held until the connection is gone (a closed stream's tail may still be flushing).
    res.once('close', deps.slots.take(token.id, peerOf(req)));
    res.status(200).set({ 'Content-Type': format.type, 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    const writer = new StreamWriter(httpTransport(res), deps.streams);
    const sink: EventSink = { writer, encode: format.encode };
    // A failure once the stream has started can only end it (its headers are out).
    const started = sub.poll ? poll(deps, topics, sub, sink) : follow(deps, topics, sub, token.id, sink);
    await started.catch((error: unknown) => {
      deps.logger.error('subscriber stream failed', { error: String(error) });
      writer.close('cut');
    });
  });

  router.use(compatErrors('ntfy', deps.logger));
  return router;
}
