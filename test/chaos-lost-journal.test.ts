// Proves what each lost-journal variant does with one restart on a new journal, on three fault schedules chosen so
// that each failure has one cause: the incident's own fix (ids after the newest page of orders) holds while other
// bots' orders since the run's last one fit in a page, reuses ids once they fill more than a page, and starts flat
// beside the lost session's position and exit; the production fresh start continues the ids past any number of
// pages, and refuses while the position and exit are there until the operator clears them, then runs again.
// Sim mode against the model broker, real mode against the Alpaca fake over HTTP with the journal file deleted.
import { describe, expect, it } from 'vitest';
import { runSeed } from '../scenarios/framework/run-scenario.ts';
import type { Fault } from '../scenarios/framework/scenario.ts';
import { findScenario } from '../scenarios/index.ts';

const S = 1_000_000;
const flat = (floodSeconds: number): Fault[] => [
  // The bot is flat with nothing working at 90 s on seed 1 (its exit filled before): only the ids matter.
  { kind: 'flood', atUs: 60 * S, durationUs: floodSeconds * S },
  { kind: 'journal-lost', atUs: 90 * S, durationUs: 5 * S },
];
// At 100 s on seed 1 the bot is long with its exit working.
const holding: Fault[] = [{ kind: 'journal-lost', atUs: 100 * S, durationUs: 5 * S }];

async function run(mode: 'sim' | 'real', faults: Fault[]) {
  const scenario = findScenario('lost-journal')!;
  const result = await runSeed(scenario, {
    scenario: 'lost-journal', mode, seed: 1, variants: ['newest-page', 'scan-refuse'], options: { 'time-scale': mode === 'real' ? 0.02 : 0.05 }, short: true, faults, durationUs: 300 * S,
  });
  const [page, robust] = result.variants;
  return { page, robust };
}

describe('lost-journal, one new journal per schedule', () => {
  for (const mode of ['sim', 'real'] as const) {
    it(`${mode}: other bots' orders within a page since the run's last: both continue the ids`, async () => {
      const { page, robust } = await run(mode, flat(10));
      expect(page.metrics.otherOrders).toBe(400);
      expect(page.violations).toEqual({ 'unique-client-order-ids': 0, 'knows-broker-position': 0, 'knows-working-orders': 0, 'runs-again': 0 });
      expect(robust.verdict).toBe('holds');
      expect(robust.metrics.refusals).toBe(0);
    }, 60_000);

    it(`${mode}: more than a page of them: the newest page reuses the run's ids, the page-back scan does not`, async () => {
      const { page, robust } = await run(mode, flat(20));
      expect(page.metrics.otherOrders).toBe(800);
      expect(page.violations['unique-client-order-ids']).toBeGreaterThan(0);
      expect(page.examples[0]).toMatch(/LJ-bot-\d+ refused: client_order_id must be unique/);
      expect(page.violations['knows-broker-position']).toBe(0);
      expect(robust.verdict).toBe('holds');
      expect(robust.metrics.duplicateIds).toBe(0);
      expect(robust.metrics.refusals).toBe(0);
    }, 60_000);

    it(`${mode}: lost while long with its exit working: the newest page starts flat beside them, the production start refuses until cleared`, async () => {
      const { page, robust } = await run(mode, holding);
      expect(page.violations['knows-broker-position']).toBeGreaterThan(0);
      expect(page.violations['knows-working-orders']).toBeGreaterThan(0);
      expect(page.violations['unique-client-order-ids']).toBe(0);
      expect(robust.verdict).toBe('holds');
      expect(robust.metrics.refusals).toBe(1);
      expect(robust.metrics.accepted).toBeGreaterThan(0);
    }, 60_000);
  }
});
