#!/usr/bin/env node
// First: holds V8's young generation small while the modules below load (start-up-heap.ts).
import { releaseYoungGeneration } from './start-up-heap';
import path from 'node:path';
import type { Io } from './cli/commands';
import { buildProgram } from './cli/program';
import { ConfigError, loadConfig, type ConfigFlags } from './config/load';
import { SHUTDOWN_GRACE_MS } from './config/defaults';
import { createDaemon } from './daemon';
import { LogContext } from './observability/log-context';
import { createLogger, flushLogger } from './observability/logger';

// argv, signals and exit codes: 0 ok, 1 failure, 2 bad configuration or usage, 3 not running,
// 4 revoked (`beep listen`). The commands themselves are wired in cli/program.ts.

/** ms a crash waits for its log line to be written before exiting anyway. */
const CRASH_FLUSH_MS = 1_000;

const io: Io = { out: (t) => process.stdout.write(`${t}\n`), err: (t) => process.stderr.write(`${t}\n`) };

async function startCommand(flags: ConfigFlags): Promise<void> {
  let config;
  try {
    config = loadConfig(flags);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(`beep: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const context = new LogContext();
  const logger = createLogger({
    level: config.log.level,
    pretty: Boolean(process.stderr.isTTY),
    logDir: config.log.file ? path.join(config.dataDir, 'logs') : undefined,
    maxFileBytes: config.log.maxFileMb * 1024 * 1024,
    maxFiles: config.log.maxFiles,
    context,
  });
  const daemon = createDaemon(config, logger, context);
  const exit = (code: number) => void flushLogger(logger).then(() => process.exit(code));
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    setTimeout(() => {
      logger.error('shutdown took too long; exiting anyway');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    daemon.stop().then(
      () => {
        logger.info('stopped');
        exit(0);
      },
      (error) => {
        logger.error('shutdown failed', { error: String(error) });
        exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // A crash leaves state nobody can vouch for: log it and exit non-zero at once, so the service
  // manager (systemd Restart=on-failure, launchd KeepAlive) restarts a clean process. Nothing
  // accepted is lost: an answer of 2xx was only ever written after its commit.
  const crash = (what: string, error: unknown) => {
    logger.error(what, { error: (error as Error)?.stack ?? String(error) });
    setTimeout(() => process.exit(1), CRASH_FLUSH_MS).unref();
    void flushLogger(logger).then(() => process.exit(1));
  };
  process.on('uncaughtException', (error) => crash('uncaught exception', error));
  process.on('unhandledRejection', (reason) => crash('unhandled rejection', reason));
  try {
    await daemon.start();
    releaseYoungGeneration();
  } catch (error) {
    logger.error('beep could not start', { error: (error as Error).message });
    if (!process.stderr.isTTY) io.err(`beep: ${(error as Error).message}`);
    // Whatever the half-built parts do while stopping, this process ends non-zero.
    process.exitCode = 1;
    const patience = new Promise((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref());
    await Promise.race([daemon.stop().catch(() => undefined), patience]);
    exit(1);
  }
}

buildProgram({ io, start: startCommand })
  // Only `start` keeps the young generation held, until the daemon runs.
  .hook('preAction', (_program, command) => {
    if (command.name() !== 'start') releaseYoungGeneration();
  })
  .parseAsync(process.argv)
  .catch((error) => {
    io.err(`beep: ${(error as Error).message}`);
    process.exit(2);
  });
