import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startDaemon, tempDir } from '../helpers/daemon';
import { Phone } from '../helpers/phone';

// `beep backup` while the daemon serves (posts keep committing during the copy), then
// `beep restore` into the stopped daemon's data directory: the restored daemon has exactly
// what the backup held. Damaged files and a foreign key are refused with a clear message.

const MAIN = path.resolve(__dirname, '..', '..', 'dist', 'app', 'main.js');

function beepAsync(dataDir: string, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, '--data-dir', dataDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

async function historyCount(daemon: Awaited<ReturnType<typeof startDaemon>>): Promise<number> {
  return (await daemon.admin('GET', '/api/v1/notifications?limit=500')).body.length;
}

describe('backup and restore', () => {
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  afterAll(async () => {
    await daemon?.stop();
  });

  test('round trip while the daemon serves', async () => {
    daemon = await startDaemon();
    const phone = await Phone.paired(daemon, 'backed-up phone');
    for (let i = 0; i < 100; i++) await daemon.admin('POST', '/api/v1/notifications', { title: `before ${i}`, body: 'secret body text' });

    // Keep writing while the backup runs.
    let writing = true;
    let during = 0;
    const stopAt = Date.now() + 30_000; // never outlive a failed test
    const writer = (async () => {
      while (writing && Date.now() < stopAt) {
        if ((await daemon.admin('POST', '/api/v1/notifications', { title: `during ${during}` })).status === 202) during += 1;
      }
    })();
    const file = path.join(tempDir('beep-backup-'), 'beep.backup');
    const backup = await beepAsync(daemon.dataDir, 'backup', file);
    writing = false;
    await writer;
    expect(backup.stderr).toMatch(/backup +\[#+\] 100%/);
    expect(backup.status).toBe(0);
    const backedUp = Number(/backed up (\d+) notifications and 1 device/.exec(backup.stdout)![1]);
    expect(backedUp).toBeGreaterThanOrEqual(100);
    expect(during).toBeGreaterThan(0);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(daemon.dataDir, 'keys', 'backup.key')).mode & 0o777).toBe(0o600);
    const bytes = fs.readFileSync(file);
    expect(bytes.subarray(0, 8).toString()).toBe('BEEPBAK1');
    expect(bytes.includes(Buffer.from('secret body text'))).toBe(false);
    expect(bytes.includes(Buffer.from('SQLite format 3'))).toBe(false);
    expect(fs.readdirSync(daemon.dataDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    // Posts after the backup are not in it.
    await daemon.admin('POST', '/api/v1/notifications', { title: 'after the backup' });
    const refused = await beepAsync(daemon.dataDir, 'restore', file);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/Beep is running \(pid \d+\).*stop it first/);

    expect(await daemon.stop()).toBe(0);
    const restore = await beepAsync(daemon.dataDir, 'restore', file);
    expect(restore.stderr).toBe('');
    expect(restore.status).toBe(0);
    expect(restore.stdout).toContain(`restored ${backedUp} notifications and 1 device`);
    expect(fs.existsSync(path.join(daemon.dataDir, 'beep.db.before-restore'))).toBe(true);

    daemon = await daemon.restart();
    try {
      expect(await historyCount(daemon)).toBe(backedUp);
      const titles = (await daemon.admin('GET', '/api/v1/notifications?limit=500')).body.map((n: { title: string }) => n.title);
      expect(titles).not.toContain('after the backup');
      expect(titles).toContain('before 0');
      const devices = (await daemon.admin('GET', '/api/v1/devices')).body;
      expect(devices.map((d: { name: string }) => d.name)).toEqual(['backed-up phone']);
      // The restored device still holds valid tokens and receives new notifications.
      await phone.connect(daemon);
      const sent = await daemon.admin('POST', '/api/v1/notifications', { title: 'after restore' });
      await phone.waitFor(() => phone.unique.has(sent.body.id), 10_000, 'delivery after restore');
      phone.disconnect();

      // A damaged backup and a backup from another data directory's key are refused.
      const damaged = path.join(path.dirname(file), 'damaged.backup');
      const copy = Buffer.from(bytes);
      copy[copy.length - 100] ^= 0xff;
      fs.writeFileSync(damaged, copy);
      await daemon.stop();
      const bad = spawnSync(process.execPath, [MAIN, '--data-dir', daemon.dataDir, 'restore', damaged], { encoding: 'utf8' });
      expect(bad.status).toBe(1);
      expect(bad.stderr).toContain('damaged or was altered');
      const elsewhere = spawnSync(process.execPath, [MAIN, '--data-dir', tempDir(), 'restore', file], { encoding: 'utf8' });
      expect(elsewhere.status).toBe(1);
      expect(elsewhere.stderr).toMatch(/made with key [0-9a-f]{16}, not this data directory's key/);
      const notBackup = spawnSync(process.execPath, [MAIN, '--data-dir', daemon.dataDir, 'restore', path.join(daemon.dataDir, 'admin.token')], { encoding: 'utf8' });
      expect(notBackup.stderr).toContain('not a Beep backup file');
    } finally {
      await daemon.stop();
    }
  });
});
