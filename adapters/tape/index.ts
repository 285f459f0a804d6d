// Tick tapes: Arrow IPC stream files written batch by batch and read back up to the last complete batch.
export { TapeRecorder, type RecorderOptions } from './tape-recorder.ts';
export { openTape, readTape, type Tape, type TapeInfo } from './read-tape.ts';
export { tapeSchema, TAPE_COLUMNS } from './tape-format.ts';
export { tapeToCatalog } from './tape-to-catalog.ts';
