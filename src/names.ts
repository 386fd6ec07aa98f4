// Names parsed once at the edge: after this, code takes AppName / UserName and trusts them.
import { AppError } from './errors.js';

declare const appNameBrand: unique symbol;
declare const userNameBrand: unique symbol;
export type AppName = string & { readonly [appNameBrand]: true };
export type UserName = string & { readonly [userNameBrand]: true };

// Lower-case ASCII only: no dots, slashes or look-alike code points can reach a path.
const APP_NAME = /^[a-z][a-z0-9-]{0,62}$/;
const USER_NAME = /^[a-z][a-z0-9_-]{0,38}$/;

export function parseAppName(raw: string): AppName {
  if (!APP_NAME.test(raw) || raw.endsWith('-')) {
    throw new AppError(
      'invalid_app_name',
      `invalid app name ${JSON.stringify(raw.slice(0, 80))}: use 1-63 of a-z, 0-9 and '-', starting with a letter`,
    );
  }
  return raw as AppName;
}

export function parseUserName(raw: string): UserName {
  if (!USER_NAME.test(raw)) {
    throw new AppError('bad_request', `invalid user name ${JSON.stringify(raw.slice(0, 80))}: use 1-39 of a-z, 0-9, '_' and '-', starting with a letter`);
  }
  return raw as UserName;
}

/**
 * The repository part of a git URL path or SSH exec argument: `hello`, `hello.git`, `/hello.git`.
 * Exactly one optional leading slash and one optional `.git` suffix; everything else must be an app name.
 */
export function parseRepoPath(raw: string): AppName {
  let s = raw.startsWith('/') ? raw.slice(1) : raw;
  if (s.endsWith('.git')) s = s.slice(0, -4);
  return parseAppName(s);
}
