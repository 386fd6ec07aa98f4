// The common start of an end-to-end test: a Solum of its own and a fresh app name, both cleaned up
// when the test ends (Solum stopped, the app's containers and images removed).
import { removeAppImages } from './docker.js';
import { randomName, startSolum, type RunningSolum } from './solum.js';

export async function solumWithApp(
  t: { teardown(fn: () => Promise<void>): void },
  prefix: string,
  options: Parameters<typeof startSolum>[0] = {},
): Promise<{ solum: RunningSolum; app: string }> {
  const solum = await startSolum(options);
  const app = randomName(prefix);
  t.teardown(async () => {
    await solum.stop();
    await removeAppImages(app);
  });
  return { solum, app };
}
