// Public face of the journal package: the append-only record journal and the versioned state file.
export { Journal, readAll, JOURNAL_HEADER, RECORD_BYTES_MAX, type JournalOptions, type JournalReadResult } from './journal.ts';
export {
  migrateState, readState, writeStateAtomic, STATE_VERSION,
  type PersistedOrder, type PersistedPosition, type PersistedSignal, type PersistedState,
} from './state-file.ts';
