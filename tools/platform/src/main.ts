// `npm start`: the admin API and the gateway in one process, on their two ports.
// One process is what makes the embedded defaults work: PGlite is a single-connection
// database per directory, and the in-process control bus only reaches code in this process.
// Production runs the apps separately (`npm run start:api`, `npm run start:gateway`).
import { startApi } from '@switchboard/api-app';
import { startGateway } from '@switchboard/gateway-app';

interface Running {
  url: string;
  /** Prometheus page on the app's own metrics port; undefined when turned off. */
  metricsUrl: string | undefined;
  close(): Promise<void>;
}

async function main(): Promise<void> {
  // The API runs migrations and creates the embedded secrets first; the gateway then reads them.
  const api: Running = await startApi();
  let gateway: Running;
  try {
    gateway = await startGateway();
  } catch (error) {
    await api.close();
    throw error;
  }

  process.stdout.write(
    [
      '',
      'Switchboard is running',
      `  Admin API  ${api.url}/v1   (OpenAPI ${api.url}/openapi.json, Swagger UI ${api.url}/docs)`,
      `  Gateway    ${gateway.url}   (tenant MCP URLs: ${gateway.url}/t/<tenant>/mcp and /t/<tenant>/sse)`,
      `  Metrics    ${[gateway.metricsUrl && `gateway ${gateway.metricsUrl}`, api.metricsUrl && `API ${api.metricsUrl}`].filter(Boolean).join(', ') || 'off'}`,
      '',
    ].join('\n') + '\n',
  );

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal} received, shutting down\n`);
    // Gateway first: it drains in-flight tool calls, which may still need the database.
    await gateway.close().catch((error) => process.stderr.write(`gateway shutdown: ${String(error)}\n`));
    await api.close().catch((error) => process.stderr.write(`api shutdown: ${String(error)}\n`));
    process.exit(0);
  };
  process.once('SIGTERM', (signal) => void stop(signal));
  process.once('SIGINT', (signal) => void stop(signal));
}

main().catch((error: unknown) => {
  process.stderr.write(`Switchboard failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
