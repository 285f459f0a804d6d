// Proves the health server over loopback HTTP: /health is always 200, /ready turns 200 only when leading, reconciled and fresh (503 with reasons otherwise), /metrics serves the runtime counters in Prometheus text.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthServer, RuntimeMetrics } from './index.ts';

describe('HealthServer', () => {
  let nowUs = 1_700_000_000_000_000;
  const metrics = new RuntimeMetrics({ clock: { nowUs: () => nowUs }, heartbeatAgeMsMax: { 'market-data': 5_000, 'trade-stream': 30_000 } });
  let server: HealthServer;
  const get = async (path: string): Promise<{ status: number; body: string }> => {
    const response = await fetch(`http://127.0.0.1:${server.port}${path}`);
    return { status: response.status, body: await response.text() };
  };

  beforeAll(async () => { server = await HealthServer.start({ metrics }); });
  afterAll(async () => { await server.close(); });

  it('answers /health with 200 and unknown paths with 404', async () => {
    expect((await get('/health')).status).toBe(200);
    expect((await get('/nope')).status).toBe(404);
  });

  it('answers /ready with 503 and reasons until leading, reconciled and fresh, then 200, then 503 when a feed goes stale', async () => {
    const before = await get('/ready');
    expect(before.status).toBe(503);
    const reasons = JSON.parse(before.body).reasons as string[];
    expect(reasons).toContain('expected to hold the leader lock, found standby');
    expect(reasons).toContain('expected heartbeat market-data within 5000 ms, found none yet');
    metrics.setLeader(true, 42);
    metrics.setReconciled(true);
    metrics.recordHeartbeat('market-data');
    metrics.recordHeartbeat('trade-stream');
    nowUs += 1_000_000;
    const ready = await get('/ready');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toMatchObject({ ready: true, leader: true, epoch: 42, reconciled: true, heartbeats: [{ source: 'market-data', ageMs: 1_000, ageMsMax: 5_000, fresh: true }, { source: 'trade-stream', ageMs: 1_000 }] });
    nowUs += 6_000_000;
    const stale = await get('/ready');
    expect(stale.status).toBe(503);
    expect(JSON.parse(stale.body).reasons).toEqual(['expected heartbeat market-data within 5000 ms, found 7000 ms']);
  });

  it('serves the runtime metrics as Prometheus text', async () => {
    metrics.recordOrder('buy');
    metrics.recordOrder('buy');
    metrics.recordFill('buy');
    metrics.recordDenial('max-position');
    metrics.recordLockRefresh('ok');
    metrics.recordKillSwitch('drawdown');
    const { status, body } = await get('/metrics');
    expect(status).toBe(200);
    expect(body).toContain('sim_orders_submitted_total{side="buy"} 2');
    expect(body).toContain('sim_fills_total{side="buy"} 1');
    expect(body).toContain('sim_order_denials_total{reason="max-position"} 1');
    expect(body).toContain('sim_leader_lock_refreshes_total{outcome="ok"} 1');
    expect(body).toContain('sim_kill_switch_activations_total{reason="drawdown"} 1');
    expect(body).toContain('sim_leader 1');
    expect(body).toMatch(/sim_heartbeat_age_seconds\{source="market-data"\} 7/);
    expect((await get('/ready')).status).toBe(503);
  });

  it('follows a watched lock: leadership, epoch and refresh counters come from the lock at read time', async () => {
    const lock = { leader: true, stats: { refreshesOk: 3, refreshesFailed: 0, losses: 0 }, isLeader() { return this.leader; }, epoch: () => 77 };
    const watched = new RuntimeMetrics({ clock: { nowUs: () => nowUs }, heartbeatAgeMsMax: {} });
    watched.setReconciled(true);
    watched.watchLeadership({ isLeader: () => lock.isLeader(), epoch: lock.epoch, stats: () => lock.stats });
    expect(watched.readiness()).toMatchObject({ ready: true, leader: true, epoch: 77 });
    lock.leader = false;
    lock.stats = { refreshesOk: 5, refreshesFailed: 1, losses: 1 };
    expect(watched.readiness()).toMatchObject({ ready: false, leader: false });
    const text = await watched.registry.metrics();
    expect(text).toContain('sim_leader_lock_refreshes_total{outcome="ok"} 5');
    expect(text).toContain('sim_leader_lock_refreshes_total{outcome="failed"} 1');
    expect(text).toContain('sim_leader 0');
  });
});
