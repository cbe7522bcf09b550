import { AdminClient } from './admin-client';
import type { Io } from './commands';

// The `beep` commands for the trust features: certificates, encryption keys, the audit log and
// the dashboard password. Each goes through the admin API so the running daemon acts live.

interface CertStatus {
  notAfter: string;
  daysLeft: number;
  subjectAltNames: string[];
  caFingerprint: string;
  serverFingerprint: string;
}

function printCert(status: CertStatus, io: Io): void {
  io.out(`server certificate valid until ${status.notAfter} (${status.daysLeft} days)`);
  io.out(`  names      ${status.subjectAltNames.join(', ')}`);
  io.out(`  server     ${status.serverFingerprint}`);
  io.out(`  CA (pin)   ${status.caFingerprint}`);
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

type Verdict = { ok: true; checked: number } | { ok: false; checked: number; seq: number; problem: string };

/** `beep audit verify`: exit 0 when the chain is whole, 1 naming the first bad entry. */
export async function auditVerifyCommand(dataDir: string, io: Io): Promise<number> {
  const client = AdminClient.fromDataDir(dataDir);
  const { body } = await client.request<Verdict>('GET', '/api/v1/audit/verify');
  if (body.ok) {
    io.out(`audit log intact: ${body.checked} entries verified`);
    return 0;
  }
  io.err(`audit log broken at entry ${body.seq}: ${body.problem} (${body.checked} entries before it verified)`);
  return 1;
}

/** `beep audit list`: the newest entries. */
export async function auditListCommand(dataDir: string, limit: number, json: boolean, io: Io): Promise<number> {
  const client = AdminClient.fromDataDir(dataDir);
  const { body } = await client.request<{ seq: number; at: string; event: string; actor: string; details: unknown }[]>(
    'GET',
    `/api/v1/audit?limit=${limit}`,
  );
  if (json) io.out(JSON.stringify(body, null, 2));
  else for (const e of body) io.out(`${String(e.seq).padStart(6)}  ${e.at}  ${e.event.padEnd(26)} ${e.actor}  ${JSON.stringify(e.details)}`);
  return 0;
}
