// The hook script written into each app repo: it starts the hook program with this Node binary.
import { fileURLToPath } from 'node:url';

const shellQuote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

export function hookScript(nodePath: string = process.execPath): string {
  const program = fileURLToPath(new URL('./hook-program.js', import.meta.url));
  return `#!/bin/sh\n# Installed by Solum: hands the push to the Solum server and relays the build.\nexec ${shellQuote(nodePath)} ${shellQuote(program)} pre-receive\n`;
}
