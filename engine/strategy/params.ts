// Strategy definitions and parameter validation. A definition names its parameters with types, defaults and
// bounds; `--param k=v` strings are checked against it and a bad one is refused with which and why.
import { SimError } from '../errors.ts';
import type { Strategy } from './strategy.ts';

export type ParamSpec =
  | { readonly type: 'integer'; readonly default: number; readonly min?: number; readonly max?: number; readonly describe: string }
  | { readonly type: 'number'; readonly default: number; readonly min?: number; readonly max?: number; readonly describe: string }
  | { readonly type: 'boolean'; readonly default: boolean; readonly describe: string }
  | { readonly type: 'choice'; readonly default: string; readonly choices: readonly string[]; readonly describe: string };

export type ParamValues = Record<string, number | boolean | string>;

export interface StrategyDefinition {
  readonly name: string;
  readonly describe: string;
  readonly params: Readonly<Record<string, ParamSpec>>;
  /** Cross-parameter checks (e.g. fast < slow); return a message when invalid. */
  readonly check?: (params: ParamValues) => string | null;
  create(params: ParamValues): Strategy;
}

function bounds(spec: { min?: number; max?: number }): string {
  if (spec.min !== undefined && spec.max !== undefined) return ` between ${spec.min} and ${spec.max}`;
  if (spec.min !== undefined) return ` >= ${spec.min}`;
  if (spec.max !== undefined) return ` <= ${spec.max}`;
  return '';
}

/** Validate raw parameters (strings from the CLI, or typed values) against a definition. */
export function resolveParams(definition: StrategyDefinition, raw: Readonly<Record<string, unknown>>): ParamValues {
  const values = resolveParamValues(definition, raw);
  const problem = definition.check?.(values);
  if (problem) throw new SimError('STRATEGY_BAD_PARAM', `${definition.name}: ${problem}`);
  return values;
}

/** resolveParams without the strategy's check of the values together: each value's type and range only. */
export function resolveParamValues(definition: StrategyDefinition, raw: Readonly<Record<string, unknown>>): ParamValues {
  const values: ParamValues = {};
  for (const key of Object.keys(raw)) {
    if (!Object.hasOwn(definition.params, key)) {
      const known = Object.keys(definition.params).join(', ');
      throw new SimError('STRATEGY_BAD_PARAM', `expected a parameter of ${definition.name} (${known}), found '${key}'`);
    }
  }
  for (const [key, spec] of Object.entries(definition.params)) {
    const input = raw[key];
    if (input === undefined) {
      values[key] = spec.default;
      continue;
    }
    const text = String(input).trim();
    const bad = (expected: string): SimError => new SimError('STRATEGY_BAD_PARAM', `--param ${key}: expected ${expected}, found '${text}'`);
    switch (spec.type) {
      case 'integer':
      case 'number': {
        const value = typeof input === 'number' ? input : text === '' ? NaN : Number(text);
        const kind = spec.type === 'integer' ? 'an integer' : 'a number';
        if (!Number.isFinite(value) || (spec.type === 'integer' && !Number.isInteger(value))) throw bad(`${kind}${bounds(spec)}`);
        if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) throw bad(`${kind}${bounds(spec)}`);
        values[key] = value;
        break;
      }
      case 'boolean': {
        if (typeof input === 'boolean') values[key] = input;
        else if (['true', '1', 'yes'].includes(text)) values[key] = true;
        else if (['false', '0', 'no'].includes(text)) values[key] = false;
        else throw bad('true or false');
        break;
      }
      case 'choice': {
        if (!spec.choices.includes(text)) throw bad(`one of ${spec.choices.join(', ')}`);
        values[key] = text;
        break;
      }
    }
  }
  return values;
}

/** Parse repeated `k=v` strings into a record, refusing malformed ones. */
export function parseParamPairs(pairs: readonly string[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new SimError('STRATEGY_BAD_PARAM', `expected --param key=value, found '${pair}'`);
    result[pair.slice(0, at).trim()] = pair.slice(at + 1);
  }
  return result;
}
