// RFC 6238 TOTP codes (HMAC-SHA1, 30 s, 6 digits) from a base32 secret, computed with Node's
// crypto, so the MFA steps need no extra package and do not share the server's code.
'use strict';

const crypto = require('node:crypto');

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32Decode(text) {
  let bits = 0;
  let value = 0;
  const out = [];
  for (const char of text.replace(/=+$/, '').toUpperCase()) {
    const index = ALPHABET.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${text}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The time step of now (or of `millis`). */
const stepOf = (millis = Date.now()) => Math.floor(millis / 30000);

/** The code of `secret` at time step `step`. */
function totp(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const hash = crypto.createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = hash[hash.length - 1] & 0x0f;
  const value = hash.readUInt32BE(offset) & 0x7fffffff;
  return String(value % 1000000).padStart(6, '0');
}

/** A code none of the steps around now accepts. */
function wrongTotp(secret) {
  const now = stepOf();
  const valid = new Set([-2, -1, 0, 1, 2].map((d) => totp(secret, now + d)));
  for (let n = 0; ; n += 1) {
    const code = String((n * 7919 + 123457) % 1000000).padStart(6, '0');
    if (!valid.has(code)) return code;
  }
}

module.exports = { totp, stepOf, wrongTotp };
