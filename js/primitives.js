// The synchronous signature primitive of this runtime, installed by its entry (Node only).
let sync = null;

export const syncPrimitive = () => sync;

export function setSyncPrimitive(p) {
  sync = p;
}
