// Copies a wasm module with "multivalue" removed from its target_features section, so that
// wasm-bindgen keeps results that travel through memory instead of rewriting about 40 exports
// into functions with a multi-value signature each. V8 (Node 20) compiles a wrapper per such
// signature when the module is compiled, as its generic JS-to-wasm wrapper takes one result
// only: in a fresh process that was about half of the module's compile + instantiate time.
// The section only describes the module (rustc's standard library lists the feature; nothing
// here returns multiple values), so the code is untouched.
// Usage: node scripts/single-value.mjs IN.wasm OUT.wasm
import { readFileSync, writeFileSync } from 'node:fs';

const [input, output] = process.argv.slice(2);
const bytes = readFileSync(input);
const leb = (n) => {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return Buffer.from(out);
};
let p = 8;
const read = () => {
  let r = 0;
  let s = 0;
  let b;
  do {
    b = bytes[p++];
    r |= (b & 0x7f) << s;
    s += 7;
  } while (b & 0x80);
  return r >>> 0;
};
const parts = [bytes.subarray(0, 8)];
let found = false;
while (p < bytes.length) {
  const start = p;
  const id = bytes[p++];
  const len = read();
  const body = p;
  const end = p + len;
  let kept = bytes.subarray(start, end);
  if (id === 0) {
    const nameLen = read();
    const name = bytes.toString('utf8', p, p + nameLen);
    p += nameLen;
    if (name === 'target_features') {
      found = true;
      const header = bytes.subarray(body, p);
      const count = read();
      const entries = [];
      for (let i = 0; i < count; i++) {
        const at = p;
        p++; // prefix: '+' used, '-' disallowed, '=' required
        const l = read();
        const feature = bytes.toString('utf8', p, p + l);
        p += l;
        if (feature !== 'multivalue') entries.push(bytes.subarray(at, p));
      }
      const payload = Buffer.concat([header, leb(entries.length), ...entries]);
      kept = Buffer.concat([Buffer.from([0]), leb(payload.length), payload]);
    }
  }
  parts.push(kept);
  p = end;
}
if (!found) throw new Error(`${input}: no target_features section`);
writeFileSync(output, Buffer.concat(parts));
