// The part of the worker's decision that needs no KV data, shared with the DevTools extension
// (extension/verdict.js), so "what this worker would answer" is computed by the same calls the
// worker makes: which configured issuer checks a token, and the validator options it gets.
import * as tg from 'tokengate';

/**
 * The configured issuer whose validator checks `token`, among `only` (issuer names: a credential
 * that may be checked against those alone) when given: the core's choice (`chooseIssuer`), which
 * throws `issuer_not_allowed` for an `iss` that is none of them, before any key is read.
 */
export function issuerFor(config, token, only) {
  const candidates = only ? config.issuers.filter((i) => only.includes(i.issuer)) : config.issuers;
  const names = candidates.map((i) => i.issuer);
  return candidates[tg.chooseIssuer(token, names, { realm: config.realm })];
}

/** The `Validator` options (all but `keys` and `cache`) for an issuer and a route's token types. */
export function validatorOptions(config, issuer, tokenTypes) {
  return {
    issuer: issuer.issuer,
    audience: issuer.audience,
    leeway: issuer.leeway,
    maxLifetime: issuer.maxLifetime,
    tokenTypes: tokenTypes ?? issuer.tokenTypes,
    maxRevocationAge: config.maxRevocationAge,
    realm: config.realm,
    // Profiles (rfc9068) fill these in the core's configuration.
    ...(issuer.typ !== undefined && { typ: issuer.typ }),
    ...(issuer.requiredClaims !== undefined && { requiredClaims: issuer.requiredClaims }),
  };
}
