// Limits for the containers of a `docker build` that Docker's build API cannot set itself: the
// classic builder takes a cgroup parent, so each build gets a cgroup of its own with a pids limit
// (a fork bomb in a RUN step stops there) made before the build and removed after it.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

export interface BuildCgroup {
  /** The parent to hand to Docker (`cgroupparent`), relative to the cgroup root. */
  readonly parent: string;
  remove(): Promise<void>;
}

const ROOT = '/sys/fs/cgroup';

/** Where the pids controller is: cgroup v1's own hierarchy, or the unified v2 tree. */
async function pidsRoot(): Promise<string | undefined> {
  for (const dir of [path.join(ROOT, 'pids'), ROOT]) {
    try {
      if (dir === ROOT) {
        const controllers = await fs.readFile(path.join(ROOT, 'cgroup.controllers'), 'utf8');
        if (controllers.split(/\s+/).includes('pids')) return ROOT;
      } else {
        await fs.access(path.join(dir, 'cgroup.procs'));
        return dir;
      }
    } catch {
      // not this one
    }
  }
  return undefined;
}

/**
 * A cgroup for one build's containers with at most `pids` tasks. Throws when the host has no pids
 * controller Solum can write to: a Dockerfile build is then refused rather than run unlimited.
 */
export async function createBuildCgroup(pids: number): Promise<BuildCgroup> {
  const root = await pidsRoot();
  if (!root) throw new Error('this host has no writable pids cgroup controller, so a Dockerfile build cannot be limited');
  const name = `solum-build-${randomBytes(6).toString('hex')}`;
  const dir = path.join(root, name);
  await fs.mkdir(dir);
  try {
    await fs.writeFile(path.join(dir, 'pids.max'), String(pids));
  } catch (err) {
    await fs.rmdir(dir).catch(() => undefined);
    throw err;
  }
  return {
    parent: `/${name}`,
    async remove() {
      // Docker removes the containers' cgroups below it once they are gone; that may take a moment.
      for (let i = 0; i < 20; i++) {
        try {
          await fs.rmdir(dir);
          return;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') return;
          for (const child of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
            if (child.isDirectory()) await fs.rmdir(path.join(dir, child.name)).catch(() => undefined);
          }
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    },
  };
}
