// Public face of the Alpaca fake.
export { AlpacaFake, isoFromUs, type AlpacaFakeFaults, type AlpacaFakeInjectedFault, type AlpacaFakeOptions } from './alpaca-fake.ts';
export { DefaultAlpacaMatcher, type AlpacaMatcher, type MatcherFill, type MatcherOrder, type MatcherTrade, type MatchResult } from './default-matcher.ts';
export { FakeMarketDataStream, rfc3339OfUs, type AlpacaFakeMarketDataFaults, type AlpacaFakeMarketDataOptions, type AlpacaFakeMarketItem } from './market-data-stream.ts';
export { fakeMarketDataFromCatalog, fakeMarketDataFromGenerator, fakeMarketDataFromTape, type FakeMarketData } from './market-data-source.ts';
export { SeededRandom } from './seeded-random.ts';
