import { createHash } from 'crypto';
import { opaqueToken, randomString } from './random';
import type { DeviceCodeState } from './types';

// Device codes of the GCDM device authorization grant (RFC 8628) with PKCE.

// No 0/O, 1/I/L: the user copies the code by hand.
const USER_CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';

export interface DeviceCodeRecord {
  deviceCode: string;
  userCode: string;
  clientId: string;
  codeChallenge: string;
  scope: string;
  expiresAt: number;
  /** Stored states; 'expired' is derived from the clock. */
  state: Exclude<DeviceCodeState, 'expired'>;
  forcedExpired: boolean;
  lastPollAt?: number;
}

export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

export class DeviceCodeStore {
  private readonly byDevice = new Map<string, DeviceCodeRecord>();
  private readonly byUser = new Map<string, DeviceCodeRecord>();
  private latest?: DeviceCodeRecord;
  autoApprove: boolean;

  constructor(
    private readonly now: () => number,
    private readonly ttlSec: number,
    autoApprove: boolean,
  ) {
    this.autoApprove = autoApprove;
  }

  issue(clientId: string, codeChallenge: string, scope: string): DeviceCodeRecord {
    let userCode = randomString(8, USER_CODE_ALPHABET);
    while (this.byUser.has(userCode)) userCode = randomString(8, USER_CODE_ALPHABET);
    const rec: DeviceCodeRecord = {
      deviceCode: opaqueToken(48),
      userCode,
      clientId,
      codeChallenge,
      scope,
      expiresAt: this.now() + this.ttlSec * 1000,
      state: this.autoApprove ? 'approved' : 'pending',
      forcedExpired: false,
    };
    this.byDevice.set(rec.deviceCode, rec);
    this.byUser.set(rec.userCode, rec);
    this.latest = rec;
    return rec;
  }

  byDeviceCode(deviceCode: string): DeviceCodeRecord | undefined {
    return this.byDevice.get(deviceCode);
  }

  /** Users type codes in any case; the alphabet is upper-case only. */
  byUserCode(userCode: string): DeviceCodeRecord | undefined {
    return this.byUser.get(userCode.trim().toUpperCase());
  }

  stateOf(rec: DeviceCodeRecord): DeviceCodeState {
    if (rec.state === 'used') return 'used';
    if (rec.forcedExpired || this.now() >= rec.expiresAt) return 'expired';
    return rec.state;
  }

  last(): { userCode: string; state: DeviceCodeState } | undefined {
    return this.latest ? { userCode: this.latest.userCode, state: this.stateOf(this.latest) } : undefined;
  }

  /** Approve or deny from the page or the test API. Throws when the code cannot take that decision. */
  decide(userCode: string, decision: 'approved' | 'denied'): DeviceCodeRecord {
    const rec = this.byUserCode(userCode);
    if (!rec) throw new Error('unknown user code');
    const state = this.stateOf(rec);
    if (state === decision) return rec;
    if (state !== 'pending') throw new Error(`user code is ${state}`);
    rec.state = decision;
    return rec;
  }

  expire(userCode: string): void {
    const rec = this.byUserCode(userCode);
    if (!rec) throw new Error('unknown user code');
    rec.forcedExpired = true;
  }
}
