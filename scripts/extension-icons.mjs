// The extension's icons (16, 48, 128 px PNG), drawn here so no binary is committed: the
// favicon's padlock on blue. Usage: node scripts/extension-icons.mjs OUT-DIR
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const CRC = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** RGBA of pixel (x, y) in a 32-unit square, as the favicon draws it. */
function pixel(x, y) {
  const blue = [26, 86, 219, 255];
  const white = [255, 255, 255, 255];
  const r = 7;
  const cx = Math.min(Math.max(x, r), 32 - r);
  const cy = Math.min(Math.max(y, r), 32 - r);
  if ((x - cx) ** 2 + (y - cy) ** 2 > r * r) return [0, 0, 0, 0];
  const inBody = x >= 6 && x <= 26 && y >= 15 && y <= 28;
  const keyhole = (x - 16) ** 2 + (y - 21.5) ** 2 <= 6.25;
  const d = Math.hypot(x - 16, y - 11);
  const shackle = y <= 15 && ((y <= 11 && d >= 5.5 && d <= 8.5) || (y > 11 && ((x >= 7.5 && x <= 10.5) || (x >= 21.5 && x <= 24.5))));
  if (inBody) return keyhole ? blue : white;
  return shackle ? white : blue;
}

function png(size) {
  const rows = [];
  for (let y = 0; y < size; y++) {
    const row = [0];
    for (let x = 0; x < size; x++) row.push(...pixel(((x + 0.5) * 32) / size, ((y + 0.5) * 32) / size));
    rows.push(Buffer.from(row));
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const out = process.argv[2];
for (const s of [16, 48, 128]) writeFileSync(`${out}/icon-${s}.png`, png(s));
