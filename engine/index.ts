// The engine's public face: what strategies, adapters and the CLI may import. Run analytics (summaries with
// mathjs, ~30 MB of heap and over a second to load) are a separate entry, engine/analytics/index.ts, loaded only
// by what summarizes a run.
export * from './types.ts';
export { SimError, isSimError, invariant, invariantFailed, InvariantError, type Result } from './errors.ts';
export { Engine, EquityCurve, type EngineConfig, type OrderSpec } from './engine.ts';
export { EventLog, canonicalLine, type EngineEvent, type EventValue } from './event-log.ts';
export { SimulatedVenue, DEFAULT_VENUE_OPTIONS, type SimulatedVenueOptions, type FillMode, type IntrabarPolicy, type LatencyModel, type VenueScheduler, type VenueListener } from './venue/simulated-venue.ts';
export { Portfolio, type ClosedTrade } from './portfolio/portfolio.ts';
export { RiskEngine, type RiskLimits, type TradingState, type RiskDenial, type RiskReasonCode } from './risk/risk-engine.ts';
export { Order, OrderBook, clientOrderSequence, canTransition, sideSign, oppositeSide, type OrderRole } from './orders/order.ts';
export { OrderTable } from './orders/order-table.ts';
export { StringTable } from './core/string-table.ts';
export { SeededRng, hashString32 } from './core/rng.ts';
export { SequentialIdSource } from './core/ids.ts';
export { EventQueue, type TaskRunner } from './core/event-queue.ts';
export { scalesOf, toTicks, fromTicks, formatScaled, formatCash, cashToCurrency, CASH_UNITS_PER_CURRENCY, type InstrumentScales } from './core/instruments.ts';
export {
  parseDate, formatDays, formatTimeUs, daysFromCivil, civilFromDays, weekdayOfDays, calendarFor, newYorkOffsetMinutes, localMinuteOfDay, localDay, usEquityCloseMinute,
  sessionCloseMinute, US_EQUITY_OPEN_MINUTE, US_EQUITY_CLOSE_MINUTE, US_EQUITY_EARLY_CLOSE_MINUTE, type TradingCalendar,
} from './core/time.ts';
export * from './strategy/strategy.ts';
export * from './strategy/params.ts';
export * from './indicators/index.ts';
