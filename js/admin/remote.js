// `tokengate keys fetch`: a remote issuer's keys (jwksUri, discovery) fetched into its KV
// document now, the way the worker's cron does, so every isolate starts from them. The rules
// (URL, discovery, key checks, max-age) are the core's; this moves bytes between fetch and KV.
import { fetchRemoteKeys, remoteKeys } from '../store.js';
import { UsageError } from './context.js';
import { plural, shown } from '../cli/text.js';

/**
 * A remote issuer's keys fetched into its KV document (`remote:<issuer>`) now, as the cron does:
 * KV's copy first (its ETag, its keys kept on a bad answer), then the provider; the document is
 * written either way, so health and every isolate see the outcome. Exit 1 when no keys came.
 */
export async function fetchKeys(admin, v) {
  const issuer = admin.issuer(v.issuer);
  if (issuer.jwks !== undefined)
    throw new UsageError(
      `${issuer.issuer} keeps its keys in KV (${issuer.jwks}); keys fetch is for issuers with jwksUri or discovery: true`,
    );
  const key = remoteKeys.kvKey(issuer.issuer);
  const text = await admin.kv.get(key);
  let set;
  let note = '';
  try {
    // Opened for the configured source: a copy fetched from another is ignored, as by the worker.
    set = remoteKeys.open(issuer.issuer, text, issuer.jwksUri ?? null);
  } catch (e) {
    set = remoteKeys.open(issuer.issuer, null, issuer.jwksUri ?? null);
    note = ` (the stored copy was unreadable: ${e.message})`;
  }
  const source = issuer.jwksUri !== undefined ? { issuer: issuer.issuer, jwksUri: issuer.jwksUri } : { issuer: issuer.issuer };
  const { failure, fetches } = await fetchRemoteKeys(set, source, { policy: admin.config.remoteKeys });
  await admin.audit('keys.fetch', { issuer: issuer.issuer, ok: failure === null, ...(failure && { reason: failure.reason }) });
  await admin.kv.put(key, set.toJSON());
  const s = JSON.parse(set.summary(Date.now(), admin.config.kidCooldown, admin.config.keysMaxStale));
  const json = { issuer: issuer.issuer, key, ok: failure === null, error: failure, fetches, ...s };
  const kept = s.keys ? `; ${plural(s.keys, 'key')} kept (${shown(s.kids.join(', '))})` : '; no keys held';
  const text2 = failure
    ? `fetch of ${issuer.issuer} failed: ${failure.reason}: ${failure.message}${kept}${note}`
    : `fetched ${issuer.issuer} into ${key} from ${s.source}: ${plural(s.keys, 'key')} (${shown(s.kids.join(', '))})` +
      `${s.skipped.length ? `, ${s.skipped.length} skipped` : ''}; max-age ${s.maxAge} s, next refresh in ${s.nextRefreshSeconds} s; ${plural(fetches, 'fetch', 'fetches')}${note}`;
  return { json, text: text2, code: failure ? 1 : 0 };
}
