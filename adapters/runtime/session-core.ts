// The part of a paper or live session that must behave identically when it runs, when a restart recovers it from
// its journal, and when `sim replay --session` checks it: the engine, the outbound gate (only the leader sends;
// every intent carries the fencing epoch: submits in their request, cancels and modifies in their record), and the
// application of inbound records. Whatever the gate refuses is answered by a synthetic report that is
// regenerated, never journaled, so replays see it too.
//
// A market record journaled `venueFirst` (an in-process venue saw it before the engine) is held until its
// `apply-market` record, so the engine sees the venue's reports about it first, as it does live. An `adopt`
// record (a takeover, see SessionRunner) goes to the engine's adoption methods.
import {
  Engine, SimError, type BarColumns, type EngineConfig, type ExecutionPort, type ExecutionReport, type OrderChanges,
  type OrderRequest, type Strategy, type TickColumns, type VenueCapabilities,
} from '../../engine/index.ts';
import type { InboundRecord, MarketRecord, OutboundRecord } from './session-records.ts';

/** Where approved intents go: the journal and the venue when live, a list when replaying. */
export type OutboundHandler = (record: OutboundRecord) => void;

export class SessionCore implements ExecutionPort {
  readonly engine: Engine;
  readonly capabilities: VenueCapabilities;
  leader: boolean;
  private readonly synthetic: ExecutionReport[] = [];
  private readonly bar: BarColumns;
  private readonly tick: TickColumns;
  private started = false;
  private applying = false;
  /** A `venueFirst` market record waiting for its `apply-market` (null: none). */
  heldMarket: MarketRecord | null = null;

  constructor(config: EngineConfig, strategy: Strategy, capabilities: VenueCapabilities, private outbound: OutboundHandler, options: { leader: boolean; epoch: number }) {
    this.capabilities = capabilities;
    this.engine = new Engine(config, strategy);
    this.engine.connect(this, null);
    this.engine.epoch = options.epoch;
    this.leader = options.leader;
    this.bar = {
      kind: 'bars', length: 1, intervalUs: 60_000_000, symbolIndex: new Int32Array(1), startUs: new Float64Array(1), open: new Float64Array(1),
      high: new Float64Array(1), low: new Float64Array(1), close: new Float64Array(1), volume: new Float64Array(1),
    };
    this.tick = { kind: 'ticks', length: 1, symbolIndex: new Int32Array(1), timeUs: new Float64Array(1), price: new Float64Array(1), size: new Float64Array(1), bid: new Float64Array(1), ask: new Float64Array(1) };
  }

  /** Swap where approved intents go (replay -> live after a recovery). */
  redirect(outbound: OutboundHandler): void {
    this.outbound = outbound;
  }

  // ExecutionPort, seen by the engine.
  submit(request: OrderRequest): void {
    if (!this.leader) {
      this.synthetic.push({ type: 'rejected', clientOrderId: request.clientOrderId, code: 'NOT_LEADER', reason: 'expected to hold the leader lock to send orders, found it not held', timeUs: this.engine.nowUs() });
      return;
    }
    this.outbound({ k: 'submit', t: this.engine.nowUs(), r: request });
  }

  cancel(clientOrderId: string): void {
    if (!this.leader) {
      this.synthetic.push({ type: 'cancel-rejected', clientOrderId, code: 'NOT_LEADER', reason: 'expected to hold the leader lock to cancel, found it not held', timeUs: this.engine.nowUs() });
      return;
    }
    this.outbound({ k: 'cancel', t: this.engine.nowUs(), id: clientOrderId, epoch: this.engine.epoch });
  }

  modify(clientOrderId: string, changes: OrderChanges): void {
    if (!this.leader) {
      this.synthetic.push({ type: 'modify-rejected', clientOrderId, code: 'NOT_LEADER', reason: 'expected to hold the leader lock to modify, found it not held', timeUs: this.engine.nowUs() });
      return;
    }
    this.outbound({ k: 'modify', t: this.engine.nowUs(), id: clientOrderId, c: changes, epoch: this.engine.epoch });
  }

