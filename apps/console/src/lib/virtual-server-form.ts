import type { VirtualServer } from '../api/types';

// The virtual server form as data: which tools are chosen (ticked from the catalog, or typed for
// a federated upstream whose tools the API cannot list), under which names, and the body the
// admin API takes (POST/PUT …/virtual-servers, apps/api/src/virtual-servers/*.schemas.ts).

/** The gateway's namespace separator: `{installation}__{tool}`. */
const SEPARATOR = '__';

/** One chosen tool. `key` names the row while it is edited (a typed source can change). */
export interface ToolRow {
  key: string;
  /** `installation__tool`. */
  source: string;
  /** What clients call it; empty: the tool's own name. */
  name: string;
  /** Empty: the tool's own description. */
  description: string;
  /** Typed, not ticked: a tool the catalog does not declare. */
  typed: boolean;
}

export interface ServerDraft {
  name: string;
  description: string;
  tools: ToolRow[];
}

export interface ServerBody {
  name?: string;
  description: string;
  tools: { source: string; name?: string; description?: string }[];
}

/** Errors of one row, by its field. */
export type RowErrors = Partial<Record<'source' | 'name' | 'description', string>>;

let nextKey = 0;
const newKey = () => `row-${++nextKey}`;

/** The name a tool gets when none is given, as the API gives it: the part after the installation. */
export function defaultToolName(source: string): string {
  const at = source.indexOf(SEPARATOR);
  return at > 0 ? source.slice(at + SEPARATOR.length) : source;
}

/** The form for a new server, or filled from a stored one; a stored source the catalog does not declare is a typed row. */
export function draftOf(server: VirtualServer | undefined, known: ReadonlySet<string>): ServerDraft {
  if (!server) return { name: '', description: '', tools: [] };
  return {
    name: server.name,
    description: server.description,
    tools: server.tools.map((tool) => ({
      key: newKey(),
      source: tool.source,
      // Stored names are always written out; the default one shows as empty, so the placeholder tells.
      name: tool.name === defaultToolName(tool.source) ? '' : tool.name,
      description: tool.description ?? '',
      typed: !known.has(tool.source),
    })),
  };
}

/** Ticks or unticks a catalog tool: a ticked one joins the end of the list, as it will on the server. */
export function toggleTool(draft: ServerDraft, source: string, on: boolean): ServerDraft {
  const listed = draft.tools.some((row) => !row.typed && row.source === source);
  if (on === listed) return draft;
  return {
    ...draft,
    tools: on ? [...draft.tools, { key: newKey(), source, name: '', description: '', typed: false }] : draft.tools.filter((row) => row.typed || row.source !== source),
  };
}

export function addTypedTool(draft: ServerDraft): ServerDraft {
  return { ...draft, tools: [...draft.tools, { key: newKey(), source: '', name: '', description: '', typed: true }] };
}

export function updateTool(draft: ServerDraft, key: string, change: Partial<Pick<ToolRow, 'source' | 'name' | 'description'>>): ServerDraft {
  return { ...draft, tools: draft.tools.map((row) => (row.key === key ? { ...row, ...change } : row)) };
}

export function removeTool(draft: ServerDraft, key: string): ServerDraft {
  return { ...draft, tools: draft.tools.filter((row) => row.key !== key) };
}

/**
 * The API's body, and which row each entry of `tools` came from (its errors name entries by
 * position). A typed row left empty is not sent; empty name and description take the tool's own;
 * the rest goes as typed (trimmed), so the API's message names what is wrong. `name` only on create.
 */
export function toServerBody(draft: ServerDraft, mode: 'create' | 'edit'): { body: ServerBody; sent: string[] } {
  const rows = draft.tools
    .map((row) => ({ ...row, source: row.source.trim(), name: row.name.trim(), description: row.description.trim() }))
    .filter((row) => row.source !== '' || row.name !== '' || row.description !== '');
  return {
    body: {
      ...(mode === 'create' ? { name: draft.name.trim() } : {}),
      description: draft.description.trim(),
      tools: rows.map((row) => ({ source: row.source, ...(row.name ? { name: row.name } : {}), ...(row.description ? { description: row.description } : {}) })),
    },
    sent: rows.map((row) => row.key),
  };
}

/**
 * The API's `tools.<i>.<field>` errors, moved to the row that entry came from; an error about
 * the list as a whole (`tools`, too many) or an entry not sent stays on the list.
 */
export function toolErrors(fieldErrors: Record<string, string>, sent: string[]): { rows: Record<string, RowErrors>; list?: string } {
  const rows: Record<string, RowErrors> = {};
  const list: string[] = [];
  for (const [path, message] of Object.entries(fieldErrors)) {
    if (path !== 'tools' && !path.startsWith('tools.')) continue;
    const [, index, field] = path.split('.');
    const key = index !== undefined ? sent[Number(index)] : undefined;
    if (key !== undefined && (field === 'source' || field === 'name' || field === 'description')) (rows[key] ??= {})[field] ??= message;
    else if (key !== undefined) (rows[key] ??= {}).source ??= message;
    else list.push(message);
  }
  return { rows, ...(list.length > 0 ? { list: list.join('; ') } : {}) };
}
