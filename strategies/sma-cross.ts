// SMA crossover: a strict cross of the fast average above the slow one goes long, a strict cross below goes
// flat (long-only) or short (long-short). Averages run on close prices in integer ticks, so a tie is a tie and
// never a float artefact. Orders are market orders sized so that position plus working orders reaches the
// target (the engine keeps both, so the strategy keeps no per-order state); signals that do not change the target
// send nothing.
import { Strategy, Sma, type BarView, type StrategyContext, type StrategyDefinition } from '../engine/index.ts';

export interface SmaCrossParams {
  readonly fast: number;
  readonly slow: number;
  readonly mode: 'long-only' | 'long-short';
  readonly quantity: number;
}

export class SmaCross extends Strategy {
  private fast: Sma[] = [];
  private slow: Sma[] = [];
  private previousFast: Float64Array = new Float64Array(0);
  private previousSlow: Float64Array = new Float64Array(0);

  constructor(readonly params: SmaCrossParams) {
    super();
  }

  override onStart(ctx: StrategyContext): void {
    const n = ctx.instruments.length;
    this.fast = Array.from({ length: n }, () => new Sma(this.params.fast));
    this.slow = Array.from({ length: n }, () => new Sma(this.params.slow));
    this.previousFast = new Float64Array(n).fill(NaN);
    this.previousSlow = new Float64Array(n).fill(NaN);
  }

  override onBar(ctx: StrategyContext, bar: BarView): void {
    const s = bar.symbolIndex;
    const fast = this.fast[s];
    const slow = this.slow[s];
    fast.update(bar.closeTicks);
    slow.update(bar.closeTicks);
    if (!slow.ready) return;
    const fastValue = fast.value;
    const slowValue = slow.value;
    const previousFast = this.previousFast[s];
    const previousSlow = this.previousSlow[s];
    this.previousFast[s] = fastValue;
    this.previousSlow[s] = slowValue;
    let target: number;
    if (previousFast < previousSlow && fastValue > slowValue) target = this.params.quantity;
    else if (previousFast > previousSlow && fastValue < slowValue) target = this.params.mode === 'long-short' ? -this.params.quantity : 0;
    else return;
    const symbol = bar.symbol;
    const committed = ctx.portfolio.position(symbol) + ctx.workingQuantity(symbol, 'buy') - ctx.workingQuantity(symbol, 'sell');
    const delta = target - committed;
    if (delta === 0) return;
    ctx.market(symbol, delta > 0 ? 'buy' : 'sell', Math.abs(delta));
  }
}

export const smaCross: StrategyDefinition = {
  name: 'sma-cross',
  describe: 'SMA crossover of close prices: long on a cross up, flat (or short) on a cross down',
  params: {
    fast: { type: 'integer', default: 10, min: 1, describe: 'fast SMA period in bars' },
    slow: { type: 'integer', default: 30, min: 2, describe: 'slow SMA period in bars' },
    mode: { type: 'choice', default: 'long-only', choices: ['long-only', 'long-short'], describe: 'long-only or long-short' },
    quantity: { type: 'number', default: 1, min: 0, describe: 'position size in instrument units' },
  },
  check: (p) => (Number(p.fast) >= Number(p.slow) ? `expected fast < slow, found fast ${p.fast}, slow ${p.slow}` : Number(p.quantity) <= 0 ? `expected quantity > 0, found ${p.quantity}` : null),
  create: (p) => new SmaCross({ fast: Number(p.fast), slow: Number(p.slow), mode: p.mode as SmaCrossParams['mode'], quantity: Number(p.quantity) }),
};
