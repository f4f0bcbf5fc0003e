import type { ControlEvent } from './control-events';
import { InProcessControlBus } from './in-process-control-bus';

const revoked: ControlEvent = { type: 'api-key.revoked', tenantId: 't1', keyId: 'k1' };

describe('InProcessControlBus', () => {
  it('delivers an event to every handler, even after one of them throws', async () => {
    const bus = new InProcessControlBus();
    const heard: ControlEvent[] = [];
    bus.subscribe(() => {
      throw new Error('broken handler');
    });
    bus.subscribe((event) => heard.push(event));
    await bus.publish(revoked);
    expect(heard).toEqual([revoked]);
  });

  it('stops delivering to a handler once it unsubscribed, and to all once closed', async () => {
    const bus = new InProcessControlBus();
    const first = jest.fn();
    const second = jest.fn();
    const off = bus.subscribe(first);
    bus.subscribe(second);
    off();
    await bus.publish(revoked);
    expect(first).not.toHaveBeenCalled();
    expect(second).toHaveBeenCalledTimes(1);
    await bus.close();
    await bus.publish(revoked);
    expect(second).toHaveBeenCalledTimes(1);
  });

  it('keeps buses apart: an event published on one never reaches the handlers of another', async () => {
    const mine = new InProcessControlBus();
    const other = new InProcessControlBus();
    const handler = jest.fn();
    other.subscribe(handler);
    await mine.publish(revoked);
    expect(handler).not.toHaveBeenCalled();
  });
});
