import winston from 'winston';

// Structured logs: JSON lines, or readable lines on a terminal. Parts get child loggers that
// carry their context as fields.

export type Logger = winston.Logger;

export interface LoggerOptions {
  level: string;
  /** Human-readable lines (a terminal) instead of JSON. */
  pretty: boolean;
}

/** Keys whose values never reach a log line, whatever a call site passes. */
const SECRET_KEYS = /^(authorization|token|accesstoken|refreshtoken|code|password|secret|key|cookie)$/i;

const redact = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (SECRET_KEYS.test(key)) (info as Record<string, unknown>)[key] = '[redacted]';
  }
  return info;
});

export function createLogger(options: LoggerOptions): Logger {
  const format = options.pretty
    ? winston.format.combine(
        redact(),
        winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
        winston.format.colorize(),
        winston.format.printf(({ timestamp, level, message, component, ...rest }) => {
          const fields = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
          return `${timestamp} ${level} ${component ? `[${component}] ` : ''}${message}${fields}`;
        }),
      )
    : winston.format.combine(redact(), winston.format.timestamp(), winston.format.json());
  return winston.createLogger({
    level: options.level,
    format,
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] })],
  });
}
