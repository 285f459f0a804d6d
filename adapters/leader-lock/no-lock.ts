// Single-process mode: there is no other instance to contend with, so this process always leads, epoch 0.
import type { LeadershipPort } from './leader-lock.ts';

export class NoLock implements LeadershipPort {
  start(): void {}
  async stop(): Promise<void> {}
  isLeader(): boolean {
    return true;
  }
  epoch(): number {
    return 0;
  }
}
