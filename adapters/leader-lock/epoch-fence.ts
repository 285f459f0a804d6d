// The broker-side half of fencing: remembers the newest epoch it has seen and refuses anything older, so a
// deposed leader that has not noticed yet cannot get an order through after its successor has.
export class EpochFence {
  private newestEpoch: number;

  constructor(newestEpochSeen = 0) {
    this.newestEpoch = newestEpochSeen;
  }

  /** True (and remembers it) when `epoch` is at least the newest seen; false for an older epoch. */
  accept(epoch: number): boolean {
    if (epoch < this.newestEpoch) return false;
    this.newestEpoch = epoch;
    return true;
  }

  newest(): number {
    return this.newestEpoch;
  }
}
