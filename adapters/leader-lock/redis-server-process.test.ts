// Proves the test redis-server never leaks: a start that times out kills the server it spawned, a server that cannot be spawned is a typed error (not an unhandled 'error' event), and stop() returns for a server that already died from a signal.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { isSimError } from '../../engine/errors.ts';
import { RedisServerProcess } from './redis-server-process.ts';

async function answersPing(port: number): Promise<boolean> {
  const client = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 200 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** `server.start(300)` with PATH set to `pathValue` for the spawn; the error it threw (undefined if none). */
async function startUnderPath(server: RedisServerProcess, pathValue: string): Promise<unknown> {
  const savedPath = process.env.PATH;
  process.env.PATH = pathValue;
  try {
    await server.start(300);
    return undefined;
  } catch (error) {
    return error;
  } finally {
    process.env.PATH = savedPath;
  }
}

describe('RedisServerProcess', () => {
  it('kills the server it spawned when the start times out, so no process is left behind', async () => {
    // A "redis-server" that starts but never answers: it records its pid, then sleeps.
    const bin = await fs.mkdtemp(path.join(os.tmpdir(), 'sim-fake-redis-'));
    const pidFile = path.join(bin, 'pid');
    await fs.writeFile(path.join(bin, 'redis-server'), `#!/bin/sh\necho $$ > '${pidFile}'\nexec sleep 30\n`, { mode: 0o755 });
    const server = new RedisServerProcess();
    const caught = await startUnderPath(server, `${bin}:${process.env.PATH ?? ''}`);
    try {
      expect(isSimError(caught) && caught.code, String(caught)).toBe('REDIS_START_TIMEOUT');
      const pid = Number((await fs.readFile(pidFile, 'utf8')).trim());
      expect(pid).toBeGreaterThan(0);
      let alive = true;
      try { process.kill(pid, 0); } catch { alive = false; }
      if (alive) process.kill(pid, 'SIGKILL');
      expect(alive).toBe(false);
      await server.stop(); // nothing left to stop: returns at once
    } finally {
      await fs.rm(bin, { recursive: true, force: true });
    }
  });

  it('reports no redis-server on PATH as REDIS_NOT_FOUND instead of crashing on the error event', async () => {
    const empty = await fs.mkdtemp(path.join(os.tmpdir(), 'sim-no-redis-'));
    const server = new RedisServerProcess();
    const caught = await startUnderPath(server, empty);
    await fs.rm(empty, { recursive: true, force: true });
    expect(isSimError(caught) && caught.code, String(caught)).toBe('REDIS_NOT_FOUND');
    expect((caught as Error).message).toBe('expected redis-server on PATH, found none');
    await server.stop();
  });

  it('returns from stop() for a server that already died from a signal', async () => {
    const server = new RedisServerProcess();
    await server.start();
    const client = new Redis({ port: server.port, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    const info = await client.info('server');
    client.disconnect();
    const pid = Number(/process_id:(\d+)/.exec(info)![1]);
    process.kill(pid, 'SIGKILL');
    for (let attempt = 0; attempt < 100 && (await answersPing(server.port)); attempt++) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stopped = await Promise.race([server.stop().then(() => 'stopped'), new Promise((resolve) => setTimeout(() => resolve('still waiting'), 2_000))]);
    expect(stopped).toBe('stopped');
    // And it starts again on the same port.
    await server.start();
    expect(await answersPing(server.port)).toBe(true);
    await server.stop();
    expect(await answersPing(server.port)).toBe(false);
  });
});
