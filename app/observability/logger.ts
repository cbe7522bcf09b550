import path from 'node:path';
import fs from 'node:fs';
import winston from 'winston';
import type { LogContext } from './log-context';
import { redactValue } from './redact';

// Structured logs: JSON lines to <data dir>/logs (rotated by size, a bounded number kept), and
// the console — readable lines on a terminal, JSON otherwise. Every line passes the one
// redaction formatter and carries the current request or event id.

export type Logger = winston.Logger;

export interface LoggerOptions {
  level: string;
  /** Human-readable console lines (a terminal) instead of JSON. */
  pretty: boolean;
  /** Where beep.log goes; undefined = console only. */
  logDir?: string;
  maxFileBytes?: number;
  maxFiles?: number;
  context?: LogContext;
}

/** winston's own keys, left as they are by redaction. */
const RESERVED = new Set(['level', 'message', 'timestamp']);

/** The single redaction step; also stamps the request/event id of the async context. */
const scrub = winston.format((info, opts) => {
  const record = info as Record<string, unknown>;
  const scope = (opts as { context?: LogContext } | undefined)?.context?.current();
  if (scope?.requestId && record.requestId === undefined) record.requestId = scope.requestId;
  if (scope?.eventId && record.eventId === undefined) record.eventId = scope.eventId;
  for (const key of Object.keys(record)) {
    record[key] = RESERVED.has(key) && key !== 'message' ? record[key] : redactValue(record[key], key === 'message' ? '' : key);
  }
  return info;
});

const readable = winston.format.printf(({ timestamp, level, message, component, requestId, eventId, ...rest }) => {
  const id = requestId ?? eventId;
  const fields = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
  return `${timestamp} ${level} ${component ? `[${component}] ` : ''}${id ? `(${id}) ` : ''}${message}${fields}`;
});

export function createLogger(options: LoggerOptions): Logger {
  const base = scrub({ context: options.context });
  const transports: winston.transport[] = [
    new winston.transports.Console({
      stderrLevels: ['error', 'warn', 'info', 'debug'],
      format: options.pretty
        ? winston.format.combine(winston.format.timestamp({ format: 'HH:mm:ss.SSS' }), winston.format.colorize(), readable)
        : winston.format.combine(winston.format.timestamp(), winston.format.json()),
    }),
  ];
  if (options.logDir) {
    fs.mkdirSync(options.logDir, { recursive: true, mode: 0o700 });
    transports.push(
      new winston.transports.File({
        filename: path.join(options.logDir, 'beep.log'),
        maxsize: options.maxFileBytes,
        maxFiles: options.maxFiles,
        // beep.log is always the newest; beep1.log, beep2.log… are older.
        tailable: true,
        format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
      }),
    );
  }
  return winston.createLogger({ level: options.level, format: base, transports });
}

/** Resolves once every transport has written what it was given (before exit). */
export function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 1_000);
    logger.on('finish', () => {
      clearTimeout(timer);
      resolve();
    });
    logger.end();
  });
}
