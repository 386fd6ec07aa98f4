// An app's pipeline environments, created on first use; a name that would shadow an app or a
// preview (decision 0020) is refused.
import type { App, AppStore } from '../db/app-store.js';
import type { Environment, EnvironmentStore } from '../db/environment-store.js';
import { environmentRouterName } from '../deploy/target.js';
import { conflict } from '../errors.js';
import type { AppName } from '../names.js';

export type EnsureEnvironment = (app: App, name: string) => Promise<Environment>;

export function environmentEnsurer(d: {
  appStore: Pick<AppStore, 'findApp'>;
  environments: Pick<EnvironmentStore, 'find' | 'ensure'>;
  /** Whether a preview routes this router name. */
  previewNamed?: (routerName: string) => Promise<boolean>;
}): EnsureEnvironment {
  return async (app, name) => {
    const existing = await d.environments.find(app.id, name);
    if (existing) return existing;
    // The router tells apps and environments apart by host name: never shadow an app.
    if (await d.appStore.findApp(environmentRouterName(app.name, name) as AppName)) {
      throw conflict(`an app named ${environmentRouterName(app.name, name)} exists: choose another environment name than '${name}'`);
    }
    if (await d.previewNamed?.(environmentRouterName(app.name, name))) {
      throw conflict(`a preview answers to ${environmentRouterName(app.name, name)}: choose another environment name than '${name}'`);
    }
    return d.environments.ensure(app.id, name);
  };
}
