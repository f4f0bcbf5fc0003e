import type { OutboundNetwork } from '@switchboard/plugin-net';
import type { TenantStorage } from './tenant-storage';
import { UpstreamAuthorizationError } from './plugin-errors';
import type { ElicitationRequest, ElicitationResult, InputRequest, InputResponses, LogLevel, RootsResult, SamplingRequest, SamplingResult } from './mcp-content';

/** Structured logs to the gateway's own log (never sent to the MCP client; see `log`). */
export interface PluginLogger {
  debug(message: string, data?: Record<string, unknown>): void;
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}

/**
 * What the platform gives a plugin's `setup`, once per gateway before any call: everything the
 * plugin needs from the platform arrives here, never through a global.
 */
export interface PluginSetupContext {
  /** The gateway's own log, tagged with the plugin. */
  logger: PluginLogger;
  /**
   * Outbound HTTP under the platform's SSRF policy (`policy.allow` is the operator's
   * OUTBOUND_ALLOW_CIDRS). A fetch from `createFetch()` is the plugin's: close it in `close()`.
   */
  outbound: OutboundNetwork;
}

/**
 * An OAuth credential the platform holds toward this installation's upstream (remote-mcp with
 * `auth: oauth`; docs/upstream-oauth.md). The plugin never sees the refresh token, the client or
 * the database: only a current access token, bound to the tenant and installation it was given for
 * and, on a per-user installation, to the person of the call (the gateway binds it from the
 * caller's authenticated principal, never from plugin input).
 */
export interface UpstreamCredentials {
  /**
   * Whose credential this is, as an opaque key ("shared", or a hash of the person for a per-user
   * installation). A connection opened with a token of this accessor must be kept apart from
   * connections of other keys: one person's upstream session never carries another's calls.
   */
  readonly connectionKey?: string;
  /**
   * A current access token, refreshed first when it is near expiry. `rejected`: a token the
   * upstream just answered 401 to, refreshed even if not yet expired. Throws
   * UpstreamAuthorizationError (its message says how to reconnect) when there is no usable credential.
   */
  accessToken(options?: { rejected?: string; signal?: AbortSignal }): Promise<string>;
}

/**
 * A per-user installation's person has no usable upstream account yet: they connect it in the
 * browser at `connectUrl` (docs/upstream-oauth.md "Per-user mode"). A plugin lets it propagate
 * from its tool handler: the gateway answers a client that declared URL-mode elicitation with
 * MCP's URLElicitationRequiredError (-32042, 2025-11-25 client/elicitation), any other with this
 * message, which carries the link, as the tool's error.
 */
export class UpstreamConnectRequiredError extends UpstreamAuthorizationError {
  constructor(
    message: string,
    readonly connectUrl: string,
    /** Unique per link (the elicitation's `elicitationId`). */
    readonly elicitationId: string,
  ) {
    super(message);
    this.name = 'UpstreamConnectRequiredError';
  }
}

/** What every handler (tool, resource, prompt, completion) is given about where it runs. */
export interface PluginContext<Config, State = unknown> {
  tenant: { id: string; slug: string };
  /** The tenant's configuration of this plugin: validated by the config schema, secrets decrypted. */
  config: Config;
  logger: PluginLogger;
  /** Aborted when the client cancels the request, the session ends, or the plugin's timeout passes. */
  signal: AbortSignal;
  /**
   * The MCP session of the call. Per-session state (a connection, a child process) is keyed by
   * `id` and released when `closed` aborts.
   */
  session: { id: string; closed: AbortSignal };
  /** Storage bound to this tenant and this plugin (see TenantStorage). */
  storage: TenantStorage;
  /** What the plugin's `setup` returned on this gateway; undefined without `setup`. */
  state: State;
  /** This installation's upstream OAuth credential; absent where the platform offers none (unit tests, other hosts). */
  upstreamCredentials?: UpstreamCredentials;
}

/**
 * What a handler running inside a client request (a tool call, a prompt, a resource read) may ask
 * of that client. Each ask throws ClientCapabilityError when the client did not declare the
 * capability it needs; check `client` first to offer a fallback.
 *
 * How it travels depends on the client's protocol era. On a 2025 session each ask is a request on
 * the session and the handler waits for the answer. On the stateless 2026-07-28 wire the request
 * is answered with an InputRequiredResult instead; the client retries with the answers, possibly
 * on another gateway node, and the handler runs again from the start: every ask it already got an
 * answer to returns that answer at once (kept in the sealed request state), and the next one
 * returns the client's new answers. So a handler must ask before it acts: do side effects after
 * its last ask, and ask the same questions in the same order when given the same arguments.
 */
export interface ClientInput {
  /** What the connected client declared it can do. */
  client: { sampling: boolean; elicitation: boolean; roots: boolean };
  /**
   * Asks several things at once (keys are yours, unique within the call) and resolves with every
   * answer under the same key.
   */
  ask<T extends Record<string, InputRequest>>(requests: T): Promise<InputResponses<T>>;
  /** Asks the client's LLM. */
  sample(request: SamplingRequest): Promise<SamplingResult>;
  /** Asks the user for input. */
  elicit(request: ElicitationRequest): Promise<ElicitationResult>;
  /** Asks for the roots (folders, files) the client exposes. */
  listRoots(): Promise<RootsResult>;
}

/** A prompt's or resource read's context: where it runs, and what it may ask the client. */
export type InteractiveContext<Config, State = unknown> = PluginContext<Config, State> & ClientInput;

/** Extra abilities of a tool call: it runs inside a client request, so it can talk back. */
export interface ToolContext<Config, State = unknown> extends PluginContext<Config, State>, ClientInput {
  /** Sends `notifications/progress` when the client asked for progress; otherwise does nothing. */
  progress(progress: number, total?: number, message?: string): Promise<void>;
  /** Sends `notifications/message` if `level` is at or above the level the session asked for. */
  log(level: LogLevel, data: unknown): Promise<void>;
  /** Tells this session that a resource changed, if it subscribed to that URI. */
  resourceUpdated(uri: string): Promise<void>;
  /**
   * Tells every client of this tenant that can see this plugin (on every gateway node) that one of
   * its lists changed, so they list it again: open sessions and `subscriptions/listen` streams.
   */
  listChanged(list: 'tools' | 'prompts' | 'resources'): Promise<void>;
}

/** What `listTools` is given: the tenant's configuration, before any session uses it. */
export interface ToolListingContext<Config, State = unknown> {
  tenant: { id: string };
  config: Config;
  /** What the plugin's `setup` returned on this gateway; undefined without `setup`. */
  state: State;
  /** Aborted when the gateway stops waiting for the list. */
  signal: AbortSignal;
  /** Tells the gateway this tenant's list changed: its sessions are told to list tools again. */
  listChanged(): void;
  /** This installation's upstream OAuth credential, as on PluginContext. */
  upstreamCredentials?: UpstreamCredentials;
}
