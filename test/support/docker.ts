// Real Docker for assertions: image labels, running a DU, cleaning up what a test made.
import { run } from './solum.js';

export async function imageLabels(image: string): Promise<Record<string, string>> {
  const r = await run('docker', ['image', 'inspect', '-f', '{{json .Config.Labels}}', image]);
  if (r.code !== 0) throw new Error(`no image ${image}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, string>;
}

export async function imageExists(ref: string): Promise<boolean> {
  return (await run('docker', ['image', 'inspect', ref])).code === 0;
}

/** Removes what a test's app left in Docker: its process containers, then its DU images. */
export async function removeAppImages(app: string): Promise<void> {
  const c = await run('docker', ['ps', '-aq', '--filter', `label=io.solum.app=${app}`]);
  const containers = c.stdout.split('\n').filter((l) => l.trim() !== '');
  if (containers.length > 0) await run('docker', ['rm', '-f', ...containers]);
  const r = await run('docker', ['images', '-q', '--filter', `label=io.solum.app=${app}`]);
  const ids = [...new Set(r.stdout.split('\n').filter((l) => l.trim() !== ''))];
  if (ids.length > 0) await run('docker', ['rmi', '-f', ...ids]);
}

/** Containers (running or not) carrying every one of the given labels (`key=value`). */
export async function containersLabelled(...labels: string[]): Promise<string[]> {
  const r = await run('docker', ['ps', '-aq', ...labels.flatMap((l) => ['--filter', `label=${l}`])]);
  return r.stdout.split('\n').filter((l) => l.trim() !== '');
}
