// The ledger: cash, positions, FIFO lots, realized and unrealized PnL and fees, all in integer cash units, so
// cash and positions always equal the sum of fills exactly. Closed round trips (flat -> open -> flat, a flip
// closing one and opening the next) are recorded for the report.
import type { Side } from '../types.ts';
import type { InstrumentScales } from '../core/instruments.ts';
import { invariantFailed } from '../errors.ts';

export interface ClosedTrade {
  readonly symbol: string;
  readonly direction: 'long' | 'short';
  readonly openUs: number;
  readonly closeUs: number;
  /** Largest absolute position during the trade, in lots. */
  readonly quantity: number;
  /** Realized PnL of the trade before fees, in cash units. */
  readonly grossPnlCash: number;
  readonly feesCash: number;
  /** grossPnlCash - feesCash. */
  readonly pnlCash: number;
}

interface OpenTrade {
  direction: 'long' | 'short';
  openUs: number;
  maxQuantity: number;
  grossPnlCash: number;
  feesCash: number;
}

/** FIFO lots of one symbol: parallel arrays with a head index (no allocation per fill beyond growth). */
class LotQueue {
  quantity: number[] = [];
  priceTicks: number[] = [];
  head = 0;

  push(quantity: number, priceTicks: number): void {
    this.quantity.push(quantity);
    this.priceTicks.push(priceTicks);
  }

  get isEmpty(): boolean {
    return this.head >= this.quantity.length;
  }

  compact(): void {
    if (this.head > 64 && this.head * 2 > this.quantity.length) {
      this.quantity = this.quantity.slice(this.head);
      this.priceTicks = this.priceTicks.slice(this.head);
      this.head = 0;
    }
  }
}

export class Portfolio {
  readonly initialCash: number;
  readonly scales: readonly InstrumentScales[];
  cashCash: number;
  feesCash = 0;
  /** Realized PnL before fees, in cash units. */
  realizedGrossCash = 0;
  /** Signed position per symbol, in lots. */
  readonly position: Float64Array;
  /** Last mark price per symbol in ticks (NaN before the first). */
  readonly markTicks: Float64Array;
  /** Sum over symbols of position * mark * cashPerTickLot. */
  positionValueCash = 0;
  /** Number of symbols with a nonzero position. */
  openPositionCount = 0;
  readonly closedTrades: ClosedTrade[] = [];
  private readonly lots: LotQueue[];
  private readonly openTrades: (OpenTrade | null)[];
  private readonly cashPerTickLot: Float64Array;

  constructor(initialCash: number, scales: readonly InstrumentScales[]) {
    if (!(Number.isSafeInteger(initialCash))) invariantFailed(`initial cash must be integer cash units, found ${initialCash}`);
    this.initialCash = initialCash;
    this.cashCash = initialCash;
    this.scales = scales;
    const n = scales.length;
    this.position = new Float64Array(n);
    this.markTicks = new Float64Array(n).fill(NaN);
    this.cashPerTickLot = Float64Array.from(scales, (s) => s.cashPerTickLot);
    this.lots = scales.map(() => new LotQueue());
    this.openTrades = scales.map(() => null);
  }

  /** Mark a symbol to a new price. Hot path: a few arithmetic operations, no allocation. */
  mark(symbolIndex: number, priceTicks: number): void {
    const previous = this.markTicks[symbolIndex];
    const position = this.position[symbolIndex];
    if (position !== 0) this.positionValueCash += position * (priceTicks - previous) * this.cashPerTickLot[symbolIndex];
    this.markTicks[symbolIndex] = priceTicks;
  }

  equityCashValue(): number {
    return this.cashCash + this.positionValueCash;
  }

  /** Unrealized PnL over open lots at the current marks, in cash units. */
  unrealizedCash(): number {
    let total = 0;
    for (let s = 0; s < this.lots.length; s++) {
      const queue = this.lots[s];
      const sign = Math.sign(this.position[s]);
      for (let i = queue.head; i < queue.quantity.length; i++) {
        total += sign * queue.quantity[i] * (this.markTicks[s] - queue.priceTicks[i]) * this.cashPerTickLot[s];
      }
    }
    return total;
  }

  averagePriceTicks(symbolIndex: number): number {
    const queue = this.lots[symbolIndex];
    let quantity = 0;
    let notional = 0;
    for (let i = queue.head; i < queue.quantity.length; i++) {
      quantity += queue.quantity[i];
      notional += queue.quantity[i] * queue.priceTicks[i];
    }
    return quantity === 0 ? NaN : notional / quantity;
  }

  grossExposureCash(): number {
    let total = 0;
    for (let s = 0; s < this.position.length; s++) {
      if (this.position[s] !== 0) total += Math.abs(this.position[s] * this.markTicks[s] * this.cashPerTickLot[s]);
    }
    return total;
  }

