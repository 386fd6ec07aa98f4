// A poll loop's pause that another part of the process can cut short (work arrived).
export interface WakeableSleep {
  /** Resolves after `ms`, or at once when woken meanwhile. */
  sleep(ms: number): Promise<void>;
  /** Ends the current sleep, if any. */
  wake(): void;
}

export function createWakeableSleep(): WakeableSleep {
  let wake: (() => void) | undefined;
  return {
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        wake = () => {
          clearTimeout(t);
          wake = undefined;
          resolve();
        };
      }),
    wake: () => wake?.(),
  };
}
