import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The admin API requests of docs/federation.md, read from the doc itself so the walk-through
 * cannot drift from what the e2e test proves. Each request is a `# step: <name>` line followed
 * by one curl command (continued over lines while a single quote is open or a line ends in `\`):
 *
 *   curl -s "${auth[@]}" -X PUT $API/v1/tenants/acme/plugins/github -d '{"plugin":"remote-mcp",…}'
 *
 * `${platform[@]}` is a platform admin, `${auth[@]}` and `${bare[@]}` a tenant admin; no `-X` is GET.
 */

export const FEDERATION_DOC = path.resolve(__dirname, '../../../../docs/federation.md');

export type DocCaller = 'platform' | 'tenant-admin';

export interface DocRequest {
  step: string;
  caller: DocCaller;
  method: string;
  /** The path after `$API`, as written. */
  path: string;
  body: unknown;
}

const STEP_LINE = /^# step: ([a-z0-9-]+)\s*$/;
const CALLERS: Record<string, DocCaller> = { platform: 'platform', auth: 'tenant-admin', bare: 'tenant-admin' };

/** Every step of the doc, in order. Throws on a step whose command does not parse: the doc is broken. */
export function readDocRequests(file = FEDERATION_DOC): DocRequest[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const requests: DocRequest[] = [];
  for (let i = 0; i < lines.length; i++) {
    const step = STEP_LINE.exec(lines[i]!)?.[1];
    if (!step) continue;
    let command = '';
    for (let j = i + 1; j < lines.length; j++) {
      command += (command ? '\n' : '') + lines[j]!.replace(/\\$/, '');
      const quotes = (command.match(/'/g) ?? []).length;
      if (quotes % 2 === 0 && !lines[j]!.endsWith('\\')) break;
    }
    requests.push(parseCurl(step, command));
  }
  return requests;
}

function parseCurl(step: string, command: string): DocRequest {
  const caller = /"\$\{(\w+)\[@\]\}"/.exec(command)?.[1];
  const route = /\$API(\/\S*)/.exec(command)?.[1];
  if (!command.startsWith('curl ') || !caller || !CALLERS[caller] || !route) throw new Error(`docs/federation.md step ${step}: not a curl command of the doc's form: ${command}`);
  const method = /-X (\w+)/.exec(command)?.[1] ?? 'GET';
  const data = /-d '([^']*)'/.exec(command)?.[1];
  let body: unknown;
  try {
    body = data === undefined ? undefined : JSON.parse(data);
  } catch (error) {
    throw new Error(`docs/federation.md step ${step}: its body is not JSON (${String(error)})`);
  }
  return { step, caller: CALLERS[caller], method, path: route.replace(/["']$/, ''), body };
}

/** `value` with every string equal to a key of `replacements` replaced (the doc's example URLs by the test's loopback ones). */
export function substitute(value: unknown, replacements: Record<string, string>): unknown {
  if (typeof value === 'string') return replacements[value] ?? value;
  if (Array.isArray(value)) return value.map((item) => substitute(item, replacements));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substitute(item, replacements)]));
  return value;
}
