import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyEncryption, kekId, UnknownKekError } from './key-encryption.js';
import { generateSigningKeyMaterial } from './key-material.js';

describe('KeyEncryption', () => {
  const older = randomBytes(32);
  const newer = randomBytes(32);

  it('round-trips a private key and leaves no DER or PEM in the ciphertext', async () => {
    const { kid, privateKeyDer } = await generateSigningKeyMaterial();
    const encryption = new KeyEncryption([newer]);

    const { ciphertext, kekId: id } = encryption.encrypt(privateKeyDer, kid);

    expect(id).toBe(kekId(newer));
    expect(encryption.decrypt(ciphertext, kid, id)).toEqual(privateKeyDer);
    expect(ciphertext.includes(privateKeyDer.subarray(0, 26))).toBe(false);
    expect(ciphertext.toString('latin1')).not.toContain('PRIVATE KEY');
  });

  it('encrypts under the newest KEK and still decrypts under an older one', () => {
    const before = new KeyEncryption([older]).encrypt(Buffer.from('secret'), 'kid-1');
    const after = new KeyEncryption([newer, older]);

    expect(after.decrypt(before.ciphertext, 'kid-1', before.kekId)).toEqual(Buffer.from('secret'));
    expect(after.encrypt(Buffer.from('secret'), 'kid-2').kekId).toBe(kekId(newer));
  });

  it('names the missing KEK when none configured can decrypt', () => {
    const sealed = new KeyEncryption([older]).encrypt(Buffer.from('secret'), 'kid-1');

    expect(() => new KeyEncryption([newer]).decrypt(sealed.ciphertext, 'kid-1', sealed.kekId)).toThrow(UnknownKekError);
  });

  it('binds the ciphertext to its kid', () => {
    const encryption = new KeyEncryption([newer]);
    const sealed = encryption.encrypt(Buffer.from('secret'), 'kid-1');

    expect(() => encryption.decrypt(sealed.ciphertext, 'kid-2', sealed.kekId)).toThrow();
  });
});
