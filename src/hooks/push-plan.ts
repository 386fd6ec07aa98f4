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
