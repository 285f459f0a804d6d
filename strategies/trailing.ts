// Breakout entry protected by a trailing stop. A close above the highest high of the previous `lookback` bars
// buys at market; once filled, a reduce-only trailing stop `atrMultiple` ATRs (at entry) below the best price
// since then protects it and is the only exit. The venue ratchets the stop; the strategy waits until flat: it
// enters only with no position and no entry working, read from the engine (so a position it did not open, one
// adopted from another runner, also counts).
import { Strategy, Atr, RollingHigh, type BarView, type FillView, type StrategyContext, type StrategyDefinition } from '../engine/index.ts';

export interface TrailingParams {
  readonly lookback: number;
  readonly atrPeriod: number;
  readonly atrMultiple: number;
  readonly quantity: number;
}

export class TrailingBreakout extends Strategy {
  private highs: RollingHigh[] = [];
  private atr: Atr[] = [];
  private offsets = new Map<string, number>();

  constructor(readonly params: TrailingParams) {
    super();
  }

  override onStart(ctx: StrategyContext): void {
    const n = ctx.instruments.length;
    this.highs = Array.from({ length: n }, () => new RollingHigh(this.params.lookback));
    this.atr = Array.from({ length: n }, () => new Atr(this.params.atrPeriod));
  }

  override onBar(ctx: StrategyContext, bar: BarView): void {
    const s = bar.symbolIndex;
    const highs = this.highs[s];
    const atr = this.atr[s];
    // Compare with the previous bars' high before adding this bar.
    const breakout = highs.ready && atr.ready && bar.close > highs.value;
    const offset = this.params.atrMultiple * atr.value;
    highs.update(bar.high);
    atr.update(bar.high, bar.low, bar.close);
    if (!breakout || !(offset > 0) || ctx.portfolio.position(bar.symbol) !== 0 || ctx.workingQuantity(bar.symbol, 'buy') > 0) return;
    const id = ctx.market(bar.symbol, 'buy', this.params.quantity, { tag: 'breakout' });
    this.offsets.set(id, offset);
  }

  override onFill(ctx: StrategyContext, fill: FillView): void {
    const offset = this.offsets.get(fill.clientOrderId);
    if (offset !== undefined && fill.side === 'buy') {
      ctx.trailingStop(fill.symbol, 'sell', fill.quantity, offset, { reduceOnly: true, tag: 'trail' });
    }
  }
}

export const trailing: StrategyDefinition = {
  name: 'trailing',
  describe: 'breakout above the recent high, protected by a trailing stop sized in ATRs',
  params: {
    lookback: { type: 'integer', default: 20, min: 2, describe: 'bars in the breakout high' },
    atrPeriod: { type: 'integer', default: 14, min: 1, describe: 'ATR period' },
    atrMultiple: { type: 'number', default: 3, min: 0.1, max: 50, describe: 'trailing distance in ATRs at entry' },
    quantity: { type: 'number', default: 1, min: 0, describe: 'position size in instrument units' },
  },
  check: (p) => (Number(p.quantity) <= 0 ? `expected quantity > 0, found ${p.quantity}` : null),
  create: (p) => new TrailingBreakout({ lookback: Number(p.lookback), atrPeriod: Number(p.atrPeriod), atrMultiple: Number(p.atrMultiple), quantity: Number(p.quantity) }),
};
