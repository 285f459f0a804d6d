// Run analytics: the summary of a finished run.
export { summarizeRun, TRADING_DAYS_PER_YEAR, BARS_PER_TRADING_DAY } from './summarize-run.ts';
export type { RunSummary, RunSummaryInput, ReturnBasis } from './summarize-run.ts';
