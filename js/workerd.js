// Package entry `tokengate` (`workerd` and `worker` conditions), for Cloudflare Workers such as
// the edge worker in worker/. The API is js/core.js, the same in every runtime.
// workerd entry: the edge module (pkg-edge/: RSA/ECDSA/EdDSA signatures by WebCrypto), imported
// precompiled, because workerd will not compile wasm from bytes.
import module from '../pkg-edge/tokengate_bg.wasm';
import * as glue from '../pkg-edge/tokengate.js';
import { setGlue } from './glue.js';
import { edgeGlue } from './edge-glue.js';

glue.initSync({ module });
setGlue(edgeGlue(glue));

export * from './core.js';
export { RemoteJwks, remoteJwks } from './remote.js';
