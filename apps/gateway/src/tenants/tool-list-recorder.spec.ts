import type { PrismaClient } from '@switchboard/db';
import type { Logger } from '@switchboard/logger';
import {
  MAX_RECORDED_DESCRIPTION_CHARS,
  MAX_RECORDED_TITLE_CHARS,
  MAX_RECORDED_TOOLS,
  recordedToolsOf,
  toolListHash,
  ToolListRecorder,
  type InstallationToolList,
} from './tool-list-recorder';

describe('recordedToolsOf', () => {
  it('keeps the listed tools beyond the declared ones, in listing order, without a description that is only the name', () => {
    const tools = [
      { name: 'status', description: 'declared' },
      { name: 'search', title: 'Search', description: 'finds issues' },
      { name: 'close', description: 'close' },
    ];
    expect(recordedToolsOf(tools, [{ name: 'status' }])).toEqual([{ name: 'search', title: 'Search', description: 'finds issues' }, { name: 'close' }]);
  });

  it('bounds what a hostile upstream can make the row hold', () => {
    const many = Array.from({ length: MAX_RECORDED_TOOLS + 3 }, (_, i) => ({ name: `t${i}`, title: 'T'.repeat(5_000), description: 'd'.repeat(5_000) }));
    const recorded = recordedToolsOf(many, []);
    expect(recorded).toHaveLength(MAX_RECORDED_TOOLS);
    expect(recorded[0].title).toHaveLength(MAX_RECORDED_TITLE_CHARS);
    expect(recorded[0].description).toHaveLength(MAX_RECORDED_DESCRIPTION_CHARS);
    expect(recorded[0].description?.endsWith('…')).toBe(true);
  });
});

describe('toolListHash', () => {
  it('differs when a name, title, description or the order changes', () => {
    const base = [{ name: 'a', description: 'x' }, { name: 'b' }];
    const hashes = new Set([
      toolListHash(base),
      toolListHash([{ name: 'a', description: 'y' }, { name: 'b' }]),
      toolListHash([{ name: 'a', title: 'x' }, { name: 'b' }]),
      toolListHash([{ name: 'b' }, { name: 'a', description: 'x' }]),
      toolListHash([{ name: 'a', description: 'x' }]),
    ]);
    expect(hashes.size).toBe(5);
    expect(toolListHash([{ name: 'a', description: 'x' }, { name: 'b' }])).toBe(toolListHash(base));
  });
});

describe('ToolListRecorder', () => {
  const updatedAt = new Date('2026-12-01T00:00:00Z');
  const list = (tools: InstallationToolList['tools'], installationId = 'i1'): InstallationToolList => ({ installationId, updatedAt, tools });

  function fakes(fail = false) {
    const calls: { where: Record<string, unknown>; data: Record<string, unknown> }[] = [];
    const prisma = {
      pluginInstallation: {
        updateMany: async (args: { where: Record<string, unknown>; data: Record<string, unknown> }) => {
          calls.push(args);
          if (fail) throw new Error('database away');
          return { count: 1 };
        },
      },
    } as unknown as PrismaClient;
    const warnings: string[] = [];
    const logger = { warn: (_: unknown, message: string) => void warnings.push(message) } as unknown as Logger;
    return { calls, warnings, recorder: new ToolListRecorder(prisma, logger, () => Date.parse('2026-12-02T08:00:00Z')) };
  }

  it('writes a list to its own row of its own tenant, conditioned on the configuration and the stored hash', async () => {
    const { calls, recorder } = fakes();
    recorder.record('tenant-a', [list([{ name: 'search' }])]);
    await recorder.settled();
    const hash = toolListHash([{ name: 'search' }]);
    expect(calls).toEqual([
      {
        where: { id: 'i1', tenantId: 'tenant-a', updatedAt, OR: [{ listedToolsHash: null }, { listedToolsHash: { not: hash } }] },
        data: { listedTools: [{ name: 'search' }], listedToolsHash: hash, listedToolsAt: new Date('2026-12-02T08:00:00Z'), updatedAt },
      },
    ]);
  });

  it('does not write an unchanged list again, and writes a changed one', async () => {
    const { calls, recorder } = fakes();
    recorder.record('t', [list([{ name: 'search' }])]);
    recorder.record('t', [list([{ name: 'search' }])]);
    await recorder.settled();
    expect(calls).toHaveLength(1);
    recorder.record('t', [list([{ name: 'search' }, { name: 'close' }])]);
    await recorder.settled();
    expect(calls).toHaveLength(2);
  });

  it('returns before the write, and logs a failed write instead of rejecting, trying again next time', async () => {
    const { calls, warnings, recorder } = fakes(true);
    expect(recorder.record('t', [list([{ name: 'search' }])])).toBeUndefined();
    await recorder.settled();
    expect(warnings).toEqual(['listed tools not recorded; tried again at the next load']);
    recorder.record('t', [list([{ name: 'search' }])]);
    await recorder.settled();
    expect(calls).toHaveLength(2);
  });
});
