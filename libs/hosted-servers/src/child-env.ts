import { envNameProblem } from './env-policy';
import { HOME_PLACEHOLDER, MODE_FIELD, type ServerTemplateSpec } from './server-template';

/**
 * The only PATH a hosted server gets. Fixed by the platform, never from tenant input; the
 * template's command should be an absolute path (e.g. the node binary) or found here.
 */
export const HOSTED_SERVER_PATH = '/usr/local/bin:/usr/bin:/bin';

/**
 * The complete environment of a hosted server: a minimal base (HOME and TMPDIR in the
 * installation's private directory, the fixed PATH) plus the template's declared variables with
 * the tenant's values. Nothing of the gateway's own environment is inherited.
 */
export function childEnvironment(spec: ServerTemplateSpec, config: Record<string, unknown>, home: string): Record<string, string> {
  const env: Record<string, string> = { HOME: home, TMPDIR: home, PATH: HOSTED_SERVER_PATH, LANG: 'C.UTF-8' };
  for (const declaration of spec.env) {
    // Checked again here: a row written around the API must not smuggle a loader variable in.
    if (envNameProblem(declaration.name) !== undefined) continue;
    const value = declaration.value !== undefined ? declaration.value.split(HOME_PLACEHOLDER).join(home) : config[declaration.name];
    if (typeof value === 'string') env[declaration.name] = value;
  }
  delete env[MODE_FIELD];
  return env;
}
