import { installationNameProblem, MAX_NAMESPACED_NAME_LENGTH, splitNamespacedTool, TOOL_NAME_PATTERN } from '@switchboard/plugin-runtime';
import { z } from 'zod';

/** Tools one virtual server may list: far above any curated set, low enough to keep its row small. */
export const MAX_VIRTUAL_SERVER_TOOLS = 200;
export const MAX_VIRTUAL_SERVER_DESCRIPTION = 1000;
export const MAX_TOOL_DESCRIPTION_OVERRIDE = 4000;

const exposedName = z
  .string()
  .max(MAX_NAMESPACED_NAME_LENGTH, `must be at most ${MAX_NAMESPACED_NAME_LENGTH} characters`)
  .regex(TOOL_NAME_PATTERN, 'not a tool name (letters, digits, _ and -)');

/**
 * One tool of the server: `source` is the tool on the tenant-wide URL (`{installation}__{tool}`),
 * `name` what clients of the virtual server call it (default: the tool's own name, without the
 * installation), `description` what they read (default: the tool's).
 */
export const virtualToolSchema = z
  .object({
    source: z.string().refine((name) => splitNamespacedTool(name) !== undefined, 'not a namespaced tool name: `{installation}__{tool}`, like github__search'),
    name: exposedName.optional(),
    description: z.string().min(1).max(MAX_TOOL_DESCRIPTION_OVERRIDE).optional(),
  })
  .strict();

/**
 * Only listed tools are on a server: a tool an installation gains later (an upstream lists a new
 * one) never appears on a curated server unasked, and "hidden" is simply "not listed".
 */
const toolsSchema = z
  .array(virtualToolSchema)
  .max(MAX_VIRTUAL_SERVER_TOOLS)
  .superRefine((tools, ctx) => {
    const names = new Map<string, number>();
    const sources = new Map<string, number>();
    tools.forEach((tool, index) => {
      const exposed = exposedNameOf(tool);
      const taken = names.get(exposed);
      if (taken !== undefined) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `"${exposed}" is already the name of tools.${taken}; names are unique within a server` });
      else names.set(exposed, index);
      const listed = sources.get(tool.source);
      if (listed !== undefined) ctx.addIssue({ code: 'custom', path: [index, 'source'], message: `already listed as tools.${listed}` });
      else sources.set(tool.source, index);
    });
  });

const serverFields = {
  description: z.string().max(MAX_VIRTUAL_SERVER_DESCRIPTION).optional(),
  tools: toolsSchema,
};

/** Replaces the server named in the URL whole. */
export const putVirtualServerSchema = z.object(serverFields).strict();

/** Creates a server; `name` follows the installation-name rule (kebab case, at most 40). */
export const createVirtualServerSchema = z
  .object({
    name: z.string().superRefine((name, ctx) => {
      const problem = installationNameProblem(name);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
    ...serverFields,
  })
  .strict();

export const virtualServerViewSchema = z.object({
  /** Unique per tenant; the URL `/t/{tenant}/v/{name}/mcp` (and `/sse`). */
  name: z.string(),
  description: z.string(),
  tools: z.array(z.object({ source: z.string(), name: z.string(), description: z.string().optional() })),
  /** Its URLs on the gateway (PUBLIC_GATEWAY_URL): Streamable HTTP and the older SSE. */
  urls: z.object({ sse: z.string(), streamableHttp: z.string() }),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

export type VirtualToolInput = z.output<typeof virtualToolSchema>;
export type CreateVirtualServerInput = z.output<typeof createVirtualServerSchema>;
export type PutVirtualServerInput = z.output<typeof putVirtualServerSchema>;
export type VirtualServerView = z.output<typeof virtualServerViewSchema>;

/** The name clients see: the one given, or the source tool's own name. */
export function exposedNameOf(tool: { source: string; name?: string | undefined }): string {
  return tool.name ?? splitNamespacedTool(tool.source)?.tool ?? tool.source;
}
