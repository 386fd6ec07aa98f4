// Ports for app processes: on the host network, taken from a range and checked free before use; on
// a network of their own, one fixed port for every process (each has an address of its own).
import net from 'node:net';

export interface PortAllocator {
  /** A port no other process listens on and no live allocation holds. */
  allocate(): Promise<number>;
  release(port: number): void;
  /** Marks ports of adopted containers as taken. */
  reserve(port: number): void;
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => { resolve(false); });
    // Apps on the host network often bind every interface: the port must be free on all of them.
    srv.listen({ port, host: '0.0.0.0', exclusive: true }, () => srv.close(() => { resolve(true); }));
  });
}

export function createPortAllocator(range: { min: number; max: number }): PortAllocator {
  const taken = new Set<number>();
  let next = range.min + Math.floor(Math.random() * (range.max - range.min + 1));
  return {
    async allocate() {
      const size = range.max - range.min + 1;
      for (let i = 0; i < size; i++) {
        const port = range.min + ((next - range.min + i) % size);
        if (taken.has(port)) continue;
        if (await isFree(port)) {
          taken.add(port);
          next = port + 1;
          return port;
        }
      }
      throw new Error(`no free port in ${range.min}-${range.max}`);
    },
    release(port) {
      taken.delete(port);
    },
    reserve(port) {
      taken.add(port);
    },
  };
}

/** The port every web process gets on a network of its own (Heroku's and most tools' default). */
export const ISOLATED_WEB_PORT = 5000;

/** Isolated mode: every process listens on the same port, at an address of its own. */
export function fixedPorts(port: number = ISOLATED_WEB_PORT): PortAllocator {
  return {
    allocate: () => Promise.resolve(port),
    release: () => undefined,
    reserve: () => undefined,
  };
}
