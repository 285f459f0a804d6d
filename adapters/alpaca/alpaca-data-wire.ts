// Alpaca Market Data API v2 real-time stream (wss://stream.data.alpaca.markets/v2/{iex|sip}) wire shapes, shared by
// the adapter and the fake so both follow the same published protocol (docs: "WebSocket Stream", market data):
// - every server message is an array of frames, each with a type `T`;
// - control frames: `success` (msg "connected" on connect, "authenticated" after auth), `subscription` (the
//   channels now subscribed), `error` (code and msg, e.g. 402 auth failed, 406 connection limit exceeded);
// - data frames used here: `b` minute bars (t is the bar's start) and `t` trades;
// - client actions: `auth` (key, secret), `subscribe` / `unsubscribe` (channel -> symbols).
// Frames are JSON text by default and msgpack (binary, `t` as a msgpack timestamp) when the client connects with
// `Content-Type: application/msgpack`, as the official SDK does.

/** A minute bar. `t` is the bar's start (RFC 3339, UTC); prices and volume are numbers on the wire. */
export interface AlpacaBarWire {
  T: 'b';
  S: string;
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
  t: string;
  n: number;
  vw: number;
}

/** A trade print: id `i` (unique per exchange `x`), price `p`, size `s`, conditions `c`, tape `z`. */
export interface AlpacaTradeWire {
  T: 't';
  S: string;
  i: number;
  x: string;
  p: number;
  s: number;
  t: string;
  c: string[];
  z: string;
}

export interface AlpacaDataSuccessWire { T: 'success'; msg: 'connected' | 'authenticated' }
export interface AlpacaDataErrorWire { T: 'error'; code: number; msg: string }

export const ALPACA_DATA_CHANNELS = ['trades', 'quotes', 'bars', 'updatedBars', 'dailyBars', 'statuses', 'lulds', 'corrections', 'cancelErrors'] as const;
export type AlpacaDataChannel = (typeof ALPACA_DATA_CHANNELS)[number];

export type AlpacaDataSubscriptionWire = { T: 'subscription' } & Record<AlpacaDataChannel, string[]>;

export type AlpacaDataFrameWire = AlpacaBarWire | AlpacaTradeWire | AlpacaDataSuccessWire | AlpacaDataErrorWire | AlpacaDataSubscriptionWire;

/** Client actions. */
export interface AlpacaDataAuthWire { action: 'auth'; key: string; secret: string }
export type AlpacaDataSubscribeWire = { action: 'subscribe' | 'unsubscribe' } & Partial<Record<AlpacaDataChannel, string[]>>;

/** The stream's error codes (Alpaca's table; the SDK carries the same one as streaming.CONN_ERROR). */
export const ALPACA_DATA_ERRORS = {
  invalidSyntax: { code: 400, msg: 'invalid syntax' },
  notAuthenticated: { code: 401, msg: 'not authenticated' },
  authFailed: { code: 402, msg: 'auth failed' },
  alreadyAuthenticated: { code: 403, msg: 'already authenticated' },
  authTimeout: { code: 404, msg: 'auth timeout' },
  symbolLimitExceeded: { code: 405, msg: 'symbol limit exceeded' },
  connectionLimitExceeded: { code: 406, msg: 'connection limit exceeded' },
  slowClient: { code: 407, msg: 'slow client' },
  insufficientSubscription: { code: 409, msg: 'insufficient subscription' },
  internalError: { code: 500, msg: 'internal error' },
} as const;

/** Stock feeds of the v2 stream: the path's last part. */
export type AlpacaStockFeed = 'iex' | 'sip' | 'delayed_sip' | 'test';
export const ALPACA_DATA_STREAM_HOST = 'wss://stream.data.alpaca.markets';
