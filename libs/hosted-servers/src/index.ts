// Hosted stdio MCP servers: what the admin API and the gateway share about server templates
// (environment policy, the tenant config schema derived from the declarations, the child's env).
export { ENV_NAME_PATTERN, FORBIDDEN_ENV_CLASSES, envNameProblem } from './env-policy';
export type { ForbiddenEnvClass } from './env-policy';
export {
  SERVER_MODES,
  MODE_FIELD,
  HOME_PLACEHOLDER,
  templateConfigSchema,
  describeServerTemplate,
  modeOf,
  parseEnvDeclarations,
  envDeclarationsSchema,
} from './server-template';
export type { ServerMode, EnvDeclaration, ServerTemplateSpec } from './server-template';
export { childEnvironment, HOSTED_SERVER_PATH } from './child-env';
