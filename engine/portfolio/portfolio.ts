// The ledger: cash, positions, FIFO lots, realized and unrealized PnL and fees, all in integer cash units, so
// cash and positions always equal the sum of fills exactly. Closed round trips (flat -> open -> flat, a flip
// closing one and opening the next) are recorded for the report.
//
// Everything is kept in typed columns (lots per symbol, open trades per symbol, closed trades), so a fill
// allocates nothing once the columns have grown; `closedTrades` builds the trade objects when someone reads them.
import { grown } from '../core/columns.ts';
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

/** FIFO lots of one symbol: typed columns with a head index. */
class LotQueue {
  quantity = new Float64Array(16);
  priceTicks = new Float64Array(16);
  head = 0;
  tail = 0;

  push(quantity: number, priceTicks: number): void {
    if (this.tail === this.quantity.length) this.makeRoom();
    this.quantity[this.tail] = quantity;
    this.priceTicks[this.tail] = priceTicks;
    this.tail++;
  }

  get isEmpty(): boolean {
    return this.head >= this.tail;
  }

  /** Moves the live lots to the front, into columns twice as long when more than half of them are live. */
  private makeRoom(): void {
    const live = this.tail - this.head;
    if (live * 2 > this.quantity.length) {
      const quantity = new Float64Array(this.quantity.length * 2);
      const priceTicks = new Float64Array(this.quantity.length * 2);
      quantity.set(this.quantity.subarray(this.head, this.tail));
      priceTicks.set(this.priceTicks.subarray(this.head, this.tail));
      this.quantity = quantity;
      this.priceTicks = priceTicks;
    } else {
      this.quantity.copyWithin(0, this.head, this.tail);
      this.priceTicks.copyWithin(0, this.head, this.tail);
    }
    this.head = 0;
    this.tail = live;
  }
}

/** Closed round trips as columns. */
export class ClosedTradeColumns {
  length = 0;
  symbolIndex = new Int32Array(256);
  /** 1 long, -1 short. */
  direction = new Int8Array(256);
  openUs = new Float64Array(256);
  closeUs = new Float64Array(256);
  quantity = new Float64Array(256);
  grossPnlCash = new Float64Array(256);
  feesCash = new Float64Array(256);

  push(symbolIndex: number, direction: number, openUs: number, closeUs: number, quantity: number, grossPnlCash: number, feesCash: number): void {
    const i = this.length;
    if (i === this.symbolIndex.length) this.grow();
    this.symbolIndex[i] = symbolIndex;
    this.direction[i] = direction;
    this.openUs[i] = openUs;
    this.closeUs[i] = closeUs;
    this.quantity[i] = quantity;
    this.grossPnlCash[i] = grossPnlCash;
    this.feesCash[i] = feesCash;
    this.length = i + 1;
  }

  private grow(): void {
    const capacity = this.symbolIndex.length * 2;
    this.symbolIndex = grown(this.symbolIndex, capacity);
    this.direction = grown(this.direction, capacity);
    this.openUs = grown(this.openUs, capacity);
    this.closeUs = grown(this.closeUs, capacity);
    this.quantity = grown(this.quantity, capacity);
    this.grossPnlCash = grown(this.grossPnlCash, capacity);
    this.feesCash = grown(this.feesCash, capacity);
  }
}

