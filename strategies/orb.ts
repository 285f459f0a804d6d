// Opening-range breakout with a bracket. Each session, the high and low of the first `rangeMinutes` after the
// 09:30 open (exchange time) form the range. The first close above the range buys (below it sells, when
// `allowShort`), with a stop-loss at the other side of the range and a take-profit at `targetMultiple` times the
// risk. Size: `riskFraction` of equity at risk between entry and stop (at least one unit). One entry per symbol
// per session; everything is flattened `exitMinutesBeforeClose` before the close: NYSE's for us-equity (16:00,
// 13:00 on its early-close days), 16:00 of the calendar's day otherwise.
import {
  Strategy, US_EQUITY_CLOSE_MINUTE, US_EQUITY_OPEN_MINUTE, localDay, localMinuteOfDay, usEquityCloseMinute, type BarView, type StrategyContext, type StrategyDefinition,
} from '../engine/index.ts';

const OPEN_MINUTE = US_EQUITY_OPEN_MINUTE;
const CLOSE_MINUTE = US_EQUITY_CLOSE_MINUTE;

export interface OrbParams {
  readonly rangeMinutes: number;
  readonly targetMultiple: number;
  readonly riskFraction: number;
  readonly allowShort: boolean;
  readonly exitMinutesBeforeClose: number;
}

export class OpeningRangeBreakout extends Strategy {
  private day: Float64Array = new Float64Array(0);
  private rangeHigh: Float64Array = new Float64Array(0);
  private rangeLow: Float64Array = new Float64Array(0);
  private traded: Uint8Array = new Uint8Array(0);
  private flattened: Uint8Array = new Uint8Array(0);
  /** The session's close, in minutes of the local day (-1: no session that day). */
  private closeMinute: Float64Array = new Float64Array(0);

  constructor(readonly params: OrbParams) {
    super();
  }

  override onStart(ctx: StrategyContext): void {
    const n = ctx.instruments.length;
    this.day = new Float64Array(n).fill(NaN);
    this.rangeHigh = new Float64Array(n);
    this.rangeLow = new Float64Array(n);
    this.traded = new Uint8Array(n);
    this.flattened = new Uint8Array(n);
    this.closeMinute = new Float64Array(n);
  }

  override onBar(ctx: StrategyContext, bar: BarView): void {
    const s = bar.symbolIndex;
    const calendar = ctx.instruments[s].calendar;
    const minute = localMinuteOfDay(bar.startUs, calendar);
    if (minute < OPEN_MINUTE) return;
    const day = localDay(bar.startUs, calendar);
    if (day !== this.day[s]) {
      this.day[s] = day;
      this.closeMinute[s] = calendar === 'us-equity' ? usEquityCloseMinute(day) : CLOSE_MINUTE;
      this.rangeHigh[s] = -Infinity;
      this.rangeLow[s] = Infinity;
      this.traded[s] = 0;
      this.flattened[s] = 0;
    }
    const closeMinute = this.closeMinute[s];
    if (closeMinute < 0) return; // no session that day
    const { rangeMinutes, exitMinutesBeforeClose } = this.params;
    if (minute < OPEN_MINUTE + rangeMinutes) {
      if (bar.high > this.rangeHigh[s]) this.rangeHigh[s] = bar.high;
      if (bar.low < this.rangeLow[s]) this.rangeLow[s] = bar.low;
      return;
    }
    // The exit window, or any bar after it (after the close too): a thin symbol may have no bar in the window.
    if (minute + 1 >= closeMinute - exitMinutesBeforeClose) {
      if (!this.flattened[s]) {
        this.flattened[s] = 1;
        ctx.cancelAll(bar.symbol);
        ctx.flatten(bar.symbol);
        ctx.log('session exit', { symbol: bar.symbol });
      }
      return;
    }
    if (this.traded[s] || !Number.isFinite(this.rangeHigh[s]) || ctx.portfolio.position(bar.symbol) !== 0) return;
    const high = this.rangeHigh[s];
    const low = this.rangeLow[s];
    const long = bar.close > high;
    const short = this.params.allowShort && bar.close < low;
    if (!long && !short) return;
    const entry = bar.close;
    const stopLoss = long ? low : high;
    const risk = Math.abs(entry - stopLoss);
    if (!(risk > 0)) return;
    const takeProfit = long ? entry + this.params.targetMultiple * risk : entry - this.params.targetMultiple * risk;
    if (!(takeProfit > 0)) return;
    const quantity = Math.max(1, Math.floor((ctx.portfolio.equity * this.params.riskFraction) / risk));
    this.traded[s] = 1;
    ctx.bracket({ symbol: bar.symbol, side: long ? 'buy' : 'sell', quantity, entry: { type: 'market' }, stopLoss, takeProfit, tag: 'orb' });
  }
}

export const orb: StrategyDefinition = {
  name: 'orb',
  describe: 'opening-range breakout entered with a bracket (stop at the range, target a multiple of the risk)',
  params: {
    rangeMinutes: { type: 'integer', default: 15, min: 1, max: 180, describe: 'minutes after the open that form the range' },
    targetMultiple: { type: 'number', default: 2, min: 0.1, max: 20, describe: 'take-profit distance as a multiple of the risk' },
    riskFraction: { type: 'number', default: 0.005, min: 0.0001, max: 0.1, describe: 'share of equity risked per trade' },
    allowShort: { type: 'boolean', default: true, describe: 'also trade breakdowns below the range' },
    exitMinutesBeforeClose: { type: 'integer', default: 5, min: 0, max: 120, describe: 'flatten this many minutes before the close' },
  },
  create: (p) => new OpeningRangeBreakout({
    rangeMinutes: Number(p.rangeMinutes), targetMultiple: Number(p.targetMultiple), riskFraction: Number(p.riskFraction),
    allowShort: Boolean(p.allowShort), exitMinutesBeforeClose: Number(p.exitMinutesBeforeClose),
  }),
};
