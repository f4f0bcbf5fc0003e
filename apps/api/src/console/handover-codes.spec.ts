import { HANDOVER_TTL_MS, HandoverCodes, InMemoryHandoverStore, type HandoverStore } from './handover-codes';

function setup() {
  let now = 1_800_000_000_000;
  const clock = { now: () => now, advance: (ms: number) => void (now += ms) };
  const store = new InMemoryHandoverStore(clock);
  const written: string[] = [];
  const spy: HandoverStore = {
    put: (key, sealed, ttl) => {
      written.push(key, sealed);
      return store.put(key, sealed, ttl);
    },
    take: (key) => store.take(key),
    close: () => store.close(),
  };
  return { clock, codes: new HandoverCodes(spy, clock), written };
}

describe('HandoverCodes', () => {
  it('hands the token over once', async () => {
    const { codes } = setup();
    const code = await codes.issue('the-token');
    expect(await codes.redeem(code)).toBe('the-token');
    expect(await codes.redeem(code)).toBeUndefined();
  });

  it('does not hand it over after 60 seconds', async () => {
    const { codes, clock } = setup();
    const code = await codes.issue('the-token');
    clock.advance(HANDOVER_TTL_MS + 1);
    expect(await codes.redeem(code)).toBeUndefined();
  });

  it('does not hand it over for a guessed or altered code', async () => {
    const { codes } = setup();
    const code = await codes.issue('the-token');
    expect(await codes.redeem(`${code.slice(0, -1)}${code.endsWith('A') ? 'B' : 'A'}`)).toBeUndefined();
    expect(await codes.redeem('guess')).toBeUndefined();
    expect(await codes.redeem(code)).toBe('the-token');
  });

  it('keeps neither the code nor the token in the store', async () => {
    const { codes, written } = setup();
    const code = await codes.issue('the-token');
    expect(written.join(' ')).not.toContain(code);
    expect(written.join(' ')).not.toContain('the-token');
  });
});
