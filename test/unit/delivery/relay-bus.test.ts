import { LocalRelayBus } from '../../../app/delivery/relay-bus';
import { stored } from './fakes';

describe('LocalRelayBus', () => {
  it('calls every listener at once, in subscription order, with only the events it handles', async () => {
    const heard: string[] = [];
    const bus = new LocalRelayBus();
    bus.subscribe({ accepted: (n) => heard.push(`a:${n.id}`), tokenRevoked: (t) => heard.push(`a:token ${t}`) });
    const remove = bus.subscribe({ accepted: (n) => heard.push(`b:${n.id}`), deviceRevoked: (d) => heard.push(`b:device ${d}`) });
    const published = bus.accepted(stored(1));
    expect(heard).toEqual(['a:n1', 'b:n1']); // synchronously, before the promise settles
    await published;
    await bus.deviceRevoked('d1');
    await bus.tokenRevoked(7);
    await bus.dismissed({ id: 'n1', seq: 1, dismissalSeq: 1, byDevice: null });
    remove();
    await bus.accepted(stored(2));
    expect(heard).toEqual(['a:n1', 'b:n1', 'b:device d1', 'a:token 7', 'a:n2']);
  });

  it('a listener that throws is reported and the others still hear the event', async () => {
    const errors: string[] = [];
    const bus = new LocalRelayBus((error, event) => errors.push(`${event}: ${(error as Error).message}`));
    const heard: string[] = [];
    bus.subscribe({ dismissed: () => { throw new Error('boom'); } });
    bus.subscribe({ dismissed: (d) => heard.push(d.id) });
    await expect(bus.dismissed({ id: 'x', seq: 1, dismissalSeq: 1, byDevice: 'd' })).resolves.toBeUndefined();
    expect(heard).toEqual(['x']);
    expect(errors).toEqual(['dismissed: boom']);
  });
});
