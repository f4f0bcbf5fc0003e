import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Logger } from '@switchboard/logger';
import { childEnvironment, type ServerMode, type ServerTemplateSpec } from '@switchboard/hosted-servers';
import { ChildProcessTransport, type ChildExit } from './child-process-transport';
import type { ProcessGroupTracker } from './orphan-guard';

/** stderr kept per line; longer lines are cut (a server dumping a blob must not flood the log). */
export const MAX_STDERR_LINE_CHARS = 1_000;
/** stderr logged per child in total; after that one "truncated" line, then nothing. */
export const STDERR_LOG_BUDGET_BYTES = 64 * 1024;
/** Secret values shorter than this are not redacted from stderr (they would match everywhere). */
const MIN_REDACTED_SECRET_LENGTH = 4;

const GATEWAY_CLIENT_INFO = { name: 'switchboard-gateway', version: '0.1.0' };

/** One tenant's installation of a server template, as the gateway runs it. */
export interface HostedInstall {
  tenantId: string;
  /** The installation's name (the template's own unless installed under another): its HOME is its own. */
  name: string;
  spec: ServerTemplateSpec;
  /** The tenant's validated values, secrets decrypted. */
  config: Record<string, unknown>;
  mode: ServerMode;
  /** Changes whenever the template or the tenant's values change; older children are retired. */
  fingerprint: string;
  /** The secret values, to keep them out of logs. */
  secretValues: string[];
}

export interface HostedServerOptions {
  home: string;
  logger: Logger;
  startTimeoutMs: number;
  /** A `notifications/*\/list_changed` from the server. */
  onListChanged(): void;
  processGroups?: ProcessGroupTracker;
}

/**
 * One running hosted MCP server: a child process and the SDK Client talking to it. The Client
 * correlates request ids on this one connection, so concurrent calls from different sessions of
 * a shared server each get their own response; progress is routed by progress token per call.
 */
export class HostedServer {
  inFlight = 0;
  lastUsedAt = Date.now();
  /** Set by close(): an exit after it is not a crash. */
  closing = false;
  readonly exited: Promise<ChildExit>;

  private constructor(
    readonly install: HostedInstall,
    readonly client: Client,
    private readonly transport: ChildProcessTransport,
    readonly pid: number,
    readonly startupMs: number,
  ) {
    this.exited = new Promise((resolve) => {
      const previous = transport.onclose;
      transport.onclose = () => {
        previous?.();
        resolve(transport.exit ?? { code: null, signal: null });
      };
    });
  }

  static async start(install: HostedInstall, options: HostedServerOptions): Promise<HostedServer> {
    const { spec } = install;
    const log = options.logger.child({ tenantId: install.tenantId, template: spec.name });
    const stderr = new StderrLog(log, install.secretValues);
    const transport = new ChildProcessTransport({
      command: spec.command,
      args: spec.args,
      env: childEnvironment(spec, install.config, options.home),
      cwd: options.home,
      onStderr: (chunk) => stderr.write(chunk),
      processGroups: options.processGroups,
    });
    const client = new Client(GATEWAY_CLIENT_INFO, { capabilities: {} });
    client.fallbackNotificationHandler = async (notification) => {
      if (notification.method.endsWith('/list_changed')) options.onListChanged();
      else if (notification.method === 'notifications/message') log.debug({ data: notification.params }, 'hosted server log message');
    };
    const startedAt = performance.now();
    try {
      await client.connect(transport, { timeout: options.startTimeoutMs });
    } catch (error) {
      await transport.close();
      throw new Error(`hosted server ${spec.name} did not start: ${(error as Error).message}`, { cause: error });
    }
    const startupMs = performance.now() - startedAt;
    const server = new HostedServer(install, client, transport, transport.pid!, startupMs);
    log.info({ pid: server.pid, mode: install.mode, startupMs: Math.round(startupMs) }, 'hosted server started');
    return server;
  }

  get alive(): boolean {
    return this.transport.exit === undefined;
  }

  /** Runs one request against the server, counting it for idle reaping and shutdown. */
  async use<T>(work: (client: Client) => Promise<T>): Promise<T> {
    this.inFlight++;
    this.lastUsedAt = Date.now();
    try {
      return await work(this.client);
    } finally {
      this.inFlight--;
      this.lastUsedAt = Date.now();
    }
  }

  /** Stops the process group; pending requests are rejected by the SDK Client ("Connection closed"). */
  async close(): Promise<void> {
    this.closing = true;
    await this.transport.close();
  }

  /** For tests and operators: kill the process as a crash would. */
  kill(): void {
    this.transport.killGroup('SIGKILL');
  }
}

/** Line-based, size-limited stderr logging with the tenant's secret values redacted. */
class StderrLog {
  private spent = 0;
  private partial = '';
  private readonly secrets: string[];

  constructor(
    private readonly logger: Logger,
    secrets: string[],
  ) {
    this.secrets = secrets.filter((s) => s.length >= MIN_REDACTED_SECRET_LENGTH);
  }

  write(chunk: Buffer): void {
    if (this.spent > STDERR_LOG_BUDGET_BYTES) return;
    this.spent += chunk.length;
    const lines = (this.partial + chunk.toString('utf8')).split('\n');
    this.partial = (lines.pop() ?? '').slice(0, MAX_STDERR_LINE_CHARS);
    for (const line of lines) if (line.trim()) this.logger.info({ stderr: this.redact(line.slice(0, MAX_STDERR_LINE_CHARS)) }, 'hosted server stderr');
    if (this.spent > STDERR_LOG_BUDGET_BYTES) this.logger.warn({ budgetBytes: STDERR_LOG_BUDGET_BYTES }, 'hosted server stderr truncated');
  }

  private redact(line: string): string {
    return this.secrets.reduce((text, secret) => text.split(secret).join('[secret]'), line);
  }
}
