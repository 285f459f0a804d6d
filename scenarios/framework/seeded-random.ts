// A small seeded generator for scenarios, implementing the engine's Rng port: the engine's xoshiro128** core and
// seeding (splitmix32), with 32-bit resolution. Named children derive independent streams from the parent seed
// and the name, so adding a new consumer does not shift the numbers any other consumer sees.
import { Xoshiro128, seedWords } from '../../engine/core/rng.ts';
import type { Rng } from '../../engine/types.ts';

const UINT32_RANGE = 4_294_967_296;

function hashName(name: string): number {
  // FNV-1a over UTF-16 code units: stable across platforms.
  let hash = 0x811c9dc5;
  for (let index = 0; index < name.length; index += 1) {
    hash ^= name.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export class SeededRandom extends Xoshiro128 implements Rng {
  private readonly seedValue: number;

  constructor(seed: number) {
    super(...seedWords(seed >>> 0));
    this.seedValue = seed >>> 0;
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
