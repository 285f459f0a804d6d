// Trend pullback: trade with the trend of two EMAs and enter on a pullback to the fast one. In an uptrend
// (fast EMA above slow, close above slow), a bar whose low touches the fast EMA and closes back above it buys
// with a bracket: stop `atrMultiple` ATRs below the close, target `rewardRisk` times that distance above. The
// mirror image sells short when `allowShort`. One position per symbol at a time.
import { Strategy, Ema, Atr, type BarView, type StrategyContext, type StrategyDefinition } from '../engine/index.ts';

export interface TrendPullbackParams {
  readonly fast: number;
  readonly slow: number;
  readonly atrPeriod: number;
  readonly atrMultiple: number;
  readonly rewardRisk: number;
  readonly quantity: number;
  readonly allowShort: boolean;
}

export class TrendPullback extends Strategy {
  private fast: Ema[] = [];
  private slow: Ema[] = [];
  private atr: Atr[] = [];
  private pending = new Set<string>();

  constructor(readonly params: TrendPullbackParams) {
    super();
  }

  override onStart(ctx: StrategyContext): void {
    const n = ctx.instruments.length;
    this.fast = Array.from({ length: n }, () => new Ema(this.params.fast));
    this.slow = Array.from({ length: n }, () => new Ema(this.params.slow));
    this.atr = Array.from({ length: n }, () => new Atr(this.params.atrPeriod));
  }

  override onBar(ctx: StrategyContext, bar: BarView): void {
    const s = bar.symbolIndex;
    const fast = this.fast[s];
    const slow = this.slow[s];
    const atr = this.atr[s];
    fast.update(bar.close);
    slow.update(bar.close);
    atr.update(bar.high, bar.low, bar.close);
    if (!slow.ready || !atr.ready || this.pending.has(bar.symbol) || ctx.portfolio.position(bar.symbol) !== 0) return;
    const distance = this.params.atrMultiple * atr.value;
    if (!(distance > 0)) return;
    const up = fast.value > slow.value && bar.close > slow.value && bar.low <= fast.value && bar.close > fast.value;
    const down = this.params.allowShort && fast.value < slow.value && bar.close < slow.value && bar.high >= fast.value && bar.close < fast.value;
    if (!up && !down) return;
    const stopLoss = up ? bar.close - distance : bar.close + distance;
    const takeProfit = up ? bar.close + this.params.rewardRisk * distance : bar.close - this.params.rewardRisk * distance;
    if (!(stopLoss > 0) || !(takeProfit > 0)) return;
    const ids = ctx.bracket({ symbol: bar.symbol, side: up ? 'buy' : 'sell', quantity: this.params.quantity, entry: { type: 'market' }, stopLoss, takeProfit, tag: 'pullback' });
    if (ctx.order(ids.entry)?.status !== 'denied') this.pending.add(bar.symbol);
  }

  override onOrderUpdate(_ctx: StrategyContext, order: { symbol: string; role: string; status: string }): void {
    // The symbol is free again once its bracket has fully ended (an exit filled, or the entry died unfilled).
    if ((order.role === 'stop-loss' || order.role === 'take-profit') && order.status === 'filled') this.pending.delete(order.symbol);
    if (order.role === 'entry' && (order.status === 'cancelled' || order.status === 'rejected' || order.status === 'expired')) this.pending.delete(order.symbol);
  }
}

export const trendPullback: StrategyDefinition = {
  name: 'trend-pullback',
  describe: 'EMA trend filter, entry on a pullback to the fast EMA, ATR stop, bracket exit',
  params: {
    fast: { type: 'integer', default: 20, min: 1, describe: 'fast EMA period' },
    slow: { type: 'integer', default: 50, min: 2, describe: 'slow EMA period' },
    atrPeriod: { type: 'integer', default: 14, min: 1, describe: 'ATR period' },
    atrMultiple: { type: 'number', default: 2, min: 0.1, max: 20, describe: 'stop distance in ATRs' },
    rewardRisk: { type: 'number', default: 2, min: 0.1, max: 20, describe: 'target distance as a multiple of the stop distance' },
    quantity: { type: 'number', default: 1, min: 0, describe: 'position size in instrument units' },
    allowShort: { type: 'boolean', default: false, describe: 'also trade pullbacks in downtrends' },
  },
  check: (p) => (Number(p.fast) >= Number(p.slow) ? `expected fast < slow, found fast ${p.fast}, slow ${p.slow}` : Number(p.quantity) <= 0 ? `expected quantity > 0, found ${p.quantity}` : null),
  create: (p) => new TrendPullback({
    fast: Number(p.fast), slow: Number(p.slow), atrPeriod: Number(p.atrPeriod), atrMultiple: Number(p.atrMultiple),
    rewardRisk: Number(p.rewardRisk), quantity: Number(p.quantity), allowShort: Boolean(p.allowShort),
  }),
};
