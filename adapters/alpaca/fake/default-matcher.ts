// The fake's default fill rules, deliberately simple and venue-like: a trade print is the only thing that
// fills. Market orders fill at the next print; limit orders when a print crosses them (at the print, which is
// at or better than the limit); stops trigger when a print touches them and then fill like market (stop) or
// limit (stop-limit) orders; trailing stops track the best print (the high-water mark, hwm) and trigger a
// trail_price below it (above, for a buy) or trail_percent of it (Alpaca: stop = hwm * (1 - trail_percent/100)). A print's size is shared liquidity: orders
// take from it in arrival order and may fill partially. The engine owner can plug the project's own simulated
// matching in through the AlpacaMatcher interface.

export interface MatcherTrade {
  symbol: string;
  price: number;
  /** The price exactly as pushed, used verbatim as the fill price (no float round trip on the wire). */
  priceText: string;
  size: number;
  timeUs: number;
}

export interface MatcherOrder {
  id: string;
  side: 'buy' | 'sell';
  type: 'market' | 'limit' | 'stop' | 'stop_limit' | 'trailing_stop';
  remainingQuantity: number;
  limitPrice: number | null;
  stopPrice: number | null;
  trailPrice: number | null;
  /** A trailing stop's trail as a percentage of the high-water mark (Alpaca's trail_percent), or null. */
  trailPercent: number | null;
  /** Best price seen since a trailing stop started (high for sells, low for buys); null before the first print. */
  highWaterMark: number | null;
  triggered: boolean;
}

export interface MatcherFill {
  orderId: string;
  quantity: number;
  priceText: string;
}

export interface MatchResult {
  fills: MatcherFill[];
  /** Stops whose trigger this print touched (they stay working as market or limit orders). */
  triggered: string[];
  /** New high-water marks for trailing stops, by order id. */
  highWaterMarks: Array<{ orderId: string; highWaterMark: number }>;
}

export interface AlpacaMatcher {
  /** `working` is in arrival order and holds only active (not held) orders of the print's symbol. */
  onTrade(trade: MatcherTrade, working: readonly MatcherOrder[]): MatchResult;
}

export class DefaultAlpacaMatcher implements AlpacaMatcher {
  onTrade(trade: MatcherTrade, working: readonly MatcherOrder[]): MatchResult {
    const result: MatchResult = { fills: [], triggered: [], highWaterMarks: [] };
    let liquidity = trade.size;
    for (const order of working) {
      let triggered = order.triggered;
      let stopPrice = order.stopPrice;
      if (order.type === 'trailing_stop') {
        if (order.trailPrice === null && order.trailPercent === null) continue; // nothing to trail by: never triggers
        const previous = order.highWaterMark;
        const mark = previous === null ? trade.price : order.side === 'sell' ? Math.max(previous, trade.price) : Math.min(previous, trade.price);
        if (mark !== previous) result.highWaterMarks.push({ orderId: order.id, highWaterMark: mark });
        const offset = order.trailPrice !== null ? order.trailPrice : (mark * order.trailPercent!) / 100;
        stopPrice = order.side === 'sell' ? mark - offset : mark + offset;
      }
      const isStop = order.type === 'stop' || order.type === 'stop_limit' || order.type === 'trailing_stop';
      if (isStop && !triggered && stopPrice !== null) {
        const touched = order.side === 'buy' ? trade.price >= stopPrice : trade.price <= stopPrice;
        if (!touched) continue;
        triggered = true;
        result.triggered.push(order.id);
      }
      const limit = order.type === 'limit' || order.type === 'stop_limit' ? order.limitPrice : null;
      if (limit !== null && (order.side === 'buy' ? trade.price > limit : trade.price < limit)) continue;
      if (liquidity <= 0) continue;
      const quantity = Math.min(order.remainingQuantity, liquidity);
      liquidity -= quantity;
      result.fills.push({ orderId: order.id, quantity, priceText: trade.priceText });
    }
    return result;
  }
}
