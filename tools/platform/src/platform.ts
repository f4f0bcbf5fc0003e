import { startApi, type RunningApi, type StartApiOptions } from '@switchboard/api-app';
import type { Env } from '@switchboard/config';
import { startGateway, type RunningGateway, type StartGatewayOptions } from '@switchboard/gateway-app';
import { createEmbeddedHub } from './embedded-hub';

export interface PlatformOptions {
  api?: Omit<StartApiOptions, 'embedded'>;
  gateway?: Omit<StartGatewayOptions, 'embedded'>;
}

export interface RunningPlatform {
  api: RunningApi;
  gateway: RunningGateway;
  /** Gateway first, then the API, then what they shared; rejects with every failure, after trying all. */
  close(): Promise<void>;
}

/**
 * The composition root of `npm start`: the admin API and the gateway in one process, on their
 * two ports, sharing one EmbeddedHub. `env` is process.env by default (each app reads its own).
 */
export async function startPlatform(env?: Env, options: PlatformOptions = {}): Promise<RunningPlatform> {
  const hub = createEmbeddedHub();
  // The API runs migrations and creates the embedded secrets first; the gateway then reads them.
  let api: RunningApi;
  try {
    api = await startApi(env, { ...options.api, embedded: hub });
  } catch (error) {
    await hub.close();
    throw error;
  }
  let gateway: RunningGateway;
  try {
    gateway = await startGateway(env, { ...options.gateway, embedded: hub });
  } catch (error) {
    await api.close();
    await hub.close();
    throw error;
  }

  let closing: Promise<void> | undefined;
  const close = async () => {
    const failures: string[] = [];
    // Gateway first: it drains in-flight tool calls, which may still need the database and the
    // API's usage sink.
    await gateway.close().catch((error) => failures.push(`gateway shutdown: ${String(error)}`));
    await api.close().catch((error) => failures.push(`api shutdown: ${String(error)}`));
    await hub.close();
    if (failures.length > 0) throw new Error(failures.join('\n'));
  };
  return { api, gateway, close: () => (closing ??= close()) };
}
