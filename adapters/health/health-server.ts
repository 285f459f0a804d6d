// The runner's HTTP face for orchestration and monitoring, on node:http: /health (the process is alive),
// /ready (200 only while leading, reconciled and every heartbeat is fresh; 503 with the reasons otherwise) and
// /metrics (Prometheus text). It only reads RuntimeMetrics; it never changes what the runner does.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RuntimeMetrics } from './runtime-metrics.ts';

export interface HealthServerOptions {
  metrics: RuntimeMetrics;
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
}

export class HealthServer {
  readonly port: number;
  private readonly server: Server;

  private constructor(server: Server, port: number) {
    this.server = server;
    this.port = port;
  }

  static async start(options: HealthServerOptions): Promise<HealthServer> {
    const { metrics } = options;
    const server = createServer((request, response) => {
      const path = (request.url ?? '/').split('?')[0];
      const send = (status: number, contentType: string, body: string): void => {
        response.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
        response.end(body);
      };
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        send(405, 'application/json', JSON.stringify({ error: `expected GET, found ${request.method}` }));
        return;
      }
      if (path === '/health') {
        send(200, 'application/json', JSON.stringify({ status: 'ok' }));
      } else if (path === '/ready') {
        const readiness = metrics.readiness();
        send(readiness.ready ? 200 : 503, 'application/json', JSON.stringify(readiness));
      } else if (path === '/metrics') {
        metrics.registry.metrics().then(
          (text) => send(200, metrics.registry.contentType, text),
          (error: unknown) => send(500, 'text/plain', `metrics collection failed: ${error instanceof Error ? error.message : String(error)}`),
        );
      } else {
        send(404, 'application/json', JSON.stringify({ error: `expected /health, /ready or /metrics, found ${path}` }));
      }
    });
    // Keep-alive sockets would hold close() open; monitoring scrapes are cheap to reconnect.
    server.keepAliveTimeout = 1_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
    });
    return new HealthServer(server, (server.address() as AddressInfo).port);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
  }
}
