import busboy from 'busboy';
import { Readable } from 'node:stream';
import express, { type Request, type Response } from 'express';
import { BeepError } from '../domain/errors';

// Request bodies of the ntfy and Gotify routes, read only once the request's token (or the
// Gotify Basic login) has been checked, and only as far as the route needs: a publish may
// carry one notification, a Gotify client its name; subscriptions read none. Multipart is
// parsed by busboy as it streams in (no pattern ever runs over a part's headers), with caps on
// parts, fields and bytes.

/** Bytes one route may read (config/defaults.ts COMPAT_*_BODY_BYTES). */
export interface BodyLimit {
  bytes: number;
}

/** Multipart caps: a Gotify message has three fields; files (curl -F file=@x) are skipped, not kept. */
const MULTIPART = { parts: 16, fields: 8, files: 4, headerPairs: 16, fieldNameSize: 64 } as const;

/** A refused body is not read further: the connection closes after the answer. */
function unread(res: Response, error: BeepError): BeepError {
  if (!res.headersSent) res.setHeader('Connection', 'close');
  return error;
}

function tooLarge(limit: number): BeepError {
  return new BeepError('payload_too_large', `The request body is larger than ${limit} bytes.`);
}

/** A reader of whole bodies of at most `limit.bytes` (413 payload_too_large past it). */
export function bodyReader(limit: BodyLimit): (req: Request, res: Response) => Promise<Buffer> {
  const parse = express.raw({ type: () => true, limit: limit.bytes });
  return (req, res) =>
    new Promise((resolve, reject) => {
      parse(req, res, (error?: unknown) => {
        if ((error as { type?: string } | undefined)?.type === 'entity.too.large') return reject(unread(res, tooLarge(limit.bytes)));
        if (error) return reject(error);
        resolve(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
      });
    });
}

/** The text fields of a multipart/form-data body, streamed; file parts are drained and ignored. */
export function readMultipart(req: Request, res: Response, limit: BodyLimit): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: { ...MULTIPART, fieldSize: limit.bytes, fileSize: limit.bytes },
      });
    } catch {
      return reject(new BeepError('validation_failed', 'The multipart body has no boundary.'));
    }
    const fields: Record<string, string> = {};
    let received = 0;
    let settled = false;
    const fail = (error: BeepError) => {
      if (settled) return;
      settled = true;
      req.unpipe(parser);
      req.off('data', count);
      reject(unread(res, error));
    };
    const count = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit.bytes) fail(tooLarge(limit.bytes));
    };
    req.on('data', count);
    parser.on('field', (name, value) => {
      fields[name] = value;
    });
    parser.on('file', (_name, stream) => stream.resume());
    for (const event of ['partsLimit', 'fieldsLimit', 'filesLimit'] as const) {
      parser.on(event, () => fail(new BeepError('payload_too_large', `The multipart body has more ${event.replace('Limit', '')} than a message needs.`)));
    }
    parser.on('error', (error: Error) => fail(new BeepError('validation_failed', `The multipart body could not be read: ${error.message}.`)));
    parser.on('close', () => {
      if (settled) return;
      settled = true;
      req.off('data', count);
      resolve(fields);
    });
    req.on('error', () => fail(new BeepError('validation_failed', 'The request body could not be read.')));
    req.pipe(parser);
  });
}

/**
 * Reads a body's first `limit` bytes and no more: `rest` is null when the whole body fit, else
 * a stream of all of it (those bytes, then what is still to come), for ntfy's rule that a body
 * too long or not UTF-8 is a file.
 */
export function peekBody(req: Request, limit: number): Promise<{ head: Buffer; rest: Readable | null }> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const done = (rest: boolean) => {
      req.off('data', onData).off('end', onEnd).off('error', onError);
      const head = Buffer.concat(parts);
      if (!rest) return resolve({ head, rest: null });
      req.pause();
      resolve({
        head,
        rest: Readable.from(
          (async function* () {
            yield head;
            for await (const chunk of req) yield chunk as Buffer;
          })(),
          { objectMode: false },
        ),
      });
    };
    const onData = (chunk: Buffer) => {
      parts.push(chunk);
      size += chunk.length;
      if (size > limit) done(true);
    };
    const onEnd = () => done(false);
    const onError = () => reject(new BeepError('validation_failed', 'The request body could not be read.'));
    req.on('data', onData).on('end', onEnd).on('error', onError);
  });
}
