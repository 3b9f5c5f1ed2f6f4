// Package entry `tokengate` (`workerd` and `worker` conditions), for Cloudflare Workers such as
// the edge worker in worker/. The API is js/core.js, the same in every runtime.
// workerd entry: workerd will not compile wasm from bytes, so the module is imported precompiled.
import module from '../pkg/tokengate_bg.wasm';
import { initSync } from '../pkg/tokengate.js';

initSync({ module });

export * from './core.js';
