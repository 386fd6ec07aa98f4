// What a DU will ask of its deploys, merged from solum.yaml, app.json and the Procfile's `release:`
// line: solum.yaml wins where both files say something, and every setting names the file it came
// from, so the push can say so. Pure.
import type { DuManifest, HealthCheckSpec } from '../../containers/du-labels.js';
import type { AppManifest } from './app-manifest.js';
import { defaultCronId, type AppJsonCheck, type ParsedAppJson } from './app-json.js';

export interface DeploySettings {
  /** What the DU's manifest label carries. */
  readonly manifest: DuManifest;
  /** Config vars app.json requires that have neither a value nor a generator: the app must set them. */
  readonly required: readonly string[];
  /** One line per setting and where it came from (empty when only solum.yaml's old keys are used). */
  readonly sources: readonly string[];
}

const checkOf = (c: AppJsonCheck, type: string, i: number): HealthCheckSpec => ({
  name: c.name ?? `${type} check ${i + 1}`,
  ...(c.path !== undefined ? { path: c.path } : {}),
  ...(c.content !== undefined ? { content: c.content } : {}),
  ...(c.port !== undefined ? { port: c.port } : {}),
  headers: c.httpHeaders,
  ...(c.command !== undefined ? { command: c.command } : {}),
  ...(c.uptime !== undefined ? { uptime: c.uptime } : {}),
  ...(c.listening !== undefined ? { listening: c.listening } : {}),
  attempts: c.attempts,
  timeout: c.timeout,
  wait: c.wait,
  initialDelay: c.initialDelay,
  warn: c.warn,
});

const short = (command: string): string => (command.length > 60 ? `${command.slice(0, 57)}...` : command);

export function deploySettings(yaml: AppManifest, appJson: ParsedAppJson | undefined, releaseCommand: string | undefined): DeploySettings {
  const a = appJson?.appJson;
  const sources: string[] = [];
  const manifest: { -readonly [K in keyof DuManifest]: DuManifest[K] } = { ...yaml, env: { ...yaml.env } };

  // Release phase: Dokku's predeploy first, then the Procfile's release: (Dokku's order).
  const releasePhase = [
    ...(a?.scripts?.dokku?.predeploy ? [{ command: a.scripts.dokku.predeploy, source: 'app.json scripts.dokku.predeploy' }] : []),
    ...(releaseCommand ? [{ command: releaseCommand, source: 'Procfile release' }] : []),
  ];
  if (releasePhase.length > 0) {
    manifest.releasePhase = releasePhase;
    for (const r of releasePhase) sources.push(`release phase: ${r.source} (${short(r.command)})`);
  }
  const postdeploy = [
    ...(a?.scripts?.dokku?.postdeploy ? [{ command: a.scripts.dokku.postdeploy, source: 'app.json scripts.dokku.postdeploy', once: false }] : []),
    ...(a?.scripts?.postdeploy ? [{ command: a.scripts.postdeploy, source: 'app.json scripts.postdeploy', once: true }] : []),
  ];
  if (postdeploy.length > 0) {
    manifest.postdeploy = postdeploy;
    for (const p of postdeploy) sources.push(`postdeploy: ${p.source} (${short(p.command)}${p.once ? ', after the first release only' : ''})`);
  }

  const checks: Record<string, HealthCheckSpec[]> = {};
  for (const [type, list] of Object.entries(a?.healthchecks ?? {})) {
    if (type === 'web' && yaml.healthcheck) {
      sources.push('healthchecks.web: solum.yaml healthcheck (wins over app.json healthchecks.web)');
      continue;
    }
    const startup = list.flatMap((c, i) => (c.type === 'startup' ? [checkOf(c, type, i)] : []));
    if (startup.length === 0) continue;
    checks[type] = startup;
    sources.push(`healthchecks.${type}: app.json (${startup.map((c) => c.name).join(', ')})`);
  }
  if (Object.keys(checks).length > 0) manifest.healthchecks = checks;
  if (yaml.healthcheck && !a?.healthchecks?.web && appJson) sources.push('healthchecks.web: solum.yaml healthcheck');

  if (a?.formation && Object.keys(a.formation).length > 0) {
    manifest.formation = Object.fromEntries(Object.entries(a.formation).map(([t, f]) => [t, f.quantity]));
    sources.push(`formation: app.json (${Object.entries(manifest.formation).map(([t, n]) => `${t}=${n}`).join(' ')}; the app's first release starts with it)`);
  }
  if (a?.cron && a.cron.length > 0) {
    manifest.cron = a.cron.map((c) => ({ id: c.id ?? defaultCronId(c.schedule, c.command), schedule: c.schedule.trim(), command: c.command }));
    sources.push(`cron: app.json (${manifest.cron.map((c) => `${c.id} "${c.schedule}"`).join(', ')})`);
  }

  const required: string[] = [];
  const generate: string[] = [];
  const fromAppJson: string[] = [];
  const overridden: string[] = [];
  for (const [key, entry] of Object.entries(a?.env ?? {})) {
    if (key in yaml.env) {
      overridden.push(key);
      continue;
    }
    const value = typeof entry === 'string' ? entry : entry.value;
    if (value !== undefined) {
      manifest.env[key] = value;
      fromAppJson.push(key);
    } else if (typeof entry === 'object' && entry.generator === 'secret') {
      generate.push(key);
      fromAppJson.push(`${key} (generated secret)`);
    } else if (typeof entry === 'object' && entry.required !== false) {
      // Heroku's rule: a variable without a value is required unless it says otherwise.
      required.push(key);
      fromAppJson.push(`${key} (required)`);
    }
  }
  if (generate.length > 0) manifest.generate = generate;
  if (fromAppJson.length > 0) sources.push(`env: app.json ${fromAppJson.join(', ')}`);
  if (overridden.length > 0) sources.push(`env: solum.yaml ${overridden.join(', ')} (wins over app.json)`);
  if (appJson && appJson.ignored.length > 0) sources.push(`ignored in app.json: ${appJson.ignored.join(', ')}`);
  return { manifest, required, sources };
}
