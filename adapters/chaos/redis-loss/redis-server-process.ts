// A redis-server of our own on a free loopback port, for real-mode chaos: start, SIGKILL, restart (empty:
// no persistence), SIGSTOP and SIGCONT. Never touches any other redis-server.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { SimError } from '../../../engine/errors.ts';

const READY_POLLS_MAX = 100;
const READY_POLL_MS = 50;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export class RedisServerProcess {
  private child: ChildProcess | null = null;

  private constructor(readonly port: number) {}

  static async start(): Promise<RedisServerProcess> {
    const server = new RedisServerProcess(await freePort());
    await server.spawn();
    return server;
  }

  private async spawn(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    this.child = child;
    // A spawn that fails (no redis-server on PATH) emits 'error' instead of throwing: without a listener the
    // process would crash with a stack trace.
    const failure = { error: null as SimError | null };
    child.once('error', (error: NodeJS.ErrnoException) => {
      failure.error = error.code === 'ENOENT'
        ? new SimError('REDIS_NOT_FOUND', 'expected redis-server on PATH, found none')
        : new SimError('REDIS_SPAWN_FAILED', `expected redis-server to start, found ${error.message}`);
    });
    const probe = new Redis({ port: this.port, host: '127.0.0.1', lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      for (let poll = 0; poll < READY_POLLS_MAX; poll += 1) {
        if (failure.error !== null) {
          this.child = null;
          throw failure.error;
        }
        try {
          if (probe.status !== 'ready') await probe.connect();
          if ((await probe.ping()) === 'PONG') return;
        } catch {
          probe.disconnect();
          await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
        }
      }
      throw new SimError('REDIS_NOT_READY', `expected redis-server on port ${this.port} to answer PING within ${READY_POLLS_MAX * READY_POLL_MS} ms, found no answer`);
    } finally {
      probe.disconnect();
    }
  }

  /** SIGKILL: the process dies at once; with no persistence, every key is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** A new, empty redis-server on the same port. */
  async restart(): Promise<void> {
    await this.kill();
    await this.spawn();
  }

  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    this.resume();
    await this.kill();
  }
}
