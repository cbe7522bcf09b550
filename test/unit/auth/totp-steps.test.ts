import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { base32Encode, matchTotpStep, totpAt, totpStepAt } from '../../../app/auth/totp';
import { FileTotpSteps } from '../../../app/auth/totp-steps';

// TOTP steps are single use: the matched step is reported, each step is claimed once (and never
// an older one after it), across a reload of the file; a new secret starts afresh.

const secret = Buffer.from('12345678901234567890');
const b32 = base32Encode(secret);

test('matchTotpStep reports the step of the code within now ± one step', () => {
  const now = 1_111_111_109_000;
  const step = totpStepAt(now);
  expect(matchTotpStep(b32, totpAt(secret, now), now)).toBe(step);
  expect(matchTotpStep(b32, totpAt(secret, now - 30_000), now)).toBe(step - 1);
  expect(matchTotpStep(b32, totpAt(secret, now + 30_000), now)).toBe(step + 1);
  expect(matchTotpStep(b32, totpAt(secret, now - 90_000), now)).toBeNull();
  expect(matchTotpStep(b32, 'abcdef', now)).toBeNull();
});

test('a step is claimed once, an older one never after it, and the file keeps it across a reload', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beep-totp-'));
  const file = path.join(dir, 'totp-step.json');
  const steps = new FileTotpSteps(file);
  expect(steps.claim(b32, 100)).toBe(true);
  expect(steps.claim(b32, 100)).toBe(false);
  expect(steps.claim(b32, 99)).toBe(false);
  expect(steps.claim(b32, 101)).toBe(true);
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  expect(fs.readFileSync(file, 'utf8')).not.toContain(b32);

  const reloaded = new FileTotpSteps(file); // a restart
  expect(reloaded.claim(b32, 101)).toBe(false);
  expect(reloaded.claim('JBSWY3DPEHPK3PXP', 5)).toBe(true); // a new secret starts afresh
  fs.rmSync(dir, { recursive: true, force: true });
});
