// What the deployer asks of the router: route a deploy target's host to its live web processes. Entries are keyed by the target's key; its name is only
// the host it answers to. The router itself is HAProxy, run by src/edge/edge-router.ts (decision 0017).

/** Where a web process listens, as the host reaches it, and the release it runs (for metrics). */
export interface Backend {
  readonly host: string;
  readonly port: number;
  readonly release?: number;
}

/** What the router knows of a target: the key it is routed by and the name its host starts with. */
export interface RoutedTarget {
  readonly key: string;
  readonly name: string;
}

export interface Router {
  /** Starts listening; resolves the HTTP port. */
  start(): Promise<number>;
  stop(): Promise<void>;
  /** Replaces a target's backends at once; resolves once new requests go only to these. */
  setBackends(target: RoutedTarget, backends: readonly Backend[]): Promise<void>;
  /**
   * Sends `share` percent of the target's new sessions to a canary's web processes, each session
   * kept on the release it got (decision 0019); null takes the canary out (its sessions go live).
   */
  setCanary(target: RoutedTarget, canary: { readonly version: number; readonly share: number; readonly backends: readonly Backend[] } | null): Promise<void>;
  /** The target keys the router holds entries for (routed now or not). */
  keys(): string[];
  /** Drops a target's entry altogether (a torn-down preview): its host answers nothing, its backend goes. */
  forget(targetKey: string): Promise<void>;
  /** The URL a target's name is served at (https once its host has a certificate). */
  url(name: string): string;
  /** Where the router listens, as a base URL reachable from this host. */
  address(): string;
  /** The TLS port, once listening; null when the router serves no HTTPS. */
  httpsPort(): number | null;
}
