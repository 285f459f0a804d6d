// The lost-journal invariants, over the broker's ground truth recorded at each of the bot's orders and at the end.
import type { Invariant, Violation } from '../framework/scenario.ts';
import { RESUME_US_MAX, type LostJournalTruth } from './model.ts';

const uniqueIds: Invariant<LostJournalTruth> = {
  name: 'unique-client-order-ids',
  describe: 'the broker never refuses an order of the run for a client order id it has seen',
  check(_history, truth) {
    return {
      checked: truth.submits.length,
      violations: truth.submits.filter((fact) => fact.duplicateId).map((fact): Violation => ({
        invariant: 'unique-client-order-ids', message: `${fact.clientOrderId} refused: ${fact.message}`, timeUs: fact.timeUs,
      })),
    };
  },
};

const knowsPosition: Invariant<LostJournalTruth> = {
  name: 'knows-broker-position',
  describe: 'whenever the bot sends an order, and at the end, it believes the position the broker holds',
  check(_history, truth) {
    const violations: Violation[] = truth.submits.filter((fact) => fact.believedPosition !== fact.brokerPosition).map((fact) => ({
      invariant: 'knows-broker-position', message: `${fact.clientOrderId} (${fact.side}) sent believing position ${fact.believedPosition}, broker held ${fact.brokerPosition}`, timeUs: fact.timeUs,
    }));
    if (truth.believedPositionAtEnd !== truth.brokerPositionAtEnd) {
      violations.push({ invariant: 'knows-broker-position', message: `at the end the bot believed ${truth.believedPositionAtEnd}, broker held ${truth.brokerPositionAtEnd}`, timeUs: truth.endUs });
    }
    return { violations, checked: truth.submits.length + 1 };
  },
};

const knowsWorking: Invariant<LostJournalTruth> = {
  name: 'knows-working-orders',
  describe: 'whenever the bot sends an order, and at the end, every order of the run working at the broker is one it knows',
  check(_history, truth) {
    const violations: Violation[] = truth.submits.filter((fact) => fact.unknownWorking.length > 0).map((fact) => ({
      invariant: 'knows-working-orders', message: `${fact.clientOrderId} sent while ${fact.unknownWorking.join(', ')} worked at the broker unknown to the bot`, timeUs: fact.timeUs,
    }));
    if (truth.unknownWorkingAtEnd.length > 0) {
      violations.push({ invariant: 'knows-working-orders', message: `at the end ${truth.unknownWorkingAtEnd.join(', ')} worked at the broker unknown to the bot`, timeUs: truth.endUs });
    }
    return { violations, checked: truth.submits.length + 1 };
  },
};

const runsAgain: Invariant<LostJournalTruth> = {
  name: 'runs-again',
  describe: `after each death of its process the bot runs again within ${RESUME_US_MAX / 1_000_000} s (a fix that never starts again is no fix)`,
  check(_history, truth) {
    const judged = truth.outages.filter((outage) => outage.timeUs + RESUME_US_MAX <= truth.endUs);
    const violations = judged.filter((outage) => outage.restartedUs === null || outage.restartedUs > outage.timeUs + RESUME_US_MAX)
      .map((outage): Violation => ({
        invariant: 'runs-again', timeUs: outage.timeUs,
        message: `the bot died (${outage.kind}) at ${outage.timeUs / 1_000_000} s and ${outage.restartedUs === null ? 'never ran again' : `ran again only at ${outage.restartedUs / 1_000_000} s`}`,
      }));
    return { violations, checked: judged.length };
  },
};

export const lostJournalInvariants: readonly Invariant<LostJournalTruth>[] = [uniqueIds, knowsPosition, knowsWorking, runsAgain];
