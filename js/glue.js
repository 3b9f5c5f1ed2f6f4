// The wasm-bindgen glue of the module this runtime loaded, installed by its entry before any
// call: the full module (pkg/) in Node, the edge module (pkg-edge/) in workerd and browsers.
// js/core.js reads it through this live binding, so one core.js serves either glue.
export let wasm = null;

export function setGlue(glue) {
  wasm = glue;
}
