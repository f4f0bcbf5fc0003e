import { z } from 'zod';

/** One tool of a tenant's installation, under the name the gateway gives it on the tenant-wide URL. */
export const tenantToolSchema = z.object({
  /** `{installation}__{tool}`: what key allowlists and virtual servers name. */
  name: z.string(),
  installation: z.string(),
  /** The tool's own name, as the installation's endpoint (`/t/{tenant}/p/{installation}/mcp`) shows it. */
  tool: z.string(),
  title: z.string().optional(),
  description: z.string().optional(),
  /**
   * `declared`: from the plugin catalog or a per-user installation's `declaredTools`; `listed`:
   * from the last tool list a gateway node built for the installation (an upstream's, a hosted server's).
   */
  origin: z.enum(['declared', 'listed']),
  /** For `listed`: when a gateway node recorded this list (it has not changed since). */
  listedAt: z.iso.datetime().optional(),
});

export type TenantTool = z.output<typeof tenantToolSchema>;
