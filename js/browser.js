// Package entry `tokengate` (`browser` and `default` conditions), for pages and bundlers (the
// inspector in www/ loads it). The API is js/core.js, the same in every runtime.
// Browser entry: fetches and instantiates the edge module (pkg-edge/: RSA/ECDSA/EdDSA signatures
// by WebCrypto) next to its glue (top-level await).
import * as glue from '../pkg-edge/tokengate.js';
import { setGlue } from './glue.js';
import { edgeGlue } from './edge-glue.js';

await glue.default({ module_or_path: new URL('../pkg-edge/tokengate_bg.wasm', import.meta.url) });
setGlue(edgeGlue(glue));

export * from './core.js';
export { RemoteJwks, remoteJwks } from './remote.js';
