import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { readIfExists, writeSecretFile } from './util/secure-file';

// The files through which the CLI finds a running daemon: daemon.json and admin.token.

export interface RuntimeInfo {
  pid: number;
  gatewayPort: number;
  adminPort: number;
  caFingerprint: string;
  version: string;
  /** Cluster mode: this node's id (its audit chain and histories are in Redis, read through the daemon). */
  nodeId?: string;
}

export const RUNTIME_FILE = 'daemon.json';
export const ADMIN_TOKEN_FILE = 'admin.token';

/** bytes of randomness in the admin token: 256 bits. */
const ADMIN_TOKEN_BYTES = 32;

/** Reads the admin token, creating it (mode 0600) on first start. */
export function loadOrCreateAdminToken(dataDir: string): string {
  const file = path.join(dataDir, ADMIN_TOKEN_FILE);
  const existing = readIfExists(file)?.trim();
  if (existing) return existing;
  const token = crypto.randomBytes(ADMIN_TOKEN_BYTES).toString('base64url');
  writeSecretFile(file, `${token}\n`);
  return token;
}

export function writeRuntimeInfo(dataDir: string, info: RuntimeInfo): void {
  const file = path.join(dataDir, RUNTIME_FILE);
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o644 });
  fs.renameSync(temp, file);
}

/** Removes daemon.json, but only if it is still ours (a newer daemon may have replaced it). */
export function removeRuntimeInfo(dataDir: string, pid = process.pid): void {
  const info = readRuntimeInfo(dataDir);
  if (info && info.pid === pid) fs.rmSync(path.join(dataDir, RUNTIME_FILE), { force: true });
}

export function readRuntimeInfo(dataDir: string): RuntimeInfo | undefined {
  const text = readIfExists(path.join(dataDir, RUNTIME_FILE));
  if (!text) return undefined;
  try {
    return JSON.parse(text) as RuntimeInfo;
  } catch {
    return undefined;
  }
}

export function readAdminToken(dataDir: string): string | undefined {
  return readIfExists(path.join(dataDir, ADMIN_TOKEN_FILE))?.trim() || undefined;
}
