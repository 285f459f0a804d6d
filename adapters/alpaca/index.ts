// Public face of the Alpaca adapter package.
export { AlpacaVenue, ALPACA_CAPABILITIES, type AlpacaVenueOptions, type VenueAccountSnapshot, type VenueClockSnapshot, type VenueOrderSnapshot, type VenuePositionSnapshot } from './alpaca-venue.ts';
export { decimalToScaled, scaledToDecimal } from './decimal-units.ts';
export { TokenBucket, type TokenBucketOptions } from './token-bucket.ts';
export type * from './alpaca-wire.ts';
