// A redis-server child process on a free loopback port, for tests and chaos drills (redis-loss's real mode) that
// pause (SIGSTOP), resume, kill or restart Redis and so must never touch a shared server.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { SimError } from '../../engine/errors.ts';

const POLL_INTERVAL_MS = 20;

export class RedisServerProcess {
  port = 0;
  private child: ChildProcess | null = null;

  /**
   * Starts (or restarts, on the same port) an empty, non-persistent server and waits for PING (bounded). A
   * server that does not answer in time is killed before REDIS_START_TIMEOUT is thrown; no redis-server on PATH
   * (REDIS_NOT_FOUND), one that cannot be spawned (REDIS_SPAWN_FAILED) or exits while starting (REDIS_EXITED) is
   * reported at once.
   */
  async start(readyWithinMs = 5_000): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    const child = spawn('redis-server', ['--port', String(this.port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'], { stdio: 'ignore' });
    this.child = child;
    // An 'error' event (redis-server missing, spawn refused) with no listener would crash the process.
    let failure: SimError | undefined;
    child.once('error', (error: NodeJS.ErrnoException) => {
      failure ??= error.code === 'ENOENT'
        ? new SimError('REDIS_NOT_FOUND', 'expected redis-server on PATH, found none')
        : new SimError('REDIS_SPAWN_FAILED', `expected to start redis-server on port ${this.port}, found ${error.code ?? error.message}`);
    });
    child.once('exit', (code, signal) => {
      failure ??= new SimError('REDIS_EXITED', `expected redis-server on port ${this.port} to keep running, found it exited with ${signal ?? `code ${code}`} while starting`);
    });
    const probe = new Redis({ port: this.port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined); // refused connections are expected until the server is up
    let ready = false;
    try {
      for (let poll = 0; poll <= readyWithinMs / POLL_INTERVAL_MS; poll += 1) {
        if (failure) throw failure;
        try {
          if (probe.status !== 'ready') await probe.connect();
          if ((await probe.ping()) === 'PONG') {
            ready = true;
            return;
          }
        } catch {
          probe.disconnect();
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
      }
      throw failure ?? new SimError('REDIS_START_TIMEOUT', `expected redis-server on port ${this.port} to answer PING within ${readyWithinMs} ms, found no answer`);
    } finally {
      probe.disconnect();
      // A server that never became ready is not left running.
      if (!ready) await this.stop();
    }
  }

  /** SIGSTOP: the server keeps its sockets but answers nothing, like a stalled host. */
  pause(): void { this.child?.kill('SIGSTOP'); }

  resume(): void { this.child?.kill('SIGCONT'); }

  /** Kills the server (its data is gone: it never persists). Returns at once when it has already exited, by code or signal. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === null) return;
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
      this.child = null;
      return;
    }
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited;
    this.child = null;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
