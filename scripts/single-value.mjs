// Copies a wasm module with "multivalue" removed from its target_features section, so that
// wasm-bindgen keeps results that travel through memory instead of rewriting most exports into
// functions with multi-value results (86 of the edge module's 137, in 40 signatures). V8
// (Node 20) compiles a wrapper per such signature when the module is compiled, as its generic
// JS-to-wasm wrapper takes one result only: in a fresh process that was about half of the
// module's compile + instantiate time.
// The section only describes the module (rustc's standard library lists the feature; nothing
// here returns multiple values), so the code is untouched.
// Usage: node scripts/single-value.mjs IN.wasm OUT.wasm
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** A cursor over `bytes` that reads LEB128 numbers (`u`) and skips bytes (`skip`). */
export function reader(bytes, at = 0) {
  const r = {
    at,
    u() {
      let n = 0;
      let shift = 0;
      let b;
      do {
        b = bytes[r.at++];
        n |= (b & 0x7f) << shift;
        shift += 7;
      } while (b & 0x80);
      return n >>> 0;
    },
    skip(n) {
      r.at += n;
    },
  };
  return r;
}

/** The module's sections: `{ id, start, body, end }` (byte offsets; `body` after the size). */
export function* sections(bytes) {
  const r = reader(bytes, 8);
  while (r.at < bytes.length) {
    const start = r.at;
    const id = bytes[r.at++];
    const size = r.u();
    yield { id, start, body: r.at, end: r.at + size };
    r.at += size;
  }
}

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

function singleValue(bytes) {
  const parts = [bytes.subarray(0, 8)];
  let found = false;
  for (const { id, start, body, end } of sections(bytes)) {
    let kept = bytes.subarray(start, end);
    const r = reader(bytes, body);
    const nameLength = id === 0 ? r.u() : 0;
    if (id === 0 && bytes.toString('utf8', r.at, r.at + nameLength) === 'target_features') {
      found = true;
      r.skip(nameLength);
      const header = bytes.subarray(body, r.at);
      const entries = [];
      for (let n = r.u(); n > 0; n--) {
        const at = r.at;
        r.skip(1); // prefix: '+' used, '-' disallowed, '=' required
        const length = r.u();
        const feature = bytes.toString('utf8', r.at, r.at + length);
        r.skip(length);
        if (feature !== 'multivalue') entries.push(bytes.subarray(at, r.at));
      }
      const payload = Buffer.concat([header, leb(entries.length), ...entries]);
      kept = Buffer.concat([Buffer.from([0]), leb(payload.length), payload]);
    }
    parts.push(kept);
  }
  if (!found) throw new Error('no target_features section');
  return Buffer.concat(parts);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [input, output] = process.argv.slice(2);
  writeFileSync(output, singleValue(readFileSync(input)));
}
