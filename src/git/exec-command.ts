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
