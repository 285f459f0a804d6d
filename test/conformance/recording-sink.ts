// An ExecutionSink that records every report and lets a test wait for one, polling with a bound (for ports
// whose reports arrive over real I/O). Simulated harnesses may wait by running their scheduler instead.
import type { ExecutionReport, ExecutionSink } from '../../engine/types.ts';

const POLL_INTERVAL_MS = 5;

export class RecordingSink implements ExecutionSink {
  readonly reports: ExecutionReport[] = [];

  onReport(report: ExecutionReport): void {
    this.reports.push(report);
  }

  async waitFor(predicate: (report: ExecutionReport) => boolean, limitMs: number, what: string): Promise<ExecutionReport> {
    const polls = Math.ceil(limitMs / POLL_INTERVAL_MS);
    for (let poll = 0; poll <= polls; poll += 1) {
      const found = this.reports.find(predicate);
      if (found !== undefined) return found;
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
    throw new Error(`expected ${what} within ${limitMs} ms, found reports: ${JSON.stringify(this.reports.map((report) => `${report.type}:${report.clientOrderId}${'reason' in report ? ` (${report.reason})` : ''}`))}`);
  }
}
