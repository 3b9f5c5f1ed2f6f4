// The shared suite in Node: sync path = node:crypto, async path = WebCrypto.
import { test } from 'node:test';
import * as jose from 'jose';
import * as tg from 'tokengate';
import cases from '../suite/cases.js';
import { fixtures } from '../runtime/fixtures.mjs';

const fx = await fixtures();
for (const [name, fn] of cases) test(`node: ${name}`, () => fn({ tg, jose, fx }));
