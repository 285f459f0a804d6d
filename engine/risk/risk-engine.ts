// Pre-trade risk: every submit and modify passes here before it leaves the engine. A denial is a value with a
// stable reason code; the engine turns it into an `order.denied` event. The trading state moves
// ACTIVE -> REDUCING (only orders that reduce a position pass) or HALTED (nothing passes) on the daily loss
// limit or the kill switch.
import type { Side } from '../types.ts';

export type TradingState = 'active' | 'reducing' | 'halted';

export type RiskReasonCode =
  | 'RISK_HALTED' | 'RISK_REDUCING' | 'RISK_MAX_POSITION' | 'RISK_MAX_NOTIONAL' | 'RISK_MAX_OPEN_ORDERS'
  | 'RISK_PER_TRADE' | 'RISK_PRICE_BAND' | 'RISK_RATE_LIMIT' | 'RISK_STALE_DATA' | 'RISK_NO_PRICE';

export interface RiskDenial {
  readonly code: RiskReasonCode;
  readonly message: string;
}

export interface RiskLimits {
  /** Largest absolute position per symbol, in lots, counting working orders on the same side. */
  readonly maxPositionLots?: number;
  /** Largest gross notional (positions plus this order), in cash units. */
  readonly maxGrossNotionalCash?: number;
  readonly maxOpenOrders?: number;
  /** Largest loss at the stop (stop distance x quantity) as a share of equity, e.g. 0.01. */
  readonly riskPerTradeFraction?: number;
  /** Loss from the trading day's starting equity, in cash units, that changes the trading state. */
  readonly dailyLossLimitCash?: number;
  readonly dailyLossAction?: 'reduce' | 'halt';
  /** Limit and stop prices must lie within this share of the last price, e.g. 0.05. */
  readonly priceBandFraction?: number;
  /** At most `count` submits and modifies in any window of `windowUs`. */
  readonly orderRate?: { readonly count: number; readonly windowUs: number };
  /** Deny new entries when the newest market data is older than this (exits still pass). */
  readonly staleDataUs?: number;
}

/** The account state the checks read, supplied by the engine. */
export interface RiskView {
  position(symbolIndex: number): number;
  /** Working quantity on one side of a symbol (orders not yet filled), in lots. */
  workingQuantity(symbolIndex: number, side: Side): number;
  openOrderCount(): number;
  lastPriceTicks(symbolIndex: number): number;
  cashPerTickLot(symbolIndex: number): number;
  grossExposureCash(): number;
  equityCash(): number;
  nowUs(): number;
  lastDataUs(): number;
}

export class RiskEngine {
  state: TradingState = 'active';
  /** Why the state is what it is ('daily-loss', 'kill-switch', ...). */
  stateReason = '';
  private readonly rateTimes: Float64Array;
  private rateHead = 0;
  private rateCount = 0;
  // The limits as fields of one shape (the limits object's shape varies with the config, which would make every
  // check's property reads polymorphic across engines): an absent bound is Infinity, an absent rule false.
  private readonly rateLimited: boolean;
  private readonly staleDataUs: number;
  private readonly maxOpenOrders: number;
  private readonly maxPositionLots: number;
  private readonly checksNotional: boolean;
  private readonly maxGrossNotionalCash: number;
  private readonly checksPriceBand: boolean;
  private readonly checksRiskPerTrade: boolean;
  private readonly riskPerTradeFraction: number;

  constructor(readonly limits: RiskLimits) {
    this.rateTimes = new Float64Array(Math.max(1, limits.orderRate?.count ?? 1));
    this.rateLimited = limits.orderRate !== undefined;
    this.staleDataUs = limits.staleDataUs ?? Infinity;
    this.maxOpenOrders = limits.maxOpenOrders ?? Infinity;
    this.maxPositionLots = limits.maxPositionLots ?? Infinity;
    this.checksNotional = limits.maxGrossNotionalCash !== undefined;
    this.maxGrossNotionalCash = limits.maxGrossNotionalCash ?? Infinity;
    this.checksPriceBand = limits.priceBandFraction !== undefined;
    this.checksRiskPerTrade = limits.riskPerTradeFraction !== undefined;
    this.riskPerTradeFraction = limits.riskPerTradeFraction ?? Infinity;
  }