export class Portfolio {
  readonly initialCash: number;
  readonly scales: readonly InstrumentScales[];
  // Initialised here (and set in the constructor): a field declared without a value starts as undefined and
  // ends up tagged, so that every double stored in it is a new heap number and every read checks for a Smi.
  cashCash = -0;
  feesCash = 0;
  /** Realized PnL before fees, in cash units. */
  realizedGrossCash = 0;
  /** Signed position per symbol, in lots. */
  readonly position: Float64Array;
  /** Last mark price per symbol in ticks (NaN before the first). */
  readonly markTicks: Float64Array;
  /** Sum over symbols of position * mark * cashPerTickLot. */
  // -0, not 0: a field that starts as a small integer and later holds fractions or large values can end up
  // boxed, one heap number per store; a double from the start stays a double in place.
  positionValueCash = -0;
  /** Number of symbols with a nonzero position. */
  openPositionCount = 0;
  readonly trades = new ClosedTradeColumns();
  private readonly lots: LotQueue[];
  private readonly cashPerTickLot: Float64Array;
  // The open trade per symbol (direction 0: none).
  private readonly openDirection: Int8Array;
  private readonly openUs: Float64Array;
  private readonly openMaxQuantity: Float64Array;
  private readonly openGrossPnlCash: Float64Array;
  private readonly openFeesCash: Float64Array;
  private readonly materializedTrades: ClosedTrade[] = [];

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
    this.openDirection = new Int8Array(n);
    this.openUs = new Float64Array(n);
    this.openMaxQuantity = new Float64Array(n);
    this.openGrossPnlCash = new Float64Array(n);
    this.openFeesCash = new Float64Array(n);
  }

  /** Closed round trips as objects, in the order they closed (built on first read after new trades). */
  get closedTrades(): readonly ClosedTrade[] {
    const t = this.trades;
    for (let i = this.materializedTrades.length; i < t.length; i++) {
      this.materializedTrades.push({
        symbol: this.scales[t.symbolIndex[i]].instrument.symbol,
        direction: t.direction[i] > 0 ? 'long' : 'short',
        openUs: t.openUs[i],
        closeUs: t.closeUs[i],
        quantity: t.quantity[i],
        grossPnlCash: t.grossPnlCash[i],
        feesCash: t.feesCash[i],
        pnlCash: t.grossPnlCash[i] - t.feesCash[i],
      });
    }
    return this.materializedTrades;
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
      for (let i = queue.head; i < queue.tail; i++) {
        total += sign * queue.quantity[i] * (this.markTicks[s] - queue.priceTicks[i]) * this.cashPerTickLot[s];
      }
    }
    return total;
  }

  averagePriceTicks(symbolIndex: number): number {
    const queue = this.lots[symbolIndex];
    let quantity = 0;
    let notional = 0;
    for (let i = queue.head; i < queue.tail; i++) {
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
    return this.applySignedFill(symbolIndex, side === 'buy' ? 1 : -1, quantity, priceTicks, feeCash, timeUs);
  }

  /** `applyFill` with the side as a sign: 1 buy, -1 sell. */
  applySignedFill(symbolIndex: number, sign: number, quantity: number, priceTicks: number, feeCash: number, timeUs: number): number {
    if (!(Number.isSafeInteger(quantity) && quantity > 0)) invariantFailed(`fill quantity must be a positive integer of lots, found ${quantity}`);
    if (!(Number.isSafeInteger(priceTicks) && priceTicks > 0)) invariantFailed(`fill price must be positive integer ticks, found ${priceTicks}`);
    if (!(Number.isSafeInteger(feeCash) && feeCash >= 0)) invariantFailed(`fee must be non-negative integer cash, found ${feeCash}`);
    const cpt = this.cashPerTickLot[symbolIndex];
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
      while (remaining > 0 && queue.head < queue.tail) {
        const lotQuantity = queue.quantity[queue.head];
        const take = lotQuantity <= remaining ? lotQuantity : remaining;
        realized += -sign * take * (priceTicks - queue.priceTicks[queue.head]) * cpt;
        if (take === lotQuantity) queue.head++;
        else queue.quantity[queue.head] = lotQuantity - take;
        remaining -= take;
      }
    }
    if (queue.head === queue.tail) queue.head = queue.tail = 0;
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

  private trackTrade(s: number, before: number, after: number, quantity: number, realized: number, feeCash: number, timeUs: number, openedQuantity: number): void {
    const flips = before !== 0 && after !== 0 && Math.sign(before) !== Math.sign(after);
    // The fee of a flipping fill is split by quantity between the closing and the opening part.
    const closingFee = flips ? Math.round((feeCash * (quantity - openedQuantity)) / quantity) : feeCash;
    if (this.openDirection[s] === 0) {
      this.openDirection[s] = after > 0 ? 1 : -1;
      this.openUs[s] = timeUs;
      this.openMaxQuantity[s] = 0;
      this.openGrossPnlCash[s] = 0;
      this.openFeesCash[s] = 0;
    }
    this.openGrossPnlCash[s] += realized;
    this.openFeesCash[s] += closingFee;
    if (after === 0 || flips) {
      this.trades.push(s, this.openDirection[s], this.openUs[s], timeUs, Math.max(this.openMaxQuantity[s], Math.abs(before)), this.openGrossPnlCash[s], this.openFeesCash[s]);
      if (flips) {
        this.openDirection[s] = after > 0 ? 1 : -1;
        this.openUs[s] = timeUs;
        this.openMaxQuantity[s] = Math.abs(after);
        this.openGrossPnlCash[s] = 0;
        this.openFeesCash[s] = feeCash - closingFee;
      } else {
        this.openDirection[s] = 0;
      }
      return;
    }
    this.openMaxQuantity[s] = Math.max(this.openMaxQuantity[s], Math.abs(after));
  }

  /**
   * Checks the ledger identity: equity - initial = realized + unrealized - fees, and each position equals
   * the sum of its lots. Throws on a broken invariant.
   */
  assertConsistent(): void {
    for (let s = 0; s < this.position.length; s++) {
      const queue = this.lots[s];
      let lots = 0;
      for (let i = queue.head; i < queue.tail; i++) lots += queue.quantity[i];
      if (!(lots === Math.abs(this.position[s]))) invariantFailed(`symbol ${s}: lots ${lots} != |position| ${Math.abs(this.position[s])}`);
    }
    const lhs = this.equityCashValue() - this.initialCash;
    const rhs = this.realizedGrossCash + this.unrealizedCash() - this.feesCash;
    if (!(lhs === rhs)) invariantFailed(`ledger identity broken: equity - initial ${lhs} != realized + unrealized - fees ${rhs}`);
  }
}
