// The console's one door to the admin API: same origin, bearer token from memory, the API's
// error body ({ error: { code, message, details: { issues: [{ path, message }] } } }) turned
// into an ApiFailure whose field errors the forms show beside their fields.

export interface FieldIssue {
  path: string;
  message: string;
}

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: FieldIssue[] = [],
  ) {
    super(message);
    this.name = 'ApiFailure';
  }

  /** Field errors keyed by dotted path, without `prefix.` (`config.url` → `url` with prefix `config`). */
  fieldErrors(prefix?: string): Record<string, string> {
    const errors: Record<string, string> = {};
    for (const issue of this.issues) {
      const key = prefix ? (issue.path === prefix ? '' : issue.path.replace(new RegExp(`^${prefix}\\.`), '')) : issue.path;
      errors[key] ??= issue.message;
    }
    return errors;
  }

  get notFound(): boolean {
    return this.status === 404;
  }
}

export interface ApiClientOptions {
  token: string;
  /** Called on any 401: the token expired or was never valid. */
  onUnauthorized: (failure: ApiFailure) => void;
  fetch?: typeof fetch;
}

export interface ApiClient {
  get<T>(path: string): Promise<T>;
  send<T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T>;
}

export function createApiClient(options: ApiClientOptions): ApiClient {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await doFetch(path, {
        method,
        // Never cached, never sent with cookies: the token is the only credential.
        cache: 'no-store',
        credentials: 'omit',
        headers: { authorization: `Bearer ${options.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
    } catch {
      throw new ApiFailure(0, 'NETWORK', 'The admin API could not be reached. Check that Switchboard is running.');
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    const json = parseJson(text);
    if (response.ok) return json as T;
    const failure = toFailure(response.status, json);
    if (response.status === 401) options.onUnauthorized(failure);
    throw failure;
  }
  return {
    get: (path) => call('GET', path),
    send: (method, path, body) => call(method, path, body),
  };
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function toFailure(status: number, json: unknown): ApiFailure {
  const error = (json as { error?: { code?: unknown; message?: unknown; details?: { issues?: unknown } } } | undefined)?.error;
  const code = typeof error?.code === 'string' ? error.code : `HTTP_${status}`;
  const message = typeof error?.message === 'string' ? error.message : `The admin API answered ${status}.`;
  const issues = Array.isArray(error?.details?.issues)
    ? (error.details.issues as unknown[]).filter(isIssue)
    : [];
  return new ApiFailure(status, code, message, issues);
}

function isIssue(value: unknown): value is FieldIssue {
  return typeof value === 'object' && value !== null && typeof (value as FieldIssue).path === 'string' && typeof (value as FieldIssue).message === 'string';
}

/** `/v1/tenants/a b` → `/v1/tenants/a%20b`: path segments from user input are always encoded. */
export function apiPath(...segments: string[]): string {
  return `/v1/${segments.map(encodeURIComponent).join('/')}`;
}
