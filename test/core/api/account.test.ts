// The account's quota key (pure): the GCID once known, else a hash of the trimmed client ID that never shows the
// client ID itself; and the client an account wires up counts its calls under that key.
import assert from 'assert';
import { accountKey, createAccount, type Transport } from '../../../src/core';

// SHA-256 of "abc" (FIPS 180-2's first example): ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.
const ABC_KEY = 'client-ba7816bf8f01cfea';

/** A network that must not be used: building an account and reading its key call nothing. */
const noNetwork: Transport = {
  request: () => Promise.reject(new Error('no call expected')),
};
const noSleep = () => Promise.resolve();

describe('core account', function () {
  describe('accountKey', () => {
    it('is the GCID when one is known', () => {
      assert.strictEqual(accountKey('abc', 'gcid-4711'), 'gcid-4711');
    });

    it('without a GCID: "client-" and the first 16 hex digits of the SHA-256 of the trimmed client ID', () => {
      assert.strictEqual(accountKey('abc'), ABC_KEY);
      assert.strictEqual(accountKey('  abc\n'), ABC_KEY, 'blanks around the client ID do not make another account');
      assert.strictEqual(accountKey('abc', ''), ABC_KEY, 'an empty GCID is none');
      assert.notStrictEqual(accountKey('abd'), ABC_KEY);
      assert.ok(!accountKey('a-secret-client-id').includes('secret'), 'the client ID is never shown');
    });
  });

  describe('createAccount', () => {
    it("its client counts under the GCID of the account's tokens", () => {
      const { client, tokens } = createAccount({
        clientId: 'abc',
        transport: noNetwork,
        sleep: noSleep,
        tokens: { accessToken: 'access', refreshToken: 'refresh', gcid: 'gcid-4711', expiresAt: Date.now() + 3_600_000 },
      });
      assert.strictEqual(tokens.gcid, 'gcid-4711');
      assert.strictEqual(client.accountId, 'gcid-4711');
    });

    it('without a GCID its client counts under the hash of the client ID', () => {
      const { client } = createAccount({ clientId: ' abc ', transport: noNetwork, sleep: noSleep });
      assert.strictEqual(client.accountId, ABC_KEY);
    });
  });
});
