// A small seeded generator for synthetic data: the engine's xoshiro128** core, seeded through splitmix32 from the
// seed and a stream number. 32-bit integer arithmetic only, so the same seed gives the same numbers on every
// machine (no Math.random, no bigint).
import { Xoshiro128, splitmix32 } from '../../engine/core/rng.ts';

function streamWords(seed: number, stream: number): [number, number, number, number] {
  const mix = splitmix32((Math.floor(seed) ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0);
  return [mix(), mix(), mix(), mix() | 1];
}

export class SeededRandom extends Xoshiro128 {
  private spareNormal = Number.NaN;

  constructor(seed: number, stream = 0) {
    super(...streamWords(seed, stream));
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / 4_294_967_296;
  }

  /** Uniform in (0, 1]: safe under a logarithm. */
  nextOpen(): number {
    return (this.nextUint32() + 1) / 4_294_967_296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  exponential(): number {
    return -Math.log(this.nextOpen());
  }

  /** Standard normal by Box-Muller, two at a time. */
  normal(): number {
    if (!Number.isNaN(this.spareNormal)) {
      const spare = this.spareNormal;
      this.spareNormal = Number.NaN;
      return spare;
    }
    const radius = Math.sqrt(-2 * Math.log(this.nextOpen()));
    const angle = 2 * Math.PI * this.next();
    this.spareNormal = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }
}
