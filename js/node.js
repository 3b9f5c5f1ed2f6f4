// Node entry: loads the wasm synchronously and checks RS/PS/ES/EdDSA signatures with node:crypto.
import { readFileSync } from 'node:fs';
import { initSync } from '../pkg/tokengate.js';
import { setSyncPrimitive } from './primitives.js';
import { nodePrimitive } from './node-crypto.js';

initSync({ module: readFileSync(new URL('../pkg/tokengate_bg.wasm', import.meta.url)) });
setSyncPrimitive(nodePrimitive);

export * from './core.js';
