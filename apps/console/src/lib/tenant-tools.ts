import type { TenantTool } from '../api/types';

// The tools the console offers as checkboxes (a key's allowlist, a virtual server's tools): every
// tool the admin API knows for the tenant (GET /v1/tenants/{t}/tools), declared or listed by a
// gateway. Tools no gateway has listed yet are still typed by name.

/** A tool offered as a checkbox, under the name the gateway gives it (`installation__tool`). */
export interface KnownTool {
  source: string;
  /** What the checkbox's hint says: the tool's description, and for a listed tool when it was seen. */
  about: string;
  origin: TenantTool['origin'];
}

/** Formats the moment a list was recorded; the page passes the browser's locale, specs a fixed one. */
export type FormatTime = (iso: string) => string;
const localTime: FormatTime = (iso) => new Date(iso).toLocaleString();

export function knownToolsOf(items: readonly TenantTool[], formatTime: FormatTime = localTime): KnownTool[] {
  return items.map((tool) => {
    const text = tool.title && tool.description ? `${tool.title}: ${tool.description}` : (tool.title ?? tool.description ?? '');
    const seen = tool.origin === 'listed' ? `Listed by ${tool.installation}${tool.listedAt ? `, seen ${formatTime(tool.listedAt)}` : ''}.` : '';
    return { source: tool.name, about: [text, seen].filter(Boolean).join(' · '), origin: tool.origin };
  });
}

/** Whether any installation's tools came from a gateway's listing, for the hint above the checkboxes. */
export function hasListedTools(tools: readonly KnownTool[]): boolean {
  return tools.some((tool) => tool.origin === 'listed');
}
