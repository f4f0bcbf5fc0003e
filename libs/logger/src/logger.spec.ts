import { Writable } from 'node:stream';
import { createLogger, maskSecrets } from './logger';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({ write(chunk, _enc, done) { lines.push(chunk.toString()); done(); } });
  return { lines, destination };
}

describe('logger', () => {
  it('never writes authorization headers, tokens or secrets', () => {
    const { lines, destination } = capture();
    const log = createLogger({ name: 't', level: 'info', destination });
    log.info({ req: { headers: { authorization: 'Bearer sbk_abc_def' } }, token: 'tok', config: { secrets: { k: 'v' } } }, 'request');
    const out = lines.join('');
    expect(out).not.toContain('sbk_abc_def');
    expect(out).not.toContain('"tok"');
    expect(out).not.toContain('"v"');
    expect(out).toContain('[REDACTED]');
  });

  it('masks key-shaped text inside messages', () => {
    expect(maskSecrets('bad key sbk_AbC123_xyz789 given')).toBe('bad key [REDACTED] given');
    const { lines, destination } = capture();
    createLogger({ name: 't', level: 'info', destination }).warn('rejected sbk_AbC123_xyz789');
    expect(lines.join('')).not.toContain('sbk_AbC123_xyz789');
  });

  it('adds the fields of the current context to every line, redacted like the rest', () => {
    const { lines, destination } = capture();
    let context: Record<string, unknown> = { requestId: 'r-1', tenant: 'acme' };
    const log = createLogger({ name: 't', level: 'info', destination, context: () => context });
    log.info('first');
    context = { requestId: 'r-2', token: 'tok' };
    log.info({ status: 200 }, 'second');
    const [first, second] = lines.map((line) => JSON.parse(line));
    expect(first).toMatchObject({ requestId: 'r-1', tenant: 'acme', msg: 'first' });
    expect(second).toMatchObject({ requestId: 'r-2', status: 200, msg: 'second' });
    expect(lines[1]).not.toContain('"tok"');
  });
});
