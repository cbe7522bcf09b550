import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../../app/config/load';
import { certificateNames, publicHostOf } from '../../../app/config/public-url';
import { gatewayUrl } from '../../../app/composition/servers';

// gateway.publicUrl: the URL pairing links carry and a node advertises; its host is the one the
// certificate must name, so a config where it and gateway.publicHost disagree is refused.

function load(config: unknown) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'beep-config-'));
  fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify(config));
  return loadConfig({}, { BEEP_HOME: d });
}

test('absent by default: pairing links keep using publicHost, else the bound host, and the gateway port', () => {
  const config = load({ gateway: { host: '127.0.0.1' } });
  expect(config.gateway.publicUrl).toBeNull();
  expect(gatewayUrl(config, 2337, [])).toBe('https://localhost:2337');
  expect(gatewayUrl(load({ gateway: { publicHost: 'pc.lan' } }), 2337, [])).toBe('https://pc.lan:2337');
});

test('publicUrl is what pairing links carry, whatever port the gateway is bound to, and its host goes into the certificate', () => {
  const config = load({ gateway: { publicUrl: 'https://Beep.Example.lan:8443/' } });
  expect(gatewayUrl(config, 2337, [])).toBe('https://beep.example.lan:8443');
  expect(publicHostOf(config.gateway)).toBe('beep.example.lan');
  expect(certificateNames(publicHostOf(config.gateway))).toEqual({ hostnames: ['beep.example.lan'], addresses: [] });
  const byAddress = load({ gateway: { publicUrl: 'https://192.168.1.20' } });
  expect(gatewayUrl(byAddress, 2337, [])).toBe('https://192.168.1.20');
  expect(certificateNames(publicHostOf(byAddress.gateway))).toEqual({ hostnames: [], addresses: ['192.168.1.20'] });
});

test('publicHost and publicUrl naming the same host are accepted; naming different hosts is refused at start', () => {
  expect(load({ gateway: { publicHost: 'beep.example.lan', publicUrl: 'https://beep.example.lan:8443' } }).gateway.publicUrl).toBe('https://beep.example.lan:8443');
  expect(() => load({ gateway: { publicHost: 'pc.lan', publicUrl: 'https://beep.example.lan:8443' } })).toThrow(/publicHost.*publicUrl.*different hosts/);
});

test('anything but an https origin is refused', () => {
  for (const bad of ['http://beep.example.lan', 'beep.example.lan', 'https://beep.example.lan/beep', 'https://beep.example.lan/?x=1', 'https://u:p@beep.example.lan', 'wss://beep.example.lan']) {
    expect(() => load({ gateway: { publicUrl: bad } })).toThrow(/publicUrl/);
  }
});