  /**
   * Check one proposed order (or the quantity a modify adds; `reducing` when it can only reduce the position,
   * `protectiveStopTicks` an entry's bracket stop), its fields as arguments so the hot path builds no input object.
   * `sign` is 1 for a buy, -1 for a sell; an absent price is NaN. `newOrders` is how many orders it adds to the
   * open ones: 1 for an order, 2 for an OCO pair, 0 for a modify. An OCO pair's second leg brings its own prices
   * (`otherLimitTicks`, `otherStopTicks`): both legs' prices must sit inside the price band.
   *
   * An order reduces the position only when it and the orders already working on its side (not reduce-only: the
   * venue caps those at the position) together close no more than the position: two sells of a whole long do not
   * both reduce it.
   */
  checkOrder(symbolIndex: number, sign: number, quantity: number, reducing: boolean, limitPriceTicks: number, stopPriceTicks: number,
    protectiveStopTicks: number, newOrders: number, view: RiskView, otherLimitTicks = NaN, otherStopTicks = NaN): RiskDenial | null {
    const { limits } = this;
    if (this.state === 'halted') return { code: 'RISK_HALTED', message: `expected trading state active, found halted (${this.stateReason})` };
    const position = view.position(symbolIndex);
    const side = sign > 0 ? 'buy' : 'sell';
    const reduces = reducing
      || (position !== 0 && Math.sign(position) !== sign && view.workingQuantity(symbolIndex, side) + quantity <= Math.abs(position));
    if (this.state === 'reducing' && !reduces) {
      return { code: 'RISK_REDUCING', message: `expected an order that reduces the position while reducing (${this.stateReason}), found a ${side} of ${quantity} against position ${position}` };
    }
    if (this.rateLimited && !this.rateAllows(view.nowUs())) {
      return { code: 'RISK_RATE_LIMIT', message: `expected at most ${limits.orderRate!.count} orders per ${limits.orderRate!.windowUs / 1e6}s, found one more` };
    }
    if (reduces) {
      if (this.rateLimited) this.recordRate(view.nowUs());
      return null;
    }
    if (this.staleDataUs !== Infinity) {
      const ageUs = view.nowUs() - view.lastDataUs();
      if (ageUs > this.staleDataUs) return { code: 'RISK_STALE_DATA', message: `expected market data newer than ${this.staleDataUs / 1e6}s, found ${ageUs / 1e6}s old` };
    }
    const last = view.lastPriceTicks(symbolIndex);
    if (newOrders > 0 && view.openOrderCount() + newOrders > this.maxOpenOrders) {
      return { code: 'RISK_MAX_OPEN_ORDERS', message: `expected at most ${this.maxOpenOrders} open orders, found ${view.openOrderCount() + newOrders} with ${newOrders === 1 ? 'this one' : `these ${newOrders}`}` };
    }
    if (this.maxPositionLots !== Infinity) {
      const projected = Math.abs(position + sign * (view.workingQuantity(symbolIndex, side) + quantity));
      if (projected > this.maxPositionLots) {
        return { code: 'RISK_MAX_POSITION', message: `expected position at most ${this.maxPositionLots} lots, found ${projected} with working orders and this one` };
      }
    }
    // The order's own price (limit, else stop), else the last price.
    const referenceTicks = !Number.isNaN(limitPriceTicks) ? limitPriceTicks : !Number.isNaN(stopPriceTicks) ? stopPriceTicks : last;
    if (this.checksNotional) {
      if (Number.isNaN(referenceTicks)) return { code: 'RISK_NO_PRICE', message: 'expected a last price to value the order, found none yet' };
      const orderCash = quantity * referenceTicks * view.cashPerTickLot(symbolIndex);
      const gross = view.grossExposureCash() + orderCash;
      if (gross > this.maxGrossNotionalCash) {
        return { code: 'RISK_MAX_NOTIONAL', message: `expected gross notional at most ${this.maxGrossNotionalCash / 1e6}, found ${gross / 1e6} with this order` };
      }
    }
    if (this.checksPriceBand && !Number.isNaN(last)) {
      const denial = this.priceBand(limitPriceTicks, last) ?? this.priceBand(stopPriceTicks, last)
        ?? this.priceBand(otherLimitTicks, last) ?? this.priceBand(otherStopTicks, last);
      if (denial !== null) return denial;
    }
    if (this.checksRiskPerTrade && !Number.isNaN(protectiveStopTicks)) {
      const entryTicks = referenceTicks;
      if (Number.isNaN(entryTicks)) return { code: 'RISK_NO_PRICE', message: 'expected a last price to size the risk, found none yet' };
      const riskCash = Math.abs(entryTicks - protectiveStopTicks) * quantity * view.cashPerTickLot(symbolIndex);
      const allowedCash = this.riskPerTradeFraction * view.equityCash();
      if (riskCash > allowedCash) {
        return { code: 'RISK_PER_TRADE', message: `expected risk at the stop at most ${allowedCash / 1e6} (${this.riskPerTradeFraction * 100}% of equity), found ${riskCash / 1e6}` };
      }
    }
    if (this.rateLimited) this.recordRate(view.nowUs());
    return null;
  }

  private priceBand(priceTicks: number, lastTicks: number): RiskDenial | null {
    if (Number.isNaN(priceTicks)) return null;
    const fraction = this.limits.priceBandFraction!;
    const deviation = Math.abs(priceTicks - lastTicks) / lastTicks;
    if (!(deviation > fraction)) return null;
    return { code: 'RISK_PRICE_BAND', message: `expected a price within ${fraction * 100}% of last ${lastTicks} ticks, found ${priceTicks} ticks (${(deviation * 100).toFixed(2)}%)` };
  }

  /** Called by the engine on every mark: returns the new state when the daily loss limit is crossed. */
  onEquity(equityCash: number, dayStartEquityCash: number): TradingState | null {
    const limit = this.limits.dailyLossLimitCash;
    if (limit === undefined || this.state !== 'active') return null;
    if (dayStartEquityCash - equityCash >= limit) {
      this.state = this.limits.dailyLossAction === 'halt' ? 'halted' : 'reducing';
      this.stateReason = 'daily-loss';
      return this.state;
    }
    return null;
  }

  /** A new trading day lifts a daily-loss state (a kill switch stays until reset by hand). */
  onNewDay(): boolean {
    if (this.state !== 'active' && this.stateReason === 'daily-loss') {
      this.state = 'active';
      this.stateReason = '';
      return true;
    }
    return false;
  }

  halt(reason: string): void {
    this.state = 'halted';
    this.stateReason = reason;
  }

  private rateAllows(nowUs: number): boolean {
    const rate = this.limits.orderRate!;
    if (this.rateCount < rate.count) return true;
    // The oldest of the last `count` orders must be outside the window.
    return nowUs - this.rateTimes[this.rateHead] >= rate.windowUs;
  }

  private recordRate(nowUs: number): void {
    if (!this.limits.orderRate) return;
    this.rateTimes[this.rateHead] = nowUs;
    this.rateHead = (this.rateHead + 1) % this.rateTimes.length;
    if (this.rateCount < this.rateTimes.length) this.rateCount++;
  }
}
