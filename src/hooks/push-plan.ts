// Decides what a push means: which ref update builds, what is only stored. Pure.
export interface RefUpdate {
  readonly oldSha: string;
  readonly newSha: string;
  readonly ref: string;
}

export interface PushPlan {
  /** The update of the deploy branch to build, when there is one. */
  readonly build: RefUpdate | undefined;
  /** One line per ref stored without a build, saying why. */
  readonly stored: readonly string[];
}

const ZERO = /^0{40}(0{24})?$/;
const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

export function isValidUpdate(u: RefUpdate): boolean {
  return SHA.test(u.oldSha) && SHA.test(u.newSha) && /^refs\/[^\s\\]{1,250}$/.test(u.ref) && !u.ref.includes('..');
}

/**
 * Ref updates the pusher's role does not allow, with the reason: deleting the deploy branch takes
 * the admin role (write lets a collaborator push and force-push, not remove what deploys).
 */
export function refusedUpdates(role: 'read' | 'write' | 'admin', updates: readonly RefUpdate[], deployBranch: string): string[] {
  if (role === 'read') return updates.map((u) => `${u.ref}: your role on this app is read`);
  if (role === 'admin') return [];
  return updates
    .filter((u) => ZERO.test(u.newSha) && u.ref === `refs/heads/${deployBranch}`)
    .map((u) => `${u.ref}: deleting the deploy branch takes the admin role`);
}

export function planPush(updates: readonly RefUpdate[], deployBranch: string): PushPlan {
  const deployRef = `refs/heads/${deployBranch}`;
  let build: RefUpdate | undefined;
  const stored: string[] = [];
  for (const u of updates) {
    if (ZERO.test(u.newSha)) stored.push(`${u.ref}: deleted (deletions never build)`);
    else if (u.ref.startsWith('refs/tags/')) stored.push(`${u.ref}: stored (tags never build)`);
    else if (u.ref === deployRef) build = u;
    else stored.push(`${u.ref}: stored without a build (only ${deployBranch} builds)`);
  }
  return { build, stored };
}
