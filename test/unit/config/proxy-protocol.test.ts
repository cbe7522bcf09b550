import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../../app/config/load';
import { balancerList, isBalancer } from '../../../app/http/proxy-front';

// gateway.proxyProtocol: off (no balancers) by default; balancers are IP addresses or CIDR
// ranges, and anything else is refused at start rather than silently matching nothing.

function load(config: unknown) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'beep-config-'));
  fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify(config));
  return loadConfig({}, { BEEP_HOME: d });
}

test('off by default, with a 3 s header deadline', () => {
  expect(load({}).gateway.proxyProtocol).toEqual({ from: [], headerTimeoutMs: 3_000 });
});

test('addresses and CIDR ranges are kept; names, ports and bad prefixes are refused at start', () => {
  const from = ['10.0.0.5', '192.168.1.0/24', '::1', '2001:db8::/48', '0.0.0.0/0'];
  expect(load({ gateway: { proxyProtocol: { from } } }).gateway.proxyProtocol.from).toEqual(from);
  for (const bad of ['lb.example', '10.0.0.5:443', '10.0.0.0/33', '::/129', '10.0.0.0/8/1', '10.0.0.0/', '10.0.0.0/x', '']) {
    expect(() => load({ gateway: { proxyProtocol: { from: [bad] } } })).toThrow(/proxyProtocol/);
  }
});

test('the balancer list matches addresses, ranges, and IPv4 peers against IPv4-mapped entries', () => {
  const list = balancerList(['10.0.0.5', '192.168.1.0/24', '::ffff:172.16.0.9', '2001:db8::/48']);
  const yes = ['10.0.0.5', '192.168.1.200', '172.16.0.9', '2001:db8:0:1::7'];
  const no = ['10.0.0.6', '192.168.2.1', '172.16.0.10', '2001:db9::1', 'unknown'];
  for (const address of yes) expect(isBalancer(list, address)).toBe(true);
  for (const address of no) expect(isBalancer(list, address)).toBe(false);
});
