// What an app's Dockerfile may build from: read with a real Dockerfile parser before anything is
// built, so `FROM solum/<another-app>:1` or `COPY --from=<another app's DU>` (whose files are that
// tenant's source) and `ADD <url>` (fetched by the Docker daemon on the host's own network) are
// refused with the line and the reason. Images are allowed by the operator's patterns, and the
// app's own DUs; build stages of the same file are always fine.
import { DockerfileParser, type Instruction } from 'dockerfile-ast';

export interface ImageRule {
  /** Image patterns the operator allows (`*` matches within the reference, e.g. `solum/lp-*:*`). */
  readonly allowed: readonly string[];
  /** The app being built: its own DUs (`solum/<app>:*`) are always allowed. */
  readonly app: string;
}

export interface ImageUse {
  readonly line: number;
  readonly instruction: string;
  /** The reference as it will be used (build args resolved from their defaults). */
  readonly image: string;
}

export interface DockerfileCheck {
  /** Why the file is refused, one entry a line; empty when it is not. */
  readonly refusals: readonly string[];
  /** Every image the file names (for the caller's label check: who owns it). */
  readonly images: readonly ImageUse[];
}

const globRe = (g: string): RegExp => new RegExp(`^${g.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);

/** `name` with `:latest` when it names no tag or digest. Pure. */
export function normalizeImage(ref: string): string {
  const lastSlash = ref.lastIndexOf('/');
  return ref.includes('@') || ref.slice(lastSlash + 1).includes(':') ? ref : `${ref}:latest`;
}

/** Whether a reference is one the rule allows by name (IDs and digests never are by name). Pure. */
export function imageAllowed(rule: ImageRule, ref: string): boolean {
  const image = normalizeImage(ref);
  if (/^(sha256:)?[0-9a-f]{12,64}$/.test(ref) || image.includes('@')) return false;
  if (image.startsWith(`solum/${rule.app}:`)) return true;
  return rule.allowed.some((p) => globRe(normalizeImage(p)).test(image));
}

/** `$X` / `${X}` / `${X:-default}` replaced from `vars`; undefined when one is not known. Pure. */
function substitute(text: string, vars: ReadonlyMap<string, string>): string | undefined {
  const state = { unknown: false };
  const out = text.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_m, braced: string | undefined, fallback: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? '';
    const v = vars.get(name) ?? fallback;
    if (v === undefined || v === '') state.unknown = true;
    return v ?? '';
  });
  return state.unknown ? undefined : out;
}

const flagValue = (i: Instruction, name: string): string | undefined => {
  const flags = 'getFlags' in i && typeof i.getFlags === 'function' ? (i.getFlags as () => Array<{ getName(): string; getValue(): string | null }>)() : [];
  return flags.find((f) => f.getName().toLowerCase() === name)?.getValue() ?? undefined;
};

/** Checks a Dockerfile against the rule; `buildArgs` are the values Solum passes to the build. Pure. */
export function checkDockerfile(text: string, rule: ImageRule, buildArgs: Readonly<Record<string, string>> = {}): DockerfileCheck {
  const file = DockerfileParser.parse(text);
  const refusals: string[] = [];
  const images: ImageUse[] = [];
  const vars = new Map<string, string>(Object.entries(buildArgs));
  const stages: string[] = [];
  let stageCount = 0;
  const use = (line: number, instruction: string, raw: string, what: string): void => {
    const image = substitute(raw, vars);
    if (image === undefined) {
      refusals.push(`Dockerfile line ${line}: ${what} ${raw} names an image through a build argument with no value Solum can see: name the image itself`);
      return;
    }
    if (image === 'scratch' || stages.includes(image.toLowerCase())) return;
    if (/^\d+$/.test(image) && instruction !== 'FROM') {
      if (Number(image) >= stageCount) refusals.push(`Dockerfile line ${line}: ${what} ${image} is not an earlier stage`);
      return;
    }
    images.push({ line, instruction, image });
    if (!imageAllowed(rule, image)) {
      refusals.push(`Dockerfile line ${line}: ${what} ${image} is not an image this app may build from (allowed: ${[...rule.allowed, `solum/${rule.app}:*`].join(', ')})`);
    }
  };
  for (const i of file.getInstructions()) {
    const keyword = i.getKeyword().toUpperCase();
    const line = i.getRange().start.line + 1;
    if (keyword === 'ARG') {
      for (const arg of i.getArguments()) {
        const [name, ...value] = arg.getValue().split('=');
        if (name && value.length > 0 && !vars.has(name)) vars.set(name, value.join('='));
      }
    } else if (keyword === 'FROM') {
      const [image, as, stage] = i.getArguments().map((a) => a.getValue());
      if (image) use(line, 'FROM', image, 'FROM');
      if (as?.toLowerCase() === 'as' && stage) stages.push(stage.toLowerCase());
      stageCount++;
    } else if (keyword === 'COPY' || keyword === 'ADD') {
      const from = flagValue(i, 'from');
      if (from) use(line, keyword, from, `${keyword} --from=`);
      if (keyword === 'ADD' && i.getArguments().some((a) => /^[a-z][a-z0-9+.-]*:\/\//i.test(a.getValue()) || a.getValue().startsWith('git@'))) {
        refusals.push(`Dockerfile line ${line}: ADD of a URL is fetched by the Docker daemon on the host's network: download it in a RUN step instead`);
      }
    } else if (keyword === 'RUN') {
      const mount = flagValue(i, 'mount');
      const from = mount ? /(?:^|,)from=([^,]+)/.exec(mount)?.[1] : undefined;
      if (from) use(line, 'RUN', from, 'RUN --mount from=');
    } else if (keyword === 'ONBUILD') {
      refusals.push(`Dockerfile line ${line}: ONBUILD instructions are not built by Solum`);
    }
  }
  if (stageCount === 0) refusals.push('Dockerfile: no FROM line');
  return { refusals, images };
}
