// Proves the fresh-start rules of a new journal in their order: a working order of the run refuses; no order of
// the run starts from 1 whatever the broker holds; a position in the run's symbols refuses once the run has traded;
// otherwise ids continue after the highest the broker holds (other bots' ids and malformed ones count as none).
import { describe, expect, it } from 'vitest';
import { highestSequence, planFreshStart, type FreshStartFacts } from './fresh-start.ts';

const facts = (over: Partial<FreshStartFacts>): FreshStartFacts => ({
  runId: 'R', journalPath: 'runs/x.journal', idPrefix: 'R-sma', workingIds: [], heldIds: [], positions: [], symbols: ['AAA'], ...over,
});

describe('planFreshStart', () => {
  it('refuses while an order of the run works at the broker, naming it', () => {
    const plan = planFreshStart(facts({ workingIds: ['R-sma-7'], heldIds: ['R-sma-7'] }));
    expect(plan).toMatchObject({ start: false, code: 'SESSION_JOURNAL_MISSING' });
    expect(!plan.start && plan.message).toMatch(/expected no working orders of run R .*found 1 \(R-sma-7\)/);
  });

  it('starts from 1 when the run has no order at the broker, even beside a position in its symbols', () => {
    expect(planFreshStart(facts({ heldIds: ['other-9', 'R-sma-007', 'R-smax-3'], positions: [{ symbol: 'AAA', quantity: 5 }] }))).toMatchObject({ start: true, sequence: 0 });
  });

  it('refuses on a position in the run\'s symbols once the run has traded, and ignores other symbols and flat ones', () => {
    const refused = planFreshStart(facts({ heldIds: ['R-sma-3'], positions: [{ symbol: 'AAA', quantity: -2 }] }));
    expect(!refused.start && refused.message).toMatch(/its newest id R-sma-3.*found AAA -2/);
    expect(planFreshStart(facts({ heldIds: ['R-sma-3', 'R-sma-12', 'R-sma-9'], positions: [{ symbol: 'BBB', quantity: 4 }, { symbol: 'AAA', quantity: 0 }] })))
      .toMatchObject({ start: true, sequence: 12 });
  });

  it('finds the highest sequence in a loop over any number of ids', () => {
    const ids = Array.from({ length: 200_000 }, (_, i) => `R-sma-${i + 1}`);
    expect(highestSequence('R-sma', ids)).toBe(200_000);
    expect(highestSequence('R-sma', ['R-sma-0', 'R-sma-', 'R-sma-1e3', 'x'])).toBe(0);
  });
});
