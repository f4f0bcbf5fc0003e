import type { GatewayMetrics } from '@switchboard/metrics';
import type { HostedServerEvents } from '../hosted/hosted-server-pool';

/** Hosted MCP servers' lifecycle (start-up time, crashes, reaping, refusals) as Prometheus series. */
export function hostedServerMetrics(metrics: GatewayMetrics): HostedServerEvents {
  return {
    started(template, mode, startupMs) {
      metrics.hostedServerStarts.inc({ template, mode });
      metrics.hostedServerStartDuration.observe({ template }, startupMs / 1000);
    },
    crashed(template) {
      metrics.hostedServerCrashes.inc({ template });
    },
    reaped(template) {
      metrics.hostedServerReaps.inc({ template });
    },
    refused(template, limit) {
      metrics.hostedServerRefusals.inc({ template, limit });
    },
  };
}
