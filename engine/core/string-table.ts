// Interned strings: each distinct string gets a small integer, so that columns (the event log, the order table)
// hold numbers and the hot path never allocates or compares strings. Indices are assigned in first-seen order,
// which is deterministic because the engine is.

export class StringTable {
  private readonly indexOf = new Map<string, number>();
  private readonly values: string[] = [];

  get size(): number {
    return this.values.length;
  }

  intern(value: string): number {
    const known = this.indexOf.get(value);
    if (known !== undefined) return known;
    const index = this.values.length;
    this.values.push(value);
    this.indexOf.set(value, index);
    return index;
  }

  get(index: number): string {
    return this.values[index];
  }
}
