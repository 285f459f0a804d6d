// A small seeded generator for scenarios: xoshiro128** seeded through splitmix32, implementing the engine's
// Rng port. Named children derive independent streams from the parent seed and the name, so adding a new
// consumer does not shift the numbers any other consumer sees.
import type { Rng } from '../../engine/types.ts';

const UINT32_RANGE = 4_294_967_296;

function splitMix32(state: { value: number }): number {
  state.value = (state.value + 0x9e3779b9) | 0;
  let z = state.value;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function hashName(name: string): number {
  // FNV-1a over UTF-16 code units: stable across platforms.
  let hash = 0x811c9dc5;
  for (let index = 0; index < name.length; index += 1) {
    hash ^= name.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export class SeededRandom implements Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private readonly seedValue: number;

  constructor(seed: number) {
    this.seedValue = seed >>> 0;
    const state = { value: this.seedValue };
    this.s0 = splitMix32(state);
    this.s1 = splitMix32(state);
    this.s2 = splitMix32(state);
    this.s3 = splitMix32(state);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** The next raw 32-bit output of xoshiro128**. */
  nextUint32(): number {
    const result = Math.imul(rotateLeft(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotateLeft(this.s3, 11);
    return result;
  }

  next(): number {
    return this.nextUint32() / UINT32_RANGE;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Integer uniform in [low, high]. */
  between(low: number, high: number): number {
    return low + this.int(high - low + 1);
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  child(name: string): SeededRandom {
    return new SeededRandom((this.seedValue ^ hashName(name)) + Math.imul(hashName(name), 0x27d4eb2d));
  }
}

function rotateLeft(value: number, bits: number): number {
  return (value << bits) | (value >>> (32 - bits));
}
