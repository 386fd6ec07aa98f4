// Process entry: config → createSolum → start; SIGTERM/SIGINT → graceful stop.
// `main.js worker` (what `solum worker` runs) starts a build worker instead of a server.
import { createSolum, createSolumWorker } from './app.js';
import { loadConfig } from './config.js';
import { createLogger } from './logger.js';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  // Whatever Solum starts without an environment of its own (the git helper process) inherits this
  // process's environment: nothing in it may point git at another repository or object store.
  for (const key of Object.keys(process.env)) if (key.startsWith('GIT_')) Reflect.deleteProperty(process.env, key);
  const logger = createLogger(config.logLevel);
  if (process.argv[2] === 'worker') {
    const worker = await createSolumWorker(config, logger);
    const { workerId } = await worker.start();
    process.stderr.write(`Solum worker ${workerId} is running (${config.buildConcurrency} build slots, server ${config.serverUrl ?? 'on this disk'})\n`);
    onSignals(logger, () => worker.stop());
    return;
  }
  const solum = await createSolum(config, logger);
  const { httpPort, sshPort, routerPort } = await solum.start();
  const host = config.publicHost;
  process.stderr.write(
    [
      '',
      `Solum is running (data in ${config.dataDir})`,
      `  git over SSH:   ssh://git@${host}:${sshPort}/<app>.git`,
      `  git over HTTP:  http://${host}:${httpPort}/<app>.git   (any user name, API token as password)`,
      `  API:            http://${host}:${httpPort}/v1   (dashboard: http://${host}:${httpPort}/)`,
      `  deployed apps:  http://<app>.${config.router.domain}:${routerPort}/`,
      `  admin token:    ${config.dataDir}/admin-token`,
      '',
      '',
    ].join('\n'),
  );
  onSignals(logger, () => solum.stop());
}

/** SIGTERM/SIGINT stop gracefully; a second signal exits at once. */
function onSignals(logger: ReturnType<typeof createLogger>, stopAll: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'stopping');
    stopAll().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => { stop('SIGTERM'); });
  process.on('SIGINT', () => { stop('SIGINT'); });
}

main().catch((err: unknown) => {
  process.stderr.write(`solum: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
