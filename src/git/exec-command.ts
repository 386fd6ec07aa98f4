// Parses the command an SSH client asks to exec; strict: only git's own quoting of one app path.
import { AppError } from '../errors.js';
import { parseRepoPath, type AppName } from '../names.js';

export type GitService = 'receive-pack' | 'upload-pack';

export interface GitExec {
  readonly service: GitService;
  readonly app: AppName;
}

const EXEC = /^git[- ](receive-pack|upload-pack) '([^'\\!]{1,300})'$/;

export function parseGitExec(command: string): GitExec {
  const m = EXEC.exec(command);
  if (!m) {
    throw new AppError(
      'invalid_command',
      `unknown command ${JSON.stringify(command.slice(0, 100))}: this server only speaks git (git-receive-pack / git-upload-pack '<app>.git')`,
    );
  }
  return { service: m[1] as GitService, app: parseRepoPath(m[2] ?? '') };
}

/** Whether an exec command line asks for a one-off session (`run APP -- CMD`), however well formed. Pure. */
export const isRunExec = (command: string): boolean => /^run(?:[ \t]|$)/.test(command);

/**
 * `run APP -- COMMAND` (or Dokku's `run APP COMMAND`): the app and the command line after it, kept
 * as typed (it runs through /bin/sh in the container, as Heroku's does). Undefined when malformed. Pure.
 */
export function parseRunExec(command: string): { app: string; command: string } | undefined {
  // eslint-disable-next-line no-control-regex
  if (command.length > 8192 || /[\u0000]/.test(command)) return undefined;
  const m = /^run[ \t]+([^\s]+)[ \t]+(?:--(?:[ \t]+|$))?([\s\S]*)$/.exec(command);
  const rest = m?.[2]?.trim();
  if (!m?.[1] || !rest) return undefined;
  return { app: m[1], command: rest };
}
