// Lease tokens for real deployments: random and unguessable, so no other process can own our lease by accident.
import { randomBytes } from 'node:crypto';
import type { TokenSource } from './lock-store.ts';

export class CryptoTokenSource implements TokenSource {
  private readonly prefix: string;

  constructor(prefix = 'leader') {
    this.prefix = prefix;
  }

  nextToken(): string {
    return `${this.prefix}-${randomBytes(16).toString('hex')}`;
  }
}
