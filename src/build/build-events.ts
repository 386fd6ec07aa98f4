// In-process pub/sub of build output and build ends, for pushes and API followers waiting on a build.
import type { Build } from '../db/build-store.js';

export interface BuildListener {
  onLine(line: string): void;
  onFinished(build: Build): void;
}

export interface BuildEvents {
  subscribe(buildId: number, listener: BuildListener): () => void;
  line(buildId: number, line: string): void;
  finished(build: Build): void;
}

export function createBuildEvents(): BuildEvents {
  const listeners = new Map<number, Set<BuildListener>>();
  return {
    subscribe(buildId, listener) {
      let set = listeners.get(buildId);
      if (!set) listeners.set(buildId, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(buildId);
      };
    },
    line(buildId, line) {
      for (const l of listeners.get(buildId) ?? []) l.onLine(line);
    },
    finished(build) {
      for (const l of [...(listeners.get(build.id) ?? [])]) l.onFinished(build);
    },
  };
}
