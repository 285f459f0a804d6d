// The human-readable summary of a replay, with explicit number formatting (no locale).
import type { ReplayResult } from '../adapters/replay/run-replay.ts';

function money(value: number): string {
  const sign = value < 0 ? '-' : '';
  const [whole, fraction] = Math.abs(value).toFixed(2).split('.');
  return `${sign}${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${fraction}`;
}

function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(2)}%`;
}

export function formatSummary(result: ReplayResult, report: Record<string, unknown>): string {
  const s = result.summary;
  const denials = Object.entries(result.riskDenials);
  const artefacts = report.artefacts as { dir: string } | null;
  const rows: [string, string][] = [
    ['strategy', `${String(result.config.strategy)} ${JSON.stringify(result.config.params)}`],
    ['data', `${result.instruments.map((i) => i.symbol).join(', ')}; ${result.dates.length === 1 ? result.dates[0] : `${result.dates[0]}..${result.dates[result.dates.length - 1]} (${result.dates.length} days)`}; ${result.bars} bars${result.ticks ? `, ${result.ticks} ticks` : ''}`],
    ['closed trades', `${s.closedTrades} (win rate ${percent(s.winRate)}, ${s.winners} won, ${s.losers} lost)`],
    ['realized PnL', money(result.realizedPnl)],
    ['total PnL', `${money(result.totalPnl)} (return ${percent(s.returnFraction)})`],
    ['fees', money(result.fees)],
    ['max drawdown', `${money(s.maxDrawdownCash / 1e6)} (${percent(s.maxDrawdownFraction)})`],
    ['Sharpe / Sortino', `${s.sharpe.toFixed(3)} / ${s.sortino.toFixed(3)} (${s.returnBasis} returns, annualized)`],
    ['exposure', percent(s.exposureFraction)],
    ['risk denials', denials.length === 0 ? 'none' : denials.map(([code, count]) => `${code} ${count}`).join(', ')],
    ['run digest', result.runDigest],
    ['config / data', `${result.configHash.slice(0, 16)} / ${result.dataDigest.slice(0, 16)} (seed ${String(result.config.seed)})`],
    ['artefacts', artefacts ? artefacts.dir : 'not written'],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return `${rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n')}\n`;
}
