import crypto from 'node:crypto';
import { FieldCipher, newDataKey } from '../../../app/crypto/field-cipher';
import { actionsFromHeader } from '../../../app/compat/ntfy/ntfy-actions';
import { openRow, resealRow, sealRow, type RowSecrets } from '../../../app/store/row-seal';

// Action buttons live inside the row's one seal (an http action's headers often hold a
// credential): never in a column in the clear, kept through a re-seal, and absent from the
// seal of a row without them, so rows sealed before them read unchanged.

const master = crypto.randomBytes(32);
const first = newDataKey(master);
const second = newDataKey(master);

function cipher(current = first): FieldCipher {
  const c = new FieldCipher();
  c.load(master, [first, second], current.id);
  return c;
}

const base: RowSecrets = { title: 't', body: 'b', app: 'a', tags: [], url: null, icon: null };

test('actions are sealed with the rest, read back whole, and kept by a re-seal under a new key', () => {
  const c = cipher();
  const actions = actionsFromHeader('http, Close, https://garage.lan/, method=PUT, headers.Authorization=Bearer s3cret-key, body=close');
  const columns = sealRow(c, 'n1', { ...base, actions });
  expect(JSON.stringify(columns)).not.toContain('s3cret');
  expect(openRow(c, { id: 'n1', ...columns })).toEqual({ ...base, actions });
  const ring = cipher(second);
  const resealed = resealRow(ring, { id: 'n1', ...columns });
  expect(resealed).not.toBeNull();
  expect(ring.keyIdOf(resealed!.sealed!)).toBe(second.id);
  expect(openRow(ring, { id: 'n1', ...resealed! }).actions).toEqual(actions);
});

test('a row without actions seals exactly the fields it sealed before', () => {
  const c = cipher();
  const sealed = sealRow(c, 'n2', base).sealed!;
  expect(Object.keys(JSON.parse(c.open(sealed, 'notifications:n2')))).toEqual(['title', 'body', 'app', 'tags', 'url', 'icon']);
  expect(openRow(c, { id: 'n2', ...sealRow(c, 'n2', base) })).not.toHaveProperty('actions');
});