  /** Apply one fill. Returns the realized PnL (before fees) it produced, in cash units. */
  applyFill(symbolIndex: number, side: Side, quantity: number, priceTicks: number, feeCash: number, timeUs: number): number {
    if (!(Number.isSafeInteger(quantity) && quantity > 0)) invariantFailed(`fill quantity must be a positive integer of lots, found ${quantity}`);
    if (!(Number.isSafeInteger(priceTicks) && priceTicks > 0)) invariantFailed(`fill price must be positive integer ticks, found ${priceTicks}`);
    if (!(Number.isSafeInteger(feeCash) && feeCash >= 0)) invariantFailed(`fee must be non-negative integer cash, found ${feeCash}`);
    const cpt = this.cashPerTickLot[symbolIndex];
    const sign = side === 'buy' ? 1 : -1;
    const before = this.position[symbolIndex];
    // Re-mark the existing position at the fill price so positionValue stays exact around the change.
    if (Number.isNaN(this.markTicks[symbolIndex])) this.markTicks[symbolIndex] = priceTicks;
    this.mark(symbolIndex, priceTicks);

    this.cashCash -= sign * quantity * priceTicks * cpt + feeCash;
    this.feesCash += feeCash;
    if (!(Number.isSafeInteger(this.cashCash))) invariantFailed(`cash left the safe integer range: ${this.cashCash}`);

    let remaining = quantity;
    let realized = 0;
    const queue = this.lots[symbolIndex];
    const closing = before !== 0 && Math.sign(before) !== sign;
    if (closing) {
      while (remaining > 0 && !queue.isEmpty) {
        const lotQuantity = queue.quantity[queue.head];
        const take = lotQuantity <= remaining ? lotQuantity : remaining;
        realized += -sign * take * (priceTicks - queue.priceTicks[queue.head]) * cpt;
        if (take === lotQuantity) queue.head++;
        else queue.quantity[queue.head] = lotQuantity - take;
        remaining -= take;
      }
      queue.compact();
    }
    if (remaining > 0) queue.push(remaining, priceTicks);

    const after = before + sign * quantity;
    this.position[symbolIndex] = after;
    this.positionValueCash += sign * quantity * priceTicks * cpt;
    this.realizedGrossCash += realized;
    if (before === 0 && after !== 0) this.openPositionCount++;
    else if (before !== 0 && after === 0) this.openPositionCount--;

    this.trackTrade(symbolIndex, before, after, quantity, realized, feeCash, timeUs, remaining);
    return realized;
  }

  private trackTrade(symbolIndex: number, before: number, after: number, quantity: number, realized: number, feeCash: number, timeUs: number, openedQuantity: number): void {
    let trade = this.openTrades[symbolIndex];
    const flips = before !== 0 && after !== 0 && Math.sign(before) !== Math.sign(after);
    // The fee of a flipping fill is split by quantity between the closing and the opening part.
    const closingFee = flips ? Math.round((feeCash * (quantity - openedQuantity)) / quantity) : feeCash;
    if (trade === null) {
      trade = { direction: after > 0 ? 'long' : 'short', openUs: timeUs, maxQuantity: 0, grossPnlCash: 0, feesCash: 0 };
      this.openTrades[symbolIndex] = trade;
    }
    trade.grossPnlCash += realized;
    trade.feesCash += closingFee;
    if (after === 0 || flips) {
      this.closedTrades.push({
        symbol: this.scales[symbolIndex].instrument.symbol,
        direction: trade.direction,
        openUs: trade.openUs,
        closeUs: timeUs,
        quantity: Math.max(trade.maxQuantity, Math.abs(before)),
        grossPnlCash: trade.grossPnlCash,
        feesCash: trade.feesCash,
        pnlCash: trade.grossPnlCash - trade.feesCash,
      });
      this.openTrades[symbolIndex] = flips
        ? { direction: after > 0 ? 'long' : 'short', openUs: timeUs, maxQuantity: Math.abs(after), grossPnlCash: 0, feesCash: feeCash - closingFee }
        : null;
      return;
    }
    trade.maxQuantity = Math.max(trade.maxQuantity, Math.abs(after));
  }

  /**
   * Checks the ledger identity: equity - initial = realized + unrealized - fees, and each position equals
   * the sum of its lots. Throws on a broken invariant.
   */
  assertConsistent(): void {
    for (let s = 0; s < this.position.length; s++) {
      const queue = this.lots[s];
      let lots = 0;
      for (let i = queue.head; i < queue.quantity.length; i++) lots += queue.quantity[i];
      if (!(lots === Math.abs(this.position[s]))) invariantFailed(`symbol ${s}: lots ${lots} != |position| ${Math.abs(this.position[s])}`);
    }
    const lhs = this.equityCashValue() - this.initialCash;
    const rhs = this.realizedGrossCash + this.unrealizedCash() - this.feesCash;
    if (!(lhs === rhs)) invariantFailed(`ledger identity broken: equity - initial ${lhs} != realized + unrealized - fees ${rhs}`);
  }
}
