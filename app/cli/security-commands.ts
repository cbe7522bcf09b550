import type { ChainVerdict } from '../domain/audit-chain';
import { verifyAuditFiles } from '../store/audit-offline';
import { readRuntimeInfo } from '../discovery';
import { AdminClient } from './admin-client';
import type { Io } from './commands';
import { formatAuditEntry, type AuditEntryView } from './audit-format';
import { count } from './text';

// The `beep` commands for the trust features: certificates, encryption keys, the audit log and
// the dashboard password. Each goes through the admin API so the running daemon acts live,
// except `audit verify`, which reads the files so that it needs no daemon.

interface CertStatus {
  notAfter: string;
  daysLeft: number;
  subjectAltNames: string[];
  leftOutNames?: string[];
  caFingerprint: string;
  caNameConstraints?: boolean;
  serverFingerprint: string;
}

function printCert(status: CertStatus, io: Io): void {
  io.out(`server certificate valid until ${status.notAfter} (${count(status.daysLeft, 'day')})`);
  io.out(`  names      ${status.subjectAltNames.join(', ')}`);
  if (status.leftOutNames?.length) io.out(`  left out   ${status.leftOutNames.join(', ')} (outside the CA's name constraints)`);
  io.out(`  server     ${status.serverFingerprint}`);
  io.out(`  CA (pin)   ${status.caFingerprint}`);
  if (status.caNameConstraints === false) {
    io.out('  CA limits  none: this CA can vouch for any site; `beep cert rotate-ca` replaces it (every phone pairs again)');
  } else if (status.caNameConstraints) {
    io.out('  CA limits  LAN names and addresses only (name constraints)');
  }
}

/** `beep cert status` and `beep cert renew`. */
export async function certCommand(dataDir: string, action: 'status' | 'renew', json: boolean, io: Io): Promise<number> {
  const client = AdminClient.fromDataDir(dataDir);
  const { body } = await client.request<CertStatus>(action === 'renew' ? 'POST' : 'GET', action === 'renew' ? '/api/v1/cert/renew' : '/api/v1/cert');
  if (json) io.out(JSON.stringify(body, null, 2));
  else {
    if (action === 'renew') io.out('renewed; the gateway serves the new certificate now (no restart)');
    printCert(body, io);
  }
  return 0;
}

/** One line for a verdict: `beep audit verify` and `beep restore` print it. */
export function describeAuditVerdict(v: ChainVerdict): string {
  if (!v.ok) return `audit log broken at entry ${v.seq}: ${v.problem} (${v.detail}; ${count(v.checked, 'entry', 'entries')} before it verified)`;
  if (v.unkeyed) return `audit log intact: ${count(v.checked, 'entry', 'entries')} verified (the old unkeyed chain; the daemon keys it at its next start)`;
  const from = v.firstSeq !== null && v.firstSeq > 1 ? ` (entries ${v.firstSeq}..${v.head?.seq}; older ones pruned behind a signed anchor)` : '';
  return `audit log intact: ${count(v.checked, 'entry', 'entries')} verified${from}`;
}

/** How `beep cert rotate-ca` gets its go-ahead: --yes, or a question when stdin is a terminal. */
export interface RotateConfirmation {
  yes: boolean;
  /** Asks on the terminal and resolves true for "yes"; undefined when stdin is not a terminal. */
  ask?: (question: string) => Promise<boolean>;
}

/**
 * `beep cert rotate-ca`: replaces the CA in the running daemon (the gateway swaps it in at once).
 * Every phone that pinned the old CA must pair again, so it says so and asks first.
 */
export async function certRotateCaCommand(dataDir: string, confirm: RotateConfirmation, json: boolean, io: Io): Promise<number> {
  const client = AdminClient.fromDataDir(dataDir);
  const { body: current } = await client.request<CertStatus>('GET', '/api/v1/cert');
  const { body: devices } = await client.request<unknown[]>('GET', '/api/v1/devices');
  const paired = Array.isArray(devices) ? devices.length : 0;
  // A cluster node's CA is the cluster's: every node swaps in the new one.
  const clustered = readRuntimeInfo(dataDir)?.nodeId !== undefined;
  io.err(
    `This replaces the certificate authority ${current.caFingerprint} with a new one limited to LAN names. ` +
      `Every phone must pair again (${count(paired, 'paired device')}): the old CA stops working for them at once. ` +
      'Where a phone installed the old CA, remove it there and install the new one.' +
      (clustered ? ' This is the CA of the whole cluster: every node serves the new one, and phones connected to any node must pair again.' : ''),
  );
  if (!confirm.yes) {
    if (!confirm.ask) {
      io.err('Not replaced: run `beep cert rotate-ca --yes` to confirm.');
      return 2;
    }
    if (!(await confirm.ask('Replace the CA? Type "yes": '))) {
      io.err('Not replaced.');
      return 1;
    }
  }
  // The CA shown above is the one replaced: if another node of a cluster replaced it meanwhile, the daemon refuses (ca_changed).
  const { body } = await client.request<CertStatus & { previousFingerprint: string }>('POST', '/api/v1/cert/rotate-ca', { confirm: true, caFingerprint: current.caFingerprint });
  if (json) {
    io.out(JSON.stringify(body, null, 2));
    return 0;
  }
  io.out(`new certificate authority ${body.caFingerprint} (was ${body.previousFingerprint})`);
  io.out('the gateway serves it now (no restart); every phone must pair again: `beep pair` for each, then `beep revoke` its old entry');
  if (clustered) io.out('cluster: every node serves a certificate under the new CA within seconds (at most 30 s); phones pair again through any node');
  printCert(body, io);
  return 0;
}

