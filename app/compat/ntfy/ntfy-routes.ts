import { Router, type Request, type Response } from 'express';
import { COMPAT_PUBLISH_BODY_BYTES } from '../../config/defaults';
import { bodyReader, peekBody } from '../compat-body';
import { isUtf8 } from 'node:buffer';
import { BeepError } from '../../domain/errors';
import type { Attachment, AttachmentLinker, NotificationInput } from '../../domain/notification';
import { Readable } from 'node:stream';
import type { Logger } from '../../observability/logger';
import { compatErrors } from '../compat-errors';
import { credentialOf, peerOf } from '../credentials';
import type { Publish, TokenGate } from '../ports';
import { isTopicName, parseTopicList } from '../topics';
import { follow, poll, type EventSink, type FeedOptions } from './ntfy-feed';
import { toNtfyMessage, type NtfyMessage } from './ntfy-message';
import { NtfyParams, PUBLISH } from './ntfy-params';
import type { DelayBounds } from '../../schedule/delay';
import { openPublisher } from './open-topics';
import { fromJson, fromRequest, jsonTopic, uploadName, type Publisher, type UploadedFile } from './ntfy-publish';
import { parseSubscription } from './ntfy-subscription';
import type { StreamSlots } from '../stream-slots';
import { httpTransport, StreamWriter, type StreamWriterLimits } from '../stream-writer';

// ntfy's HTTP API on a Beep listener: publish (PUT/POST /<topic>, JSON to /, GET
// /<topic>/publish|send|trigger) and subscribe (/<topics>/json, /sse, /raw). A first path
// segment that is not a topic name (Beep's own routes, reserved names) falls through.

/** Stored attachment files (store/AttachmentFiles) and their signed links (attachments/AttachmentLinks). */
export interface NtfyAttachments {
  files: {
    /** Streams the body into an encrypted file; 413 attachment_too_large past a quota. */
    save(source: Readable, declaredBytes?: number): Promise<UploadedFile>;
    /** The file of a publish that was refused or muted. */
    discard(id: string): Promise<void>;
  };
  links: { pathOf(a: Attachment): string | null };
}

/** A linker giving absolute URLs on the host the client reached (`scheme://host/file/…?exp=&sig=`). */
export function linkerFor(attachments: NtfyAttachments | undefined, listener: string, host: string | undefined): AttachmentLinker | undefined {
  if (!attachments) return undefined;
  const base = host && /^[A-Za-z0-9.:[\]-]{1,255}$/.test(host) ? `${listener === 'gateway' ? 'https' : 'http'}://${host}` : '';
  return (a) => {
    const path = attachments.links.pathOf(a);
    return path ? base + path : null;
  };
}

export interface NtfyDeps extends FeedOptions {
  /** Attachments; absent when they are off (then a file or `Attach:` is refused). */
  attachments?: NtfyAttachments;
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

/** bytes of a body that may be the message: ntfy's message-size-limit; a longer or non-UTF-8 body is a file. */
const NTFY_MESSAGE_BYTES = 4096;

/** ntfy's name for a file sent without one: "attachment" and the extension of its type. */
const EXTENSIONS: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/gif': 'gif', 'image/webp': 'webp', 'application/pdf': 'pdf' };

export function ntfyRoutes(deps: NtfyDeps): Router {
  const router = Router();
  const timing = () => ({ nowMs: deps.now(), bounds: deps.delayBounds });
  const caller = (req: Request) => ({ ip: peerOf(req), protocol: 'ntfy' as const, listener: deps.listener });

  async function answer(req: Request, res: Response, parse: () => NotificationInput): Promise<boolean> {
    const { input, outcome } = await deps.publish.receive('ntfy', parse);
    if ('muted' in outcome) return void res.status(200).json({ id: null, event: 'message', topic: input.topic, muted: outcome.muted }), false;
    res.status(200).json(toNtfyMessage(outcome.notification, deps.retentionSec, linkerFor(deps.attachments, deps.listener, req.headers.host)));
    return true;
  }

  /** The body is a file: checked as a notification first, then streamed into the store, then published (the file goes if it is not). */
  async function publishFile(
    req: Request,
    res: Response,
    topic: string,
    params: NtfyParams,
    publisher: Publisher,
    source: Readable = req,
  ): Promise<void> {
    const attachments = deps.attachments;
    if (!attachments) throw new BeepError('unsupported_parameter', 'Attachments are off on this Beep (attachments.enabled).');
    const placeholder = { id: 'x', size: 0, type: 'application/octet-stream', expiresMs: 0 };
    const declared = Number(req.headers['content-length']);
    let file: UploadedFile;
    try {
      fromRequest(topic, params, '', req.headers['content-type'], publisher, timing(), placeholder);
      file = await attachments.files.save(source, Number.isFinite(declared) ? declared : undefined);
    } catch (error) {
      // Not read further: the answer goes out, then the connection closes.
      if (!res.headersSent) res.setHeader('Connection', 'close');
      throw error;
    }
    const named = { ...file, name: uploadName(params) ?? `attachment.${EXTENSIONS[file.type] ?? 'bin'}` };
    let kept = false;
    try {
      kept = await answer(req, res, () => fromRequest(topic, params, '', req.headers['content-type'], publisher, timing(), named));
    } finally {
      if (!kept) await attachments.files.discard(file.id);
    }
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
    if (!deps.attachments && (body as { attach?: unknown }).attach !== undefined) throw new BeepError('unsupported_parameter', 'Attachments are off on this Beep (attachments.enabled).');
    await answer(req, res, () => fromJson(body as Record<string, unknown>, { tokenId: token.id, name: token.name }, timing()));
  }

  async function publish(req: Request, res: Response, next: () => void): Promise<void> {
    const topic = String(req.params.topic);
    if (!isTopicName(topic)) return next();
    parseTopicList(topic);
    const publisher = openPublisher(req, topic, deps.openTopics) ?? (await tokenPublisher(req, topic));
    const params = new NtfyParams(req.headers, req.query as Record<string, unknown>);
    if (uploadName(params) !== null) {
      if (req.method === 'GET') throw new BeepError('unsupported_parameter', 'A file is sent with PUT or POST and the file as the body.');
      return publishFile(req, res, topic, params, publisher);
    }
    if (!deps.attachments && params.has([...PUBLISH.attach, ...PUBLISH.filename])) throw new BeepError('unsupported_parameter', 'Attachments are off on this Beep (attachments.enabled).');
    let body: string;
    if (deps.attachments && req.method !== 'GET' && params.get(PUBLISH.attach) === undefined) {
      // ntfy: a body longer than a message or not UTF-8 is a file (what `ntfy publish --file` and the ntfy package send).
      const { head, rest } = await peekBody(req, NTFY_MESSAGE_BYTES);
      if (rest || !isUtf8(head)) return publishFile(req, res, topic, params, publisher, rest ?? Readable.from([head]));
      body = head.toString('utf8');
    } else {
      body = (await publishBody(req, res)).toString('utf8');
    }
    await answer(req, res, () => fromRequest(topic, params, body, req.headers['content-type'], publisher, timing()));
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
    const sink: EventSink = { writer, encode: format.encode, link: linkerFor(deps.attachments, deps.listener, req.headers.host) };
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
