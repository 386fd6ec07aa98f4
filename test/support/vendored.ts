// A package from this project's own node_modules, with everything it needs, as files for a test
// app's repository: the app loads it by path (`./vendor/node_modules/<name>`), so its build installs
// nothing from the public registry and the test does not depend on that registry answering.
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve('node_modules');

interface Manifest {
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
}

/** Where `name` resolves from `fromDir` the way Node does (nested node_modules first). */
function packageDir(name: string, fromDir: string): string | null {
  for (let dir = fromDir; dir.startsWith(root); dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === root) break;
  }
  const top = path.join(root, name);
  return fs.existsSync(path.join(top, 'package.json')) ? top : null;
}

function addTree(dir: string, into: Record<string, string>): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) addTree(full, into);
    else if (entry.isFile() && !entry.name.endsWith('.map')) into[`vendor/node_modules/${path.relative(root, full)}`] = fs.readFileSync(full, 'utf8');
  }
}

/**
 * The files of `name` and its dependencies (optional ones when installed here), keyed by their path
 * in the app's repository under `vendor/node_modules/`. Throws when `name` is not installed.
 */
export function vendoredPackage(name: string): Record<string, string> {
  const files: Record<string, string> = {};
  const seen = new Set<string>();
  const visit = (pkg: string, fromDir: string, required: boolean): void => {
    const dir = packageDir(pkg, fromDir);
    if (dir === null) {
      if (required) throw new Error(`${pkg} is not installed in ${root}`);
      return;
    }
    if (seen.has(dir)) return;
    seen.add(dir);
    addTree(dir, files);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as Manifest;
    for (const dep of Object.keys(manifest.dependencies ?? {})) visit(dep, dir, true);
    for (const dep of Object.keys(manifest.optionalDependencies ?? {})) visit(dep, dir, false);
  };
  visit(name, root, true);
  return files;
}
