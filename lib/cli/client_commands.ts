/**
 * The JWT client's commands, as entries of the command table: keygen, sign, verify, and the
 * verifier probe. None of them serves; `commands.ts` puts them in the table.
 * @module
 */
import { keygen, sign, verify } from "./jwt.ts";
import { probe } from "./probe.ts";
import { type CommandSpec, JSON_OPTION } from "./spec.ts";
/** The JWT client commands, in the order the overview lists them. */
export const CLIENT_COMMANDS: readonly CommandSpec[] = [
  {
    name: "keygen",
    usage: "--out FILE [--alg ALG] [--format pem|jwk] [--force] [--upload URL]",
    summary: "write a new private key; prints its public JWK",
    about: "Writes a new private key to FILE (mode 0600) and prints its public JWK, whose kid is the key's\n" +
      'RFC 7638 thumbprint (the kid the server will publish after "keys import FILE"). With --upload URL\n' +
      "the key also goes to that server's admin API as its next key (token from ADMIN_TOKEN); --out may\n" +
      "then be left out, and the private key exists only on the server.",
    options: {
      out: {
        type: "string",
        short: "o",
        arg: "FILE",
        help: "where to write the private key (required without --upload)",
      },
      upload: { type: "string", arg: "URL", help: "send the key to the admin API of the server at URL" },
      json: { type: "boolean", help: "with --upload: print the server's answer as JSON" },
      alg: { type: "string", arg: "ALG", help: "RS256 (default, RSA 2048), PS256, ES256 or EdDSA" },
      format: {
        type: "string",
        arg: "pem|jwk",
        help: "PKCS#8 PEM (default) or a private JWK (default for *.json, *.jwk)",
      },
      force: { type: "boolean", help: "overwrite FILE if it exists" },
    },
    scope: null,
    run: keygen,
  },
  {
    name: "sign",
    usage: "--key FILE [options]",
    summary: "print a JWT signed with a key file",
    about: "Prints a compact JWT signed with the private key in FILE (PEM or JWK). Header: alg, kid,\n" +
      'typ "JWT". Claims: iat, exp (iat + ttl), jti, plus --issuer/--subject/--audience and --claims;\n' +
      '--claims wins over all of them (so {"exp": 1} makes an expired token).',
    options: {
      key: { type: "string", short: "k", arg: "FILE", help: "private key (required)" },
      kid: { type: "string", arg: "K", help: "header kid (default: the JWK's kid, else the key's thumbprint)" },
      alg: { type: "string", arg: "ALG", help: "RS256, PS256, ES256 or EdDSA (default: from the key)" },
      claims: { type: "string", arg: "JSON", help: "claims as a JSON object" },
      issuer: { type: "string", arg: "I", help: "iss claim" },
      subject: { type: "string", arg: "S", help: "sub claim" },
      audience: { type: "string", arg: "A", help: "aud claim" },
      ttl: { type: "string", arg: "DURATION", help: "lifetime, default 15m" },
    },
    scope: null,
    run: sign,
  },
  {
    name: "verify",
    usage: "TOKEN --jwks URL [options]",
    summary: "verify a JWT against a remote JWKS",
    about: "Fetches the JSON Web Key Set the way real consumers do (jose's remote key set: exactly 200,\n" +
      "redirects not followed, a timeout), verifies the signature and the claims, and prints the\n" +
      "claims. On failure prints one line saying why (expired, unknown kid, bad signature, wrong\n" +
      'issuer, no exp...) and exits 1. TOKEN "-" (or none) reads the token from stdin.',
    options: {
      ...JSON_OPTION,
      jwks: { type: "string", arg: "URL", help: "the key set, e.g. http://127.0.0.1:8080/.well-known/jwks.json" },
      issuer: { type: "string", arg: "I", help: "require iss = I" },
      audience: { type: "string", arg: "A", help: "require aud to contain A" },
      alg: { type: "string", arg: "ALG", help: "accept only this algorithm" },
      "clock-skew": { type: "string", arg: "DURATION", help: "tolerance on exp, nbf and iat, default 60s" },
      timeout: { type: "string", arg: "DURATION", help: "how long the JWKS may take, default 5s" },
      "no-require-exp": { type: "boolean", help: "accept a token without exp (one that never expires)" },
      "max-jwks-size": { type: "string", arg: "SIZE", help: "the largest key set read, default 1MiB" },
    },
    scope: null,
    positionals: ["TOKEN"],
    run: verify,
  },
  {
    name: "probe",
    usage: "URL [options]",
    summary: "prove that an API rejects forged tokens",
    about: "Signs a correct control token and 45 forged ones (alg none, RS256->HS256 confusion, embedded jwk,\n" +
      "jku/x5u, kid injection, ECDSA r = s = 0, expired, wrong aud/iss...) with this server's keys, sends\n" +
      "each to URL as a bearer token, one at a time, and reports which ones the API accepted. Exit 0: all\n" +
      "rejected; 1: a forged token was accepted (or not answered); 2: the control was refused or the\n" +
      "target is unreachable (check --issuer and --audience). See docs/probe.md.",
    options: {
      issuer: { type: "string", arg: "I", help: "the iss the target expects (default: this server's issuer)" },
      audience: { type: "string", arg: "A", help: "the aud the target expects (default: JWKS_AUDIENCE)" },
      method: { type: "string", arg: "M", help: "HTTP method of every request (default GET)" },
      header: { type: "string", multiple: true, arg: "'K: V'", help: "extra request header, repeatable" },
      body: { type: "string", arg: "B", help: "request body sent with every token" },
      "expect-status": { type: "string", arg: "N", help: "status of an accepted request (default 200)" },
      timeout: { type: "string", arg: "DURATION", help: "per-request timeout (default 5s)" },
      ...JSON_OPTION,
    },
    scope: "db",
    positionals: ["URL"],
    required: 1,
    run: probe,
  },
];
