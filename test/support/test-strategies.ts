// Test-only strategies shared by runner children and the tests that check their journals (a journal replays only
// with the strategy that wrote it).
import { Strategy, type StrategyContext, type StrategyDefinition, type TickView } from '../../engine/index.ts';

/** Buys one bracket (stop 99.00, target 103.00) on the first tick it sees; nothing else. */
class BracketOnce extends Strategy {
  private placed = false;
  override onTick(ctx: StrategyContext, tick: TickView): void {
    if (this.placed) return;
    this.placed = true;
    ctx.bracket({ symbol: tick.symbol, side: 'buy', quantity: 10, entry: { type: 'market' }, stopLoss: 99, takeProfit: 103 });
  }
}

export const bracketOnce: StrategyDefinition = { name: 'test-bracket-once', describe: 'test only: one bracket on the first tick', params: {}, create: () => new BracketOnce() };

/**
 * Holds one bracketed long and manages it from what it sees, never from memory, so a runner that inherits the
 * position manages it the same way: flat with nothing working at or below 100.00, it buys 1 with a bracket (stop
 * 95.00, target 110.00); long at or above 102.00, it raises its stop to 100.00 (once); long at or above 105.00,
 * it cancels its exits and sells the position at market.
 */
class BracketHold extends Strategy {
  private raisedStopOf: string | null = null;
  override onTick(ctx: StrategyContext, tick: TickView): void {
    const symbol = tick.symbol;
    const position = ctx.portfolio.position(symbol);
    const open = ctx.openOrders(symbol);
    if (position === 0) {
      if (open.length === 0 && tick.price <= 100) ctx.bracket({ symbol, side: 'buy', quantity: 1, entry: { type: 'market' }, stopLoss: 95, takeProfit: 110 });
      return;
    }
    if (tick.price >= 105) {
      if (open.some((order) => order.role === 'plain' && order.side === 'sell')) return; // selling already
      ctx.cancelAll(symbol);
      ctx.market(symbol, 'sell', position);
      return;
    }
    const stop = open.find((order) => order.role === 'stop-loss');
    if (tick.price >= 102 && stop !== undefined && stop.stopPrice !== undefined && stop.stopPrice < 100 && this.raisedStopOf !== stop.clientOrderId) {
      this.raisedStopOf = stop.clientOrderId;
      ctx.modify(stop.clientOrderId, { stopPrice: 100 });
    }
  }
}

export const bracketHold: StrategyDefinition = { name: 'test-bracket-hold', describe: 'test only: one managed bracketed long', params: {}, create: () => new BracketHold() };
