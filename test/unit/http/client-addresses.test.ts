import { ClientAddresses } from '../../../app/http/client-addresses';

// The PROXY front's address book: one entry per live connection, found by any socket of that
// connection (same peer address and port), and gone when the connection closes.

const raw = (port: number) => ({ remoteAddress: '10.0.0.5', remotePort: port });

test('a connection’s client address is found by any socket with its peer address and port, and only by those', () => {
  const book = new ClientAddresses();
  book.record(raw(40001), '198.51.100.1');
  book.record(raw(40002), '2001:db8::7');
  expect(book.clientOf({ remoteAddress: '10.0.0.5', remotePort: 40001 })).toBe('198.51.100.1');
  expect(book.clientOf(raw(40002))).toBe('2001:db8::7');
  expect(book.clientOf(raw(40003))).toBeUndefined();
  expect(book.clientOf({ remoteAddress: '10.0.0.6', remotePort: 40001 })).toBeUndefined();
  expect(book.clientOf({})).toBeUndefined(); // a socket already closed reports no peer
});

test('the book is emptied as the connections close: it holds no more than the live connections', () => {
  const book = new ClientAddresses();
  const forgets = Array.from({ length: 100 }, (_, i) => book.record(raw(41000 + i), `198.51.100.${i}`));
  expect(book.size).toBe(100);
  forgets.slice(0, 60).forEach((forget) => forget());
  expect(book.size).toBe(40);
  expect(book.clientOf(raw(41000))).toBeUndefined();
  expect(book.clientOf(raw(41099))).toBe('198.51.100.99');
  forgets.forEach((forget) => forget()); // a second close is harmless
  expect(book.size).toBe(0);
});

test('a late close of an old connection does not remove a newer connection that reuses its peer port', () => {
  const book = new ClientAddresses();
  const forgetOld = book.record(raw(42000), '198.51.100.1');
  const forgetNew = book.record(raw(42000), '198.51.100.2');
  forgetOld();
  expect(book.clientOf(raw(42000))).toBe('198.51.100.2');
  forgetNew();
  expect(book.size).toBe(0);
});

test('a socket without a peer (closed before it was read) records nothing', () => {
  const book = new ClientAddresses();
  book.record({ remoteAddress: undefined, remotePort: undefined }, '198.51.100.1')();
  expect(book.size).toBe(0);
});
