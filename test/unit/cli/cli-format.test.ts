import type { WireNotification } from '../../../app/domain/notification';
import { formatNotification } from '../../../app/cli/listen-format';
import { localTime } from '../../../app/cli/text';
import { formatAuditEntry } from '../../../app/cli/audit-format';

// `beep listen`'s readable lines: local time (not UTC ISO), the topic and the click URL shown.

const base: WireNotification = {
  id: 'n1', title: 'Backup finished', body: '42 GB\nin 3 min', priority: 4, app: 'restic', tags: ['backup'],
  url: 'https://example.lan/report', topic: 'backups', source: 'http', createdAt: '2026-11-29T13:03:22.000Z',
} as WireNotification;

test('today is shown as a local clock time, another day with its date', () => {
  const now = new Date('2026-11-29T20:00:00.000Z');
  const at = new Date(base.createdAt);
  expect(localTime(base.createdAt, now)).toBe(at.toLocaleTimeString(undefined, { hour12: false }));
  expect(localTime('2026-11-20T13:03:22.000Z', now)).toMatch(/Nov 20 \d\d:\d\d/);
  expect(localTime(base.createdAt, now)).not.toContain('T13:03');
});

test('the line carries priority, app, title, tags and topic; the link and the body follow', () => {
  const lines = formatNotification(base, new Date('2026-11-29T20:00:00.000Z')).split('\n');
  expect(lines[0]).toMatch(/ high {4}restic: Backup finished \[backup\] #backups$/);
  expect(lines[1]).toBe('    → https://example.lan/report');
  expect(lines.slice(2)).toEqual(['    42 GB', '    in 3 min']);
});

test('an attachment follows the body: a stored file with its size and its link on the gateway, a link as given', () => {
  const now = new Date('2026-11-29T20:00:00.000Z');
  const stored = { ...base, body: '', attachment: { name: 'flower.png', type: 'image/png', size: 309402, expires: 1, url: '/file/abc?exp=1&sig=x' } };
  expect(formatNotification(stored, now, 'https://pc.lan:2337').split('\n')[2]).toBe('    📎 flower.png (309402 bytes) https://pc.lan:2337/file/abc?exp=1&sig=x');
  const linked = { ...base, body: '', attachment: { name: 'r.pdf', url: 'https://example.com/r.pdf' } };
  expect(formatNotification(linked, now).split('\n')[2]).toBe('    📎 r.pdf https://example.com/r.pdf');
});

test('an audit entry is a short line and its details key=value pairs, never one long JSON blob', () => {
  const now = new Date('2026-11-29T20:00:00.000Z');
  const text = formatAuditEntry(
    { seq: 412, at: '2026-11-29T13:03:22.000Z', event: 'api_token_refused', actor: 'ip:192.168.1.7', details: { count: 12, reason: 'unknown_or_revoked', note: 'x'.repeat(2000) } },
    now,
  );
  const [head, details] = text.split('\n');
  expect(head).toMatch(/^ {3}412 {2}\S.* api_token_refused +ip:192\.168\.1\.7 {2}×12$/);
  expect(details).toMatch(/^ {8}reason=unknown_or_revoked note=x+…$/);
  expect(text.split('\n').every((line) => line.length <= 130)).toBe(true);
});

test('action buttons follow the body, one line each, control characters removed', () => {
  const lines = formatNotification(
    {
      ...base,
      actions: [
        { id: 'a1', action: 'view', label: 'Open portal', url: 'https://home.nest.com/', clear: true },
        { id: 'a2', action: 'http', label: 'Close\u001b[2J door', url: 'https://garage.lan/close', clear: false, method: 'PUT' },
      ],
    },
    new Date('2026-11-29T20:00:00.000Z'),
  ).split('\n');
  expect(lines.slice(4)).toEqual(['    [Open portal] → https://home.nest.com/ (then clears)', '    [Close [2J door] PUT https://garage.lan/close (sent by the PC)']);
});
