import { namespacedName, TOOL_NAME_PATTERN, type ToolDescriptor } from '@switchboard/plugin-runtime';
import { credentialModeOf } from '@switchboard/upstream-auth';
import { z } from 'zod';
import type { TenantTool } from './tools.schemas';

/** Tools read per installation and origin at most: the gateway writes no more, a hand-edited row is cut here. */
export const MAX_TOOLS_PER_INSTALLATION = 500;
/** Longer titles and descriptions are cut in the response (the gateway records them shorter). */
export const MAX_TOOL_TEXT_CHARS = 1_000;

/** The installation as read for its tools; `listedTools` and `config` are JSON columns, read defensively. */
export interface InstallationTools {
  name: string;
  config: unknown;
  listedTools: unknown;
  listedToolsAt: Date | null;
}

/** One entry of a tool list (`listedTools`, `declaredTools`); anything else in the entry is ignored. */
const storedToolSchema = z.object({
  name: z.string().regex(TOOL_NAME_PATTERN),
  title: z.string().optional(),
  description: z.string().optional(),
});
type StoredTool = z.output<typeof storedToolSchema>;

/**
 * The tools of one installation as the gateway names them: declared ones first (the plugin's,
 * or a per-user installation's `declaredTools`), then the ones a gateway node listed and that are
 * not declared too. A per-user installation's listed tools are left out: every session sees its
 * declared list, and a row listed before it became per-user is no longer what sessions see.
 */
export function toolsOfInstallation(row: InstallationTools, declared: readonly Pick<ToolDescriptor, 'name' | 'title' | 'description'>[]): TenantTool[] {
  const config = isRecord(row.config) ? row.config : {};
  const perUser = credentialModeOf(config) === 'per-user';
  const own = [...declared, ...(perUser ? entriesOf(config['declaredTools']) : [])];
  const listed = perUser ? [] : entriesOf(row.listedTools);
  const seen = new Set<string>();
  const tools: TenantTool[] = [];
  const add = (tool: StoredTool, origin: TenantTool['origin']) => {
    if (seen.has(tool.name)) return;
    seen.add(tool.name);
    tools.push({
      name: namespacedName(row.name, tool.name),
      installation: row.name,
      tool: tool.name,
      ...(tool.title ? { title: cut(tool.title) } : {}),
      ...(tool.description ? { description: cut(tool.description) } : {}),
      origin,
      ...(origin === 'listed' && row.listedToolsAt ? { listedAt: row.listedToolsAt.toISOString() } : {}),
    });
  };
  for (const tool of own) add(tool, 'declared');
  for (const tool of listed) add(tool, 'listed');
  return tools;
}

/** The well-formed entries of a stored list; a list that is not an array, or an entry that is not a tool, is skipped. */
function entriesOf(value: unknown): StoredTool[] {
  if (!Array.isArray(value)) return [];
  return value
    .slice(0, MAX_TOOLS_PER_INSTALLATION)
    .map((entry) => storedToolSchema.safeParse(entry))
    .flatMap((parsed) => (parsed.success ? [parsed.data] : []));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function cut(text: string): string {
  return text.length > MAX_TOOL_TEXT_CHARS ? `${text.slice(0, MAX_TOOL_TEXT_CHARS - 1)}…` : text;
}
