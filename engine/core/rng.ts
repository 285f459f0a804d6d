// Seeded randomness: xoshiro128** streams seeded through splitmix32. `child(name)` derives an independent
// stream from the parent seed and the name, so adding a consumer never shifts another consumer's draws.
import type { Rng } from '../types.ts';

/** splitmix32: a stream of well-mixed 32-bit words from one seed word (used to seed xoshiro128**). */
export function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** FNV-1a over a string's UTF-16 code units, for deriving child seeds from names. */
export function hashString32(text: string, seed = 0x811c9dc5): number {
  let hash = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/**
 * The xoshiro128** generator on four 32-bit state words: 32-bit integer arithmetic only, so a state gives the same
 * numbers on every machine. The seeded generators here and in the adapters and scenarios are built on it; each
 * seeds it its own way and keeps its own resolution of `next()`, so their recorded streams stay as they were.
 */
export class Xoshiro128 {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(a: number, b: number, c: number, d: number) {
    this.a = a >>> 0;
    this.b = b >>> 0;
    this.c = c >>> 0;
    this.d = d >>> 0;
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** 32 random bits. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }
}

/** The four state words splitmix32 gives for a seed (the engine's and the scenarios' seeding). */
export function seedWords(seed: number): [number, number, number, number] {
  const mix = splitmix32(seed);
  return [mix(), mix(), mix(), mix()];
}

export class SeededRng extends Xoshiro128 implements Rng {
  readonly seed: number;

  constructor(seed: number) {
    super(...seedWords(seed));
    this.seed = seed >>> 0;
  }

  next(): number {
    // 53 random bits -> [0, 1)
    const high = this.nextUint32() >>> 5;
    const low = this.nextUint32() >>> 6;
    return (high * 67108864 + low) / 9007199254740992;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal by Box-Muller (one draw per call, the pair's second value discarded for simplicity). */
  normal(): number {
    let u = this.next();
    while (u === 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  child(name: string): SeededRng {
    return new SeededRng(hashString32(name, this.seed ^ 0x9e3779b9));
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
