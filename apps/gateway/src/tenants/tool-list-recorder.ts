import { createHash } from 'node:crypto';
import type { Prisma, PrismaClient } from '@switchboard/db';
import type { Logger } from '@switchboard/logger';

/**
 * Tools recorded per installation at most. The gateway already keeps no more than the plugin
 * runtime's MAX_LISTED_TOOLS; the row is read by the console, so it is bounded here on its own.
 */
export const MAX_RECORDED_TOOLS = 500;
/** Longer titles are cut: the console shows them in one line. */
export const MAX_RECORDED_TITLE_CHARS = 200;
/** Longer descriptions are cut: the console shows a hint, not the whole text clients get. */
export const MAX_RECORDED_DESCRIPTION_CHARS = 500;
/** Hashes remembered per node; past this many installations the memory starts again (a write is then only checked in Postgres). */
export const MAX_REMEMBERED_LISTS = 10_000;

/** One tool as the admin API shows it (`GET /v1/tenants/{t}/tools`): no schemas. */
export interface RecordedTool {
  name: string;
  title?: string;
  description?: string;
}

/** What one load of a tenant's installations listed for one of them. */
export interface InstallationToolList {
  /** The row's id, from the load of this tenant: the write is bound to it and to the tenant. */
  installationId: string;
  /** The row's `updatedAt` when loaded: a list from a configuration replaced since is not written. */
  updatedAt: Date;
  tools: readonly RecordedTool[];
}

/**
 * The tools of an installation beyond the ones its plugin declares (those the API knows from the
 * catalog), capped and cut to the recorded bounds, in listing order.
 */
export function recordedToolsOf(tools: readonly { name: string; title?: string; description?: string }[], declared: readonly { name: string }[]): RecordedTool[] {
  const known = new Set(declared.map((tool) => tool.name));
  return tools
    .filter((tool) => !known.has(tool.name))
    .slice(0, MAX_RECORDED_TOOLS)
    .map((tool) => ({
      name: tool.name,
      ...(tool.title ? { title: cut(tool.title, MAX_RECORDED_TITLE_CHARS) } : {}),
      // A listed tool without a description was given its name as one (withListedTools): not worth storing.
      ...(tool.description && tool.description !== tool.name ? { description: cut(tool.description, MAX_RECORDED_DESCRIPTION_CHARS) } : {}),
    }));
}

/** sha256 of the list as stored: equal lists (same order) have equal hashes. */
export function toolListHash(tools: readonly RecordedTool[]): string {
  return createHash('sha256').update(JSON.stringify(tools.map((t) => [t.name, t.title ?? null, t.description ?? null]))).digest('hex');
}

/**
 * Writes each installation's listed tools to its row when they changed, off the request path:
 * `record` returns at once, a failed write is logged and tried again at the next load. A node
 * remembers what it wrote, and the write is conditioned on the stored hash, so an unchanged list
 * costs no query here and no write on any node.
 */
export class ToolListRecorder {
  /** installation id → `${hash}@${updatedAt}` last written (or found already stored) by this node. */
  private readonly remembered = new Map<string, string>();
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts the writes of the lists that changed; never throws, never rejects. */
  record(tenantId: string, lists: readonly InstallationToolList[]): void {
    for (const list of lists) {
      const hash = toolListHash(list.tools);
      const mark = `${hash}@${list.updatedAt.getTime()}`;
      if (this.remembered.get(list.installationId) === mark) continue;
      if (this.remembered.size >= MAX_REMEMBERED_LISTS) this.remembered.clear();
      this.remembered.set(list.installationId, mark);
      const write = this.write(tenantId, list, hash).catch((error: unknown) => {
        if (this.remembered.get(list.installationId) === mark) this.remembered.delete(list.installationId);
        this.logger.warn({ tenantId, installationId: list.installationId, err: error }, 'listed tools not recorded; tried again at the next load');
      });
      this.pending.add(write);
      void write.finally(() => this.pending.delete(write));
    }
  }

  /** Resolves once every write started so far has ended (shutdown, tests). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private async write(tenantId: string, list: InstallationToolList, hash: string): Promise<void> {
    await this.prisma.pluginInstallation.updateMany({
      // The tenant and id come from the same load; `updatedAt` says the configuration listed is still the stored one.
      where: { id: list.installationId, tenantId, updatedAt: list.updatedAt, OR: [{ listedToolsHash: null }, { listedToolsHash: { not: hash } }] },
      // `updatedAt` given as it was: it tells when an admin changed the installation, not when a node listed it.
      data: { listedTools: list.tools as unknown as Prisma.InputJsonArray, listedToolsHash: hash, listedToolsAt: new Date(this.now()), updatedAt: list.updatedAt },
    });
  }
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
