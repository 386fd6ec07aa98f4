// How a command of a release runs in its container: through /bin/sh after the DU's .profile.d/*.sh
// (what buildpacks and the app put there) and .profile are sourced, as Heroku does before every
// dyno, release-phase and one-off command; and with the environment every process of it gets. Pure.

/**
 * Sources `.profile.d/*.sh` then `.profile` from the working directory (the DU's /app), then execs
 * the command ($1) in a fresh sh, so the command is exactly what the Procfile or app.json says and
 * what the profiles export is in its environment. `exec` keeps signals going to the command itself.
 */
const PROFILE = 'for f in .profile.d/*.sh; do if [ -f "$f" ]; then . "$f"; fi; done; unset f; if [ -f .profile ]; then . ./.profile; fi; exec /bin/sh -c "$1"';

/** The argv of a release's command: the profiles first, then the command. Pure. */
export const processCommand = (command: string): string[] => ['/bin/sh', '-c', PROFILE, 'solum', command];

/** Variables Solum sets itself in every container of a release; config vars may not take them. */
export const RESERVED_ENV: ReadonlySet<string> = new Set(['PORT', 'SOLUM_APP', 'SOLUM_RELEASE', 'SOLUM_PROCESS']);

/**
 * The environment of one container of a release: the DU's defaults (solum.yaml and app.json env),
 * then the release's config vars, then what Solum sets (the app, the release, the process name). Pure.
 */
export function releaseEnv(defaults: Readonly<Record<string, string>>, config: Readonly<Record<string, string>>, o: { target: string; version: number; process: string }): Record<string, string> {
  return { ...defaults, ...config, SOLUM_APP: o.target, SOLUM_RELEASE: `v${o.version}`, SOLUM_PROCESS: o.process };
}
