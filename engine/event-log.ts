// The ordered event log of a run and its digest. Events are appended in the order the engine acts; each has a
// sequence number, the engine time and a flat record of fields whose key order is fixed by the code that writes
// it, so the canonical line of an event (and the digest over all lines) is identical on every run, process, time
// zone and locale. Numbers are integers (ticks, lots, cash units, microseconds) or exact decimals, printed the
// way JSON.stringify prints them, which does not depend on the locale.
//
// Storage is columnar, so a long run keeps no object per event: the engine's own events are written through a
// schema (a type name and typed fields) as numbers into one arena (strings interned in a StringTable, order ids as
// handles, the simulated venue's ids as their numbers); other events (a strategy's log lines, the runtime's
// records) keep their field record. Event objects are built only when someone reads them, and the digest is
// computed from the columns, printing each line exactly as JSON.stringify([sequence, timeUs, type, fields])
// would.
import { createHash } from 'node:crypto';
import type { StringTable } from './core/string-table.ts';

export type EventValue = string | number | boolean | null;

export interface EngineEvent {
  readonly sequence: number;
  readonly timeUs: number;
  readonly type: string;
  readonly fields: Readonly<Record<string, EventValue>>;
}

/** How a schema field's number in the arena becomes its value. */
export type FieldKind =
  | 'number'
  /** NaN: null. */
  | 'number?'
  /** An interned string. */
  | 'string'
  /** An interned string; -1: null. */
  | 'string?'
  /** 0 or 1. */
  | 'boolean'
  /** An order handle, printed as its client order id. */
  | 'order'
  /** An order handle; -1: null. */
  | 'order?'
  /** A number after a fixed prefix: 'V' + 12. */
  | `prefixed:${string}`;

/** Client order ids of order handles. */
export interface OrderIds {
  /** Ids are `${prefix}-${handle + 1}` unless `exceptional`. */
  readonly prefix: string;
  /** True once some id is not `${prefix}-${handle + 1}`. */
  readonly exceptional: boolean;
  clientOrderId(handle: number): string;
}

export interface EventSchema {
  readonly type: string;
  readonly fields: readonly (readonly [name: string, kind: FieldKind])[];
}

const K_NUMBER = 0;
const K_NUMBER_OR_NULL = 1;
const K_STRING = 2;
const K_STRING_OR_NULL = 3;
const K_BOOLEAN = 4;
const K_ORDER = 5;
const K_ORDER_OR_NULL = 6;
const K_PREFIXED = 7;

interface CompiledSchema {
  readonly type: string;
  readonly typeJson: string;
  readonly names: readonly string[];
  /** `"name":` per field, for printing. */
  readonly keysJson: readonly string[];
  readonly kinds: Int32Array;
  readonly prefixes: readonly string[];
}

function compile(schema: EventSchema): CompiledSchema {
  const kinds = new Int32Array(schema.fields.length);
  const prefixes: string[] = [];
  schema.fields.forEach(([, kind], i) => {
    prefixes.push('');
    switch (kind) {
      case 'number': kinds[i] = K_NUMBER; break;
      case 'number?': kinds[i] = K_NUMBER_OR_NULL; break;
      case 'string': kinds[i] = K_STRING; break;
      case 'string?': kinds[i] = K_STRING_OR_NULL; break;
      case 'boolean': kinds[i] = K_BOOLEAN; break;
      case 'order': kinds[i] = K_ORDER; break;
      case 'order?': kinds[i] = K_ORDER_OR_NULL; break;
      default:
        kinds[i] = K_PREFIXED;
        prefixes[i] = kind.slice('prefixed:'.length);
    }
  });
  return {
    type: schema.type, typeJson: JSON.stringify(schema.type), names: schema.fields.map(([name]) => name),
    keysJson: schema.fields.map(([name]) => `${JSON.stringify(name)}:`), kinds, prefixes,
  };
}

