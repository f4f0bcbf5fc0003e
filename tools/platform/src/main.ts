// `npm start`: the admin API and the gateway in one process, on their two ports (startPlatform).
// One process is what makes the embedded defaults work: PGlite is a single-connection
// database per directory, and the in-process control bus only reaches code in this process.
// Production runs the apps separately (`npm run start:api`, `npm run start:gateway`).
import { startPlatform } from './platform';

async function main(): Promise<void> {
  const { api, gateway, close } = await startPlatform();

  process.stdout.write(
    [
      '',
      'Switchboard is running',
      `  Console    ${api.url}/console/   (sign in with an admin token)`,
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
    await close().catch((error: Error) => process.stderr.write(`${error.message}\n`));
    process.exit(0);
  };
  process.once('SIGTERM', (signal) => void stop(signal));
  process.once('SIGINT', (signal) => void stop(signal));
}

main().catch((error: unknown) => {
  process.stderr.write(`Switchboard failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