/**
 * `beep audit verify`: exit 0 when the chain is whole, 1 naming the first bad entry. Reads the
 * files itself (beep.db, keys/audit.key, audit.checkpoint), so it works with the daemon
 * stopped too, e.g. right after `beep restore`.
 */
export async function auditVerifyCommand(dataDir: string, io: Io): Promise<number> {
  // A cluster node's chain is the cluster's, in Redis: the running daemon verifies it.
  const clustered = readRuntimeInfo(dataDir)?.nodeId !== undefined;
  const verdict = clustered ? (await AdminClient.fromDataDir(dataDir).request<ChainVerdict>('GET', '/api/v1/audit/verify')).body : await verifyAuditFiles(dataDir);
  if (verdict.ok) {
    io.out(describeAuditVerdict(verdict));
    return 0;
  }
  io.err(describeAuditVerdict(verdict));
  return 1;
}

/** `beep audit list`: the newest entries. */
export async function auditListCommand(dataDir: string, limit: number, json: boolean, io: Io): Promise<number> {
  const client = AdminClient.fromDataDir(dataDir);
  const { body } = await client.request<AuditEntryView[]>('GET', `/api/v1/audit?limit=${limit}`);
  if (json) io.out(JSON.stringify(body, null, 2));
  else for (const e of body) io.out(formatAuditEntry(e));
  return 0;
}

interface RotationProgress {
  running: boolean;
  keyId: string;
  phase: string | null;
  done: number;
  total: number;
}

/** ms between progress polls while a rotation runs. */
const POLL_MS = 200;
const BAR_WIDTH = 30;

function bar(p: RotationProgress): string {
  const ratio = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
  const filled = Math.round(ratio * BAR_WIDTH);
  // total counts every sealed value (notification texts and device names), not notifications.
  const phase = p.phase && p.phase !== 'done' ? ` · re-encrypting ${p.phase}` : '';
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${String(Math.round(ratio * 100)).padStart(3)}%  ${p.done}/${count(p.total, 'stored value')}${phase}`;
}

/**
 * `beep keys rotate`: starts (or joins) a rotation in the running daemon and draws its
 * progress until done. Interrupting the command (or the daemon) loses nothing: run it again.
 */
export async function keysRotateCommand(dataDir: string, io: Io & { progress?: (line: string) => void }): Promise<number> {
  const client = AdminClient.fromDataDir(dataDir);
  const { status, body: first } = await client.request<RotationProgress>('POST', '/api/v1/keys/rotate');
  if (first.phase === 'activating') {
    // A cluster node: the key joined the shared ring; nothing is re-sealed (see README, "Several PCs, one set of phones").
    io.out(`data key ${first.keyId} added to the cluster's ring: every node seals with it within a few minutes; older keys are kept`);
    return 0;
  }
  io.out(status === 202 ? `rotating to data key ${first.keyId}` : `joining the rotation to data key ${first.keyId} already under way`);
  const draw = io.progress ?? ((line: string) => io.err(line));
  let p = first;
  let lastLine = '';
  while (p.running) {
    const line = bar(p);
    if (line !== lastLine) draw(line);
    lastLine = line;
    await new Promise((r) => setTimeout(r, POLL_MS));
    p = (await client.request<RotationProgress>('GET', '/api/v1/keys/rotation')).body;
  }
  draw(bar({ ...p, done: Math.max(p.done, first.total), total: Math.max(p.done, first.total), phase: 'done' }));
  io.out(`every value is now encrypted under data key ${p.keyId}; older keys were deleted`);
  return 0;
}

/**
 * `beep admin password set`: reads the password from stdin (first line, so it never sits in
 * argv or shell history) and has the daemon check, hash (bcrypt 12) and store it.
 */
export async function adminPasswordSetCommand(dataDir: string, totp: boolean, readStdin: () => Promise<string>, io: Io): Promise<number> {
  const client = AdminClient.fromDataDir(dataDir);
  const password = (await readStdin()).replace(/\r?\n$/, '');
  const { body } = await client.request<{ ok: true; totpUrl?: string }>('PUT', '/api/v1/admin/password', { password, totp });
  io.out('dashboard password set');
  if (body.totpUrl) io.out(`add this to your authenticator app: ${body.totpUrl}`);
  return 0;
}
