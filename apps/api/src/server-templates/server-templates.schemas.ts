import { z } from 'zod';
import { envNameProblem, SERVER_MODES } from '@switchboard/hosted-servers';
import { MAX_PLUGIN_NAME_LENGTH, PLUGIN_NAME_PATTERN } from '@switchboard/plugin-runtime';

export const MAX_TEMPLATE_ARGS = 64;
export const MAX_TEMPLATE_ENV_VARS = 64;

const envName = z.string().superRefine((name, ctx) => {
  const problem = envNameProblem(name);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const envDeclarationSchema = z
  .object({
    name: envName,
    description: z.string().max(500).optional(),
    required: z.boolean().default(false),
    secret: z.boolean().default(false),
    /** Fixed by the platform for every tenant; `{home}` is the installation's private directory. */
    value: z.string().max(4_096).optional(),
  })
  .strict();

const envDeclarations = z
  .array(envDeclarationSchema)
  .max(MAX_TEMPLATE_ENV_VARS)
  .superRefine((declarations, ctx) => {
    const seen = new Set<string>();
    declarations.forEach((d, index) => {
      if (seen.has(d.name)) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `${d.name} is declared twice` });
      seen.add(d.name);
      if (d.value !== undefined && (d.secret || d.required)) {
        ctx.addIssue({ code: 'custom', path: [index, 'value'], message: 'a fixed value is neither secret nor required from tenants' });
      }
    });
  });

const templateFields = {
  description: z.string().max(1_000).default(''),
  /** Absolute path, or a name found on the fixed PATH hosted servers get. */
  command: z.string().min(1).max(500),
  args: z.array(z.string().max(1_000)).max(MAX_TEMPLATE_ARGS).default([]),
  env: envDeclarations.default([]),
  defaultMode: z.enum(SERVER_MODES).default('isolated'),
};

export const createServerTemplateSchema = z
  .object({
    name: z
      .string()
      .max(MAX_PLUGIN_NAME_LENGTH)
      .regex(PLUGIN_NAME_PATTERN, 'lower-case kebab case, like plugin names (it becomes the tool prefix)'),
    /** Only stdio: remote MCP servers are federated with the remote-mcp plugin (docs/decisions.md). */
    kind: z.literal('stdio').default('stdio'),
    ...templateFields,
  })
  .strict();

export const updateServerTemplateSchema = z
  .object({
    description: templateFields.description.unwrap().optional(),
    command: templateFields.command.optional(),
    args: z.array(z.string().max(1_000)).max(MAX_TEMPLATE_ARGS).optional(),
    env: envDeclarations.optional(),
    defaultMode: z.enum(SERVER_MODES).optional(),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, 'send at least one field');

export const serverTemplateViewSchema = z.object({
  name: z.string(),
  kind: z.literal('stdio'),
  description: z.string(),
  command: z.string(),
  args: z.array(z.string()),
  env: z.array(envDeclarationSchema),
  defaultMode: z.enum(SERVER_MODES),
  /** Tenants that installed it. */
  installations: z.number().int(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

export type CreateServerTemplateInput = z.output<typeof createServerTemplateSchema>;
export type UpdateServerTemplateInput = z.output<typeof updateServerTemplateSchema>;
export type ServerTemplateView = z.output<typeof serverTemplateViewSchema>;
