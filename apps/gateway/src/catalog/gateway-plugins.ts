import type { Logger } from '@switchboard/logger';
import { outboundNetwork } from '@switchboard/plugin-net';
import { startPlugins, type PluginCatalog, type RunningPlugins } from '@switchboard/plugin-runtime';
import type { PluginLogger } from '@switchboard/plugin-sdk';

/**
 * Sets up this gateway's plugins with what the platform gives them: outbound HTTP under the
 * operator's SSRF policy (OUTBOUND_ALLOW_CIDRS) and a logger tagged with the plugin. The caller
 * closes the result at shutdown, after the last call.
 */
export function startGatewayPlugins(catalog: PluginCatalog, outbound: { allowCidrs: readonly string[] }, logger: Logger): Promise<RunningPlugins> {
  return startPlugins(catalog, {
    outbound: outboundNetwork({ allow: outbound.allowCidrs }),
    loggerFor: (plugin) => taggedLogger(logger, plugin),
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
