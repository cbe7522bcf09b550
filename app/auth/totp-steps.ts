import crypto from 'node:crypto';
import { readIfExists, writeSecretFile } from '../util/secure-file';

// One login per TOTP step (RFC 6238 §5.2): a code seen over a shoulder or replayed from a
// captured request is refused once it (or a later one) was used. The last used step is kept
// in a small file, written before the login is answered, so a restart within a code's window
// does not accept it again. Claims are synchronous: two concurrent logins cannot both win.

/** What the dashboard login needs: the claim of a step for a secret. */
export interface TotpSteps {
  /** True when `step` is later than the last one used with `secret`; it is then the last one (on Redis in cluster mode: a promise). */
  claim(secret: string, step: number): boolean | Promise<boolean>;
}

interface LastUsed {
  /** Which secret (a hash of it): a new secret starts afresh. */
  secret: string;
  step: number;
}

function fingerprint(secret: string): string {
  return crypto.createHash('sha256').update(`beep-totp-step:${secret}`).digest('hex').slice(0, 32);
}

/**
 * The last used step in `file` (mode 0600, replaced atomically).
 *
 *   const steps = new FileTotpSteps(path.join(dataDir, 'totp-step.json'));
 *   if (step === null || !steps.claim(secret, step)) refuse();
 */
export class FileTotpSteps implements TotpSteps {
  private last: LastUsed | null | undefined; // undefined: not read yet

  constructor(private readonly file: string) {}

  claim(secret: string, step: number): boolean {
    const id = fingerprint(secret);
    const last = this.read();
    if (last && last.secret === id && step <= last.step) return false;
    this.last = { secret: id, step }; // first in memory: a failed write still refuses a replay until restart
    writeSecretFile(this.file, `${JSON.stringify(this.last)}\n`);
    return true;
  }

  private read(): LastUsed | null {
    if (this.last !== undefined) return this.last;
    let parsed: LastUsed | null = null;
    try {
      const value = JSON.parse(readIfExists(this.file) ?? 'null') as Partial<LastUsed> | null;
      if (value && typeof value.secret === 'string' && Number.isSafeInteger(value.step)) parsed = value as LastUsed;
    } catch {
      // A torn or foreign file: no step known. writeSecretFile renames whole files, so only a hand edit gets here.
    }
    this.last = parsed;
    return parsed;
  }
}
