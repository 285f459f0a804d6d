// Public face of the Alpaca adapter package.
export { AlpacaVenue, ALPACA_CAPABILITIES, type AlpacaVenueOptions, type VenueAccountSnapshot, type VenueClockSnapshot, type VenueOrderSnapshot, type VenuePositionSnapshot } from './alpaca-venue.ts';
export { AlpacaMarketData, alpacaDataStreamUrl, type AlpacaMarketDataChannel, type AlpacaMarketDataOptions, type AlpacaMarketDataStats } from './alpaca-market-data.ts';
export { ALPACA_EQUITY_PRICE_SCALE, alpacaEquityInstruments, barRecordOf, priceTicksOf, quantityLotsOf, tickRecordOf, timeUsOfRfc3339 } from './alpaca-market-records.ts';
export { MarketRecordGate, type MarketDropReason } from './market-record-gate.ts';
export { decimalToScaled, scaledToDecimal } from './decimal-units.ts';
export { TokenBucket, type TokenBucketOptions } from './token-bucket.ts';
export type * from './alpaca-wire.ts';
export type * from './alpaca-data-wire.ts';
