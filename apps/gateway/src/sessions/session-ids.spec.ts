import { newSessionId, ownerOfSessionId, validNodeId } from './session-ids';

describe('session ids that name their node', () => {
  it('names the node that made the id, and nothing for a plain uuid', () => {
    const id = newSessionId('gw-1.eu');
    expect(ownerOfSessionId(id)).toBe('gw-1.eu');
    expect(ownerOfSessionId('0b5e1f4e-5d7c-4f3a-9d61-3d0d9c7e2a11')).toBeUndefined();
  });

  it('does not let a crafted id name a channel outside the node-id alphabet', () => {
    expect(ownerOfSessionId('0b5e1f4e-5d7c-4f3a-9d61-3d0d9c7e2a11.gw:*')).toBeUndefined();
    expect(ownerOfSessionId('0b5e1f4e-5d7c-4f3a-9d61-3d0d9c7e2a11.')).toBeUndefined();
    expect(validNodeId('x'.repeat(65))).toBeUndefined();
    expect(validNodeId(['gw-1'])).toBeUndefined();
  });
});
