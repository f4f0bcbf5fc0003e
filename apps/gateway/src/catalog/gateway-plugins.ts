import type { Logger } from '@switchboard/logger';
import { outboundNetwork, type OutboundNetwork } from '@switchboard/plugin-net';
import { tracedFetch, type Tracing } from '@switchboard/tracing';
import { startPlugins, type PluginCatalog, type RunningPlugins } from '@switchboard/plugin-runtime';
import type { PluginLogger } from '@switchboard/plugin-sdk';

/**
 * Sets up this gateway's plugins with what the platform gives them: outbound HTTP under the
 * operator's SSRF policy (OUTBOUND_ALLOW_CIDRS) and a logger tagged with the plugin. The caller
 * closes the result at shutdown, after the last call. With tracing on, a fetch made inside a
 * traced call carries its `traceparent` to the upstream (remote-mcp, http).
 */
export function startGatewayPlugins(catalog: PluginCatalog, outbound: { allowCidrs: readonly string[] }, logger: Logger, tracing: Tracing): Promise<RunningPlugins> {
  return startPlugins(catalog, {
    outbound: traced(outboundNetwork({ allow: outbound.allowCidrs }), tracing),
    loggerFor: (plugin) => taggedLogger(logger, plugin),
  });
}

function traced(network: OutboundNetwork, tracing: Tracing): OutboundNetwork {
  if (!tracing.enabled) return network;
  return Object.freeze({
    policy: network.policy,
    createFetch: (options?: { maxRedirects?: number }) => {
      const handle = network.createFetch(options);
      return { fetch: tracedFetch(tracing, handle.fetch), close: () => handle.close() };
    },
  });
}

function taggedLogger(logger: Logger, plugin: string): PluginLogger {
  return {
    debug: (message, data) => logger.debug({ plugin, ...data }, message),
    info: (message, data) => logger.info({ plugin, ...data }, message),
    warn: (message, data) => logger.warn({ plugin, ...data }, message),
    error: (message, data) => logger.error({ plugin, ...data }, message),
  };
}