/** JSON.stringify of a finite number or of NaN/Infinity (null), without the call. */
function numberJson(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

/** Events and arena values are stored in blocks of this many, so growing never copies. */
const BLOCK_BITS = 16;
const BLOCK = 1 << BLOCK_BITS;
const BLOCK_MASK = BLOCK - 1;

export class EventLog {
  private readonly timeBlocks: Float64Array[] = [];
  /** Schema index per event, or -1 for an event with its own field record. */
  private readonly schemaBlocks: Int32Array[] = [];
  /** Arena offset (schema events) or index into `records` (the others). */
  private readonly offsetBlocks: Int32Array[] = [];
  private times = new Float64Array(0);
  private schemaOf = new Int32Array(0);
  private offsetOf = new Int32Array(0);
  private eventCount = 0;
  /** The arena block being written; write at the offset `begin` returns, then `commit`. */
  values = new Float64Array(0);
  private readonly valueBlocks: Float64Array[] = [];
  /** Next free value in the current block; BLOCK when there is none. */
  private used = BLOCK;
  private readonly schemas: CompiledSchema[] = [];
  private readonly widths: number[] = [];
  private readonly records: { readonly type: string; readonly fields: Readonly<Record<string, EventValue>> }[] = [];
  private readonly materialized: EngineEvent[] = [];
  /** Listeners see every event as it is appended (journals, live metrics, session recorders). */
  private readonly listeners: ((event: EngineEvent) => void)[] = [];
  private orderIdPrefix = '';
  private orderIdPrefixJson = '';
  private ids: OrderIds | null = null;

  constructor(readonly strings: StringTable) {}

  get length(): number {
    return this.eventCount;
  }

  /**
   * How order handles print: `${prefix}-${handle + 1}`, or, once `ids` says some depart from that (a live
   * runtime adopted or resumed ids), through `ids`.
   */
  setOrderIds(ids: OrderIds): void {
    this.orderIdPrefix = `${ids.prefix}-`;
    this.orderIdPrefixJson = JSON.stringify(this.orderIdPrefix).slice(0, -1);
    this.ids = ids;
  }

  private orderId(handle: number): string {
    return this.ids !== null && this.ids.exceptional ? this.ids.clientOrderId(handle) : this.orderIdPrefix + (handle + 1);
  }

  private orderIdJson(handle: number): string {
    return this.ids !== null && this.ids.exceptional ? JSON.stringify(this.ids.clientOrderId(handle)) : `${this.orderIdPrefixJson}${handle + 1}"`;
  }

  define(schema: EventSchema): number {
    this.schemas.push(compile(schema));
    this.widths.push(schema.fields.length);
    return this.schemas.length - 1;
  }

  /** Start an event of a schema; write its values to `values[offset + field]`, then call `commit`. */
  begin(schema: number, timeUs: number): number {
    const n = this.eventCount;
    const slot = n & BLOCK_MASK;
    if (slot === 0) this.addEventBlock();
    const width = this.widths[schema];
    if (this.used + width > BLOCK) this.addValueBlock();
    const offset = this.used;
    this.times[slot] = timeUs;
    this.schemaOf[slot] = schema;
    this.offsetOf[slot] = ((this.valueBlocks.length - 1) << BLOCK_BITS) | offset;
    this.used = offset + width;
    this.eventCount = n + 1;
    return offset;
  }

  /** The event begun last is complete. */
  commit(): void {
    if (this.listeners.length > 0) this.notify(this.eventCount - 1);
  }

  /** An event with its own field record (rare events, strategy logs, runtime records). */
  append(timeUs: number, type: string, fields: Record<string, EventValue>): void {
    const n = this.eventCount;
    const slot = n & BLOCK_MASK;
    if (slot === 0) this.addEventBlock();
    this.times[slot] = timeUs;
    this.schemaOf[slot] = -1;
    this.offsetOf[slot] = this.records.length;
    this.records.push({ type, fields });
    this.eventCount = n + 1;
    if (this.listeners.length > 0) this.notify(n);
  }

  private addEventBlock(): void {
    this.times = new Float64Array(BLOCK);
    this.schemaOf = new Int32Array(BLOCK);
    this.offsetOf = new Int32Array(BLOCK);
    this.timeBlocks.push(this.times);
    this.schemaBlocks.push(this.schemaOf);
    this.offsetBlocks.push(this.offsetOf);
  }

  private addValueBlock(): void {
    this.values = new Float64Array(BLOCK);
    this.valueBlocks.push(this.values);
    this.used = 0;
  }

  /** Time of event `index` (0-based). */
  timeAt(index: number): number {
    return this.timeBlocks[index >>> BLOCK_BITS][index & BLOCK_MASK];
  }

  private schemaAt(index: number): number {
    return this.schemaBlocks[index >>> BLOCK_BITS][index & BLOCK_MASK];
  }

  private offsetAt(index: number): number {
    return this.offsetBlocks[index >>> BLOCK_BITS][index & BLOCK_MASK];
  }

  private valueAt(offset: number): number {
    return this.valueBlocks[offset >>> BLOCK_BITS][offset & BLOCK_MASK];
  }

  subscribe(listener: (event: EngineEvent) => void): void {
    this.listeners.push(listener);
  }

  private notify(index: number): void {
    const event = this.event(index);
    for (const listener of this.listeners) listener(event);
  }

  /** Every event so far, in order (built on first read after new appends). */
  get events(): readonly EngineEvent[] {
    for (let i = this.materialized.length; i < this.eventCount; i++) this.materialized.push(this.build(i));
    return this.materialized;
  }

  private event(index: number): EngineEvent {
    return index < this.materialized.length ? this.materialized[index] : this.build(index);
  }

  /** Event `index` (0-based) as an object, built for this read unless `events` already holds it. */
  eventAt(index: number): EngineEvent {
    if (!(index >= 0 && index < this.eventCount)) throw new RangeError(`expected an event index in [0, ${this.eventCount}), found ${index}`);
    return this.event(index);
  }

  typeAt(index: number): string {
    const schema = this.schemaAt(index);
    return schema < 0 ? this.records[this.offsetAt(index)].type : this.schemas[schema].type;
  }

  count(type: string): number {
    let n = 0;
    for (let i = 0; i < this.eventCount; i++) if (this.typeAt(i) === type) n++;
    return n;
  }

  private build(index: number): EngineEvent {
    const schemaIndex = this.schemaAt(index);
    const timeUs = this.timeAt(index);
    if (schemaIndex < 0) {
      const record = this.records[this.offsetAt(index)];
      return { sequence: index + 1, timeUs, type: record.type, fields: record.fields };
    }
    const schema = this.schemas[schemaIndex];
    const offset = this.offsetAt(index);
    const fields: Record<string, EventValue> = {};
    for (let f = 0; f < schema.names.length; f++) fields[schema.names[f]] = this.valueOf(schema, f, this.valueAt(offset + f));
    return { sequence: index + 1, timeUs, type: schema.type, fields };
  }

  private valueOf(schema: CompiledSchema, field: number, value: number): EventValue {
    switch (schema.kinds[field]) {
      case K_NUMBER: return value;
      case K_NUMBER_OR_NULL: return Number.isNaN(value) ? null : value;
      case K_STRING: return this.strings.get(value);
      case K_STRING_OR_NULL: return value < 0 ? null : this.strings.get(value);
      case K_BOOLEAN: return value === 1;
      case K_ORDER: return this.orderId(value);
      case K_ORDER_OR_NULL: return value < 0 ? null : this.orderId(value);
      default: return schema.prefixes[field] + value;
    }
  }

  /** The canonical line of event `index`: JSON.stringify([sequence, timeUs, type, fields]). */
  line(index: number): string {
    const schemaIndex = this.schemaAt(index);
    if (schemaIndex < 0) {
      const record = this.records[this.offsetAt(index)];
      return JSON.stringify([index + 1, this.timeAt(index), record.type, record.fields]);
    }
    const schema = this.schemas[schemaIndex];
    const offset = this.offsetAt(index);
    let text = `[${index + 1},${numberJson(this.timeAt(index))},${schema.typeJson},{`;
    for (let f = 0; f < schema.names.length; f++) {
      if (f > 0) text += ',';
      text += schema.keysJson[f];
      const value = this.valueAt(offset + f);
      switch (schema.kinds[f]) {
        case K_NUMBER: text += numberJson(value); break;
        case K_NUMBER_OR_NULL: text += Number.isNaN(value) ? 'null' : numberJson(value); break;
        case K_STRING: text += this.stringJson(value); break;
        case K_STRING_OR_NULL: text += value < 0 ? 'null' : this.stringJson(value); break;
        case K_BOOLEAN: text += value === 1 ? 'true' : 'false'; break;
        case K_ORDER: text += this.orderIdJson(value); break;
        case K_ORDER_OR_NULL: text += value < 0 ? 'null' : this.orderIdJson(value); break;
        default: text += JSON.stringify(schema.prefixes[f] + value);
      }
    }
    return `${text}}]`;
  }

  private readonly stringJsonCache: string[] = [];

  private stringJson(index: number): string {
    const cached = this.stringJsonCache[index];
    if (cached !== undefined) return cached;
    for (let i = this.stringJsonCache.length; i <= index; i++) this.stringJsonCache.push(JSON.stringify(this.strings.get(i)));
    return this.stringJsonCache[index];
  }

  /** sha256 over the canonical lines of all events, hex. */
  digest(): string {
    const hash = createHash('sha256');
    // Lines are hashed in batches: one update call per line costs more than the hashing itself.
    let batch = '';
    for (let i = 0; i < this.eventCount; i++) {
      batch += `${this.line(i)}\n`;
      if (batch.length > 65_536) {
        hash.update(batch);
        batch = '';
      }
    }
    hash.update(batch);
    return hash.digest('hex');
  }

}

export function canonicalLine(event: EngineEvent): string {
  return JSON.stringify([event.sequence, event.timeUs, event.type, event.fields]);
}