  /** Apply one inbound record (already journaled when live), then any synthetic reports it caused. */
  apply(record: InboundRecord): void {
    if (this.applying) throw new SimError('SESSION_REENTRANT', `expected records to be applied one at a time, found ${record.k} during another`);
    this.applying = true;
    try {
      const engine = this.engine;
      if (!this.started) {
        engine.start(record.k === 'bar' ? record.st : record.t);
        this.started = true;
      }
      if ((record.k === 'bar' || record.k === 'tick') && record.venueFirst === true) {
        if (this.heldMarket !== null) throw new SimError('SESSION_MARKET_UNAPPLIED', `expected an apply-market record after the venue-first ${this.heldMarket.k} at ${this.heldMarket.t}, found another ${record.k} at ${record.t}`);
        this.heldMarket = record;
        return;
      }
      if (record.k === 'apply-market') {
        const held = this.heldMarket;
        if (held === null) throw new SimError('SESSION_MARKET_MISSING', `expected a venue-first market record before apply-market at ${record.t}, found none`);
        this.heldMarket = null;
        this.applyToEngine(held);
      } else {
        this.applyToEngine(record);
      }
      // Reports the gate made up (refusals while not leader) apply right after what caused them.
      for (let guard = 0; this.synthetic.length > 0; guard++) {
        if (guard > 10_000) throw new SimError('SESSION_SYNTHETIC_LOOP', 'expected refusals to settle, found more than 10000 in a row');
        engine.onReport(this.synthetic.shift()!);
      }
    } finally {
      this.applying = false;
    }
  }

  private applyToEngine(record: Exclude<InboundRecord, { k: 'apply-market' }>): void {
    const engine = this.engine;
    switch (record.k) {
      case 'bar': {
        const b = this.bar;
        b.symbolIndex[0] = record.s; b.startUs[0] = record.st; b.open[0] = record.o; b.high[0] = record.h; b.low[0] = record.l; b.close[0] = record.c; b.volume[0] = record.v;
        (b as { intervalUs: number }).intervalUs = record.i;
        engine.processBars(b);
        break;
      }
      case 'tick': {
        const k = this.tick;
        k.symbolIndex[0] = record.s; k.timeUs[0] = record.t; k.price[0] = record.p; k.size[0] = record.q; k.bid![0] = record.b ?? NaN; k.ask![0] = record.a ?? NaN;
        engine.processTicks(k);
        break;
      }
      case 'report':
        engine.advanceTo(Math.max(record.t, engine.nowUs()));
        engine.onReport(record.r);
        break;
      case 'timer':
        engine.advanceTo(record.t);
        break;
      case 'leader':
        engine.advanceTo(Math.max(record.t, engine.nowUs()));
        this.leader = record.leader;
        if (record.leader) engine.epoch = record.epoch;
        engine.log.append(engine.nowUs(), 'leadership', { leader: record.leader, epoch: record.epoch, reason: record.reason });
        break;
      case 'protect':
        engine.advanceTo(Math.max(record.t, engine.nowUs()));
        engine.createOrder({ symbolIndex: record.s, side: engine.portfolio.position[record.s] > 0 ? 'sell' : 'buy', type: 'stop', quantity: record.q, timeInForce: 'gtc', reduceOnly: true, stopPriceTicks: record.stop, role: 'stop-loss', skipRisk: true });
        break;
      case 'stop':
        engine.advanceTo(Math.max(record.t, engine.nowUs()));
        engine.log.append(engine.nowUs(), 'session.stopping', { reason: record.reason });
        engine.risk.state = 'reducing';
        engine.risk.stateReason = `stopping: ${record.reason}`;
        break;
      case 'adopt':
        // Positions first (they hold the adopted orders' fills so far), then the orders, then the id sequence.
        engine.advanceTo(Math.max(record.t, engine.nowUs()));
        for (const position of record.positions) engine.adoptPosition(position.s, position.q, position.p, record.reason);
        for (const order of record.orders) engine.adoptOrder(order.r, {
          status: order.status, filledQuantity: order.filled, filledNotionalTickLots: order.notional, venueOrderId: order.venueId, role: order.role,
        });
        engine.resumeOrderSequence(record.sequence);
        break;
    }
  }
}
