// Public face of the Alpaca fake.
export { AlpacaFake, isoFromUs, type AlpacaFakeFaults, type AlpacaFakeInjectedFault, type AlpacaFakeOptions } from './alpaca-fake.ts';
export { DefaultAlpacaMatcher, type AlpacaMatcher, type MatcherFill, type MatcherOrder, type MatcherTrade, type MatchResult } from './default-matcher.ts';
export { SeededRandom } from './seeded-random.ts';
