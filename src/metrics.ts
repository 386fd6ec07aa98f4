// Prometheus metrics: one registry per Solum instance (several may share a process in tests).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  push(transport: 'ssh' | 'http', bytes: number): void;
  buildFinished(status: string, seconds: number): void;
  httpRequest(method: string, route: string, status: number, seconds: number): void;
  /** A gauge whose value is read when scraped. */
  gauge(name: string, help: string, read: () => number | Promise<number>): void;
}

export function createMetrics(options: { defaultMetrics: boolean }): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'solum_' });
  const pushes = new Counter({ name: 'solum_pushes_total', help: 'Pushes received, by transport', labelNames: ['transport'], registers: [registry] });
  const bytes = new Counter({ name: 'solum_push_bytes_total', help: 'Bytes received by pushes, by transport', labelNames: ['transport'], registers: [registry] });
  const builds = new Counter({ name: 'solum_builds_total', help: 'Finished builds, by status', labelNames: ['status'], registers: [registry] });
  const duration = new Histogram({
    name: 'solum_build_duration_seconds',
    help: 'Build duration from start to end',
    labelNames: ['status'],
    buckets: [1, 2, 5, 10, 30, 60, 120, 300, 600, 1800],
    registers: [registry],
  });
  const http = new Histogram({
    name: 'solum_http_request_duration_seconds',
    help: 'HTTP request latency, by method, route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return {
    registry,
    push(transport, n) {
      pushes.inc({ transport });
      bytes.inc({ transport }, n);
    },
    buildFinished(status, seconds) {
      builds.inc({ status });
      duration.observe({ status }, seconds);
    },
    httpRequest(method, route, status, seconds) {
      http.observe({ method, route, status: String(status) }, seconds);
    },
    gauge(name, help, read) {
      new Gauge({
        name,
        help,
        registers: [registry],
        async collect() {
          this.set(await read());
        },
      });
    },
  };
}
