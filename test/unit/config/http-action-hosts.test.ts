import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../../app/config/load';

// compat.ntfy: the hosts an http action button may call, empty by default; names and IP
// addresses only (a scheme or a port would never match and silently allow nothing).

function load(config: unknown) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'beep-config-'));
  fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify(config));
  return loadConfig({}, { BEEP_HOME: d });
}

test('empty by default, with a 10 s timeout and a 64 KiB cap', () => {
  expect(load({}).compat.ntfy).toMatchObject({ httpActionHosts: [], httpActionTimeoutMs: 10_000, httpActionMaxResponseBytes: 65_536 });
});

test('names and addresses are kept (lowercase); a scheme, a port or a path is refused at start', () => {
  const hosts = ['Garage.LAN', '192.168.1.40', '127.0.0.1', '::1', '[fe80::1]', 'home-assistant.local'];
  expect(load({ compat: { ntfy: { httpActionHosts: hosts } } }).compat.ntfy.httpActionHosts).toEqual(['garage.lan', '192.168.1.40', '127.0.0.1', '::1', '[fe80::1]', 'home-assistant.local']);
  for (const bad of ['https://garage.lan', 'garage.lan:8080', 'garage.lan/x', '', 'a b']) {
    expect(() => load({ compat: { ntfy: { httpActionHosts: [bad] } } })).toThrow(/httpActionHosts/);
  }
});
