// A change of config vars as the API takes it (KEY: "value" sets, KEY: null unsets), for apps and environments alike.
import { z } from 'zod';

export const configChanges = z.record(z.string(), z.string().nullable());

export function splitConfigChanges(changes: z.output<typeof configChanges>): { set: Record<string, string>; unset: string[] } {
  return {
    set: Object.fromEntries(Object.entries(changes).filter((e): e is [string, string] => e[1] !== null)),
    unset: Object.entries(changes).filter(([, v]) => v === null).map(([k]) => k),
  };
}
