// Package entry `tokengate` (`browser` and `default` conditions), for pages and bundlers (the
// inspector in www/ loads it). The API is js/core.js, the same in every runtime.
// Browser entry: fetches and instantiates the wasm next to the glue (top-level await).
import init from '../pkg/tokengate.js';

await init({ module_or_path: new URL('../pkg/tokengate_bg.wasm', import.meta.url) });

export * from './core.js';
