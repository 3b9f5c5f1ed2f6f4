// Package entry `tokengate` (`node` condition), for Node applications and scripts, and the
// operator CLI (bin/, js/cli, js/admin). The API is js/core.js, the same in every runtime.
// Node entry: loads the full module (pkg/) synchronously and checks RS/PS/ES/EdDSA signatures
// with node:crypto.
import { readFileSync } from 'node:fs';
import * as glue from '../pkg/tokengate.js';
import { setGlue } from './glue.js';
import { setSyncPrimitive } from './primitives.js';
import { nodePrimitive } from './node-crypto.js';

glue.initSync({ module: readFileSync(new URL('../pkg/tokengate_bg.wasm', import.meta.url)) });
setGlue(glue);
setSyncPrimitive(nodePrimitive);

export * from './core.js';
export { RemoteJwks, remoteJwks } from './remote.js';
