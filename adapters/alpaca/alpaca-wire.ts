// Alpaca Trading API v2 wire shapes, as JSON on the wire (snake_case, decimals as strings). Shared by the
// adapter (what it reads) and the fake (what it writes), so both follow the same published protocol:
// https://docs.alpaca.markets/reference/postorder and the trade_updates stream (websocket /stream).

export type AlpacaOrderSide = 'buy' | 'sell';
export type AlpacaOrderType = 'market' | 'limit' | 'stop' | 'stop_limit' | 'trailing_stop';
export type AlpacaTimeInForce = 'day' | 'gtc' | 'opg' | 'cls' | 'ioc' | 'fok';
export type AlpacaOrderClass = '' | 'simple' | 'bracket' | 'oco' | 'oto';
export type AlpacaOrderStatus =
  | 'new' | 'partially_filled' | 'filled' | 'done_for_day' | 'canceled' | 'expired' | 'replaced'
  | 'pending_cancel' | 'pending_replace' | 'accepted' | 'pending_new' | 'accepted_for_bidding'
  | 'stopped' | 'rejected' | 'suspended' | 'calculated' | 'held';

export const ALPACA_TERMINAL_STATUSES: ReadonlySet<AlpacaOrderStatus> = new Set(['filled', 'canceled', 'expired', 'replaced', 'rejected', 'done_for_day']);

/** POST /v2/orders body. */
export interface AlpacaOrderRequestWire {
  symbol: string;
  qty?: string;
  notional?: string;
  side: AlpacaOrderSide;
  type: AlpacaOrderType;
  time_in_force: AlpacaTimeInForce;
  limit_price?: string;
  stop_price?: string;
  trail_price?: string;
  trail_percent?: string;
  extended_hours?: boolean;
  client_order_id?: string;
  order_class?: AlpacaOrderClass;
  take_profit?: { limit_price: string };
  stop_loss?: { stop_price: string; limit_price?: string };
}

/** PATCH /v2/orders/{id} body. */
export interface AlpacaReplaceRequestWire {
  qty?: string;
  time_in_force?: AlpacaTimeInForce;
  limit_price?: string;
  stop_price?: string;
  trail?: string;
  client_order_id?: string;
}

export interface AlpacaOrderWire {
  id: string;
  client_order_id: string;
  created_at: string;
  updated_at: string;
  submitted_at: string;
  filled_at: string | null;
  expired_at: string | null;
  canceled_at: string | null;
  failed_at: string | null;
  replaced_at: string | null;
  replaced_by: string | null;
  replaces: string | null;
  asset_id: string;
  symbol: string;
  asset_class: 'us_equity' | 'crypto';
  notional: string | null;
  qty: string | null;
  filled_qty: string;
  filled_avg_price: string | null;
  order_class: AlpacaOrderClass;
  order_type: AlpacaOrderType;
  type: AlpacaOrderType;
  side: AlpacaOrderSide;
  time_in_force: AlpacaTimeInForce;
  limit_price: string | null;
  stop_price: string | null;
  status: AlpacaOrderStatus;
  extended_hours: boolean;
  legs: AlpacaOrderWire[] | null;
  trail_percent: string | null;
  trail_price: string | null;
  hwm: string | null;
  position_intent?: string;
}

export type AlpacaTradeEvent =
  | 'new' | 'fill' | 'partial_fill' | 'canceled' | 'expired' | 'done_for_day' | 'replaced' | 'rejected'
  | 'pending_new' | 'stopped' | 'pending_cancel' | 'pending_replace' | 'calculated' | 'suspended'
  | 'order_replace_rejected' | 'order_cancel_rejected' | 'held';

/** The `data` of a trade_updates stream message. */
export interface AlpacaTradeUpdateWire {
  event: AlpacaTradeEvent;
  execution_id?: string;
  order: AlpacaOrderWire;
  timestamp: string;
  /** Fill events only: fill price and quantity, and the position after the fill. */
  price?: string;
  qty?: string;
  position_qty?: string;
}

export interface AlpacaPositionWire {
  asset_id: string;
  symbol: string;
  exchange: string;
  asset_class: 'us_equity' | 'crypto';
  avg_entry_price: string;
  qty: string;
  qty_available: string;
  side: 'long' | 'short';
  market_value: string;
  cost_basis: string;
  unrealized_pl: string;
  unrealized_plpc: string;
  current_price: string;
  lastday_price: string;
  change_today: string;
}

export interface AlpacaAccountWire {
  id: string;
  account_number: string;
  status: 'ACTIVE';
  currency: 'USD';
  cash: string;
  buying_power: string;
  equity: string;
  portfolio_value: string;
  long_market_value: string;
  short_market_value: string;
  pattern_day_trader: boolean;
  trading_blocked: boolean;
  transfers_blocked: boolean;
  account_blocked: boolean;
  shorting_enabled: boolean;
  multiplier: string;
  created_at: string;
}

export interface AlpacaClockWire {
  timestamp: string;
  is_open: boolean;
  next_open: string;
  next_close: string;
}

/** Alpaca's error envelope: `{ code, message }` with an 8-digit code whose first three digits are the HTTP status. */
export interface AlpacaErrorWire {
  code: number;
  message: string;
}
