/**
 * The JWT client: `keygen` writes a new private key (mode 0600) and prints its public JWK,
 * `sign` prints a token signed with a key file (read at most 1 MiB), `verify` checks a token
 * against a remote JWKS the way real consumers fetch it (bounded, `exp` required). None of
 * them touches the server's database.
 * @module
 */
import { AppError } from "../core/errors.ts";
import {
  type Alg,
  ALGS,
  defaultAlgFor,
  generateKeyMaterial,
  importSigningKey,
  isAlg,
  materialFromJwk,
} from "../core/key_material.ts";
import { signClaims } from "../core/tokens.ts";
import { parseSize } from "../core/units.ts";
import { type KeyFileFormat, parsePrivateKey, privateKeyText } from "../keys/key_files.ts";
import { describeChange } from "../keys/key_reports.ts";
import { readInput } from "./files.ts";
import { remoteImport, remoteServer } from "./remote.ts";
import { type Command, type CommandIo, durationFlag, jsonText, requiredFlag, stringFlag, usage } from "./spec.ts";
import { JWKS_FAILURES, MAX_JWKS_BYTES, verifyRemote } from "./verify_remote.ts";

function algFlag(command: Command): Alg | undefined {
  const value = stringFlag(command, "alg");
  if (value === undefined) return undefined;
  if (!isAlg(value)) throw usage(command, `Invalid --alg "${value}": expected one of ${ALGS.join(", ")}`);
  return value;
}

/**
 * `keygen --out FILE`: a new private key, never readable by others even for a moment. With
 * `--upload URL` it is also sent to that server's admin API as its next key (then `--out` may
 * be left out, and the key exists only on the server).
 */
export async function keygen(command: Command, io: CommandIo): Promise<number> {
  const upload = stringFlag(command, "upload");
  const target = upload === undefined ? null : remoteServer(upload, io, "--upload");
  const out = target === null ? requiredFlag(command, "out", "FILE") : stringFlag(command, "out");
  const alg = algFlag(command) ?? "RS256";
  const formatFlag = stringFlag(command, "format");
  if (formatFlag !== undefined && formatFlag !== "pem" && formatFlag !== "jwk") {
    throw usage(command, `Invalid --format "${formatFlag}": expected pem or jwk`);
  }
  const format: KeyFileFormat = formatFlag ?? (/\.(json|jwk)$/i.test(out ?? "") ? "jwk" : "pem");
  const material = await (io.generate ?? generateKeyMaterial)(alg);
  const text = privateKeyText(material, format);
  if (out !== undefined) await writeKeyFile(command, out, text);
  if (target === null) {
    io.write(jsonText(material.publicJwk));
    return 0;
  }
  const report = await remoteImport(target, text, alg);
  if (command.flags.json === true) io.write(jsonText(report));
  else {
    io.write(`Uploaded ${report.kid} (${alg}) to ${target.base} as the next key to sign\n`);
    for (const change of report.changes) io.write(`${describeChange(change)}\n`);
  }
  return 0;
}

/** Writes a private key file with mode 0600 from the start; `--force` replaces one. */
async function writeKeyFile(command: Command, out: string, text: string): Promise<void> {
  try {
    if (command.flags.force === true) await Deno.remove(out).catch(() => {});
    await Deno.writeTextFile(out, text, { mode: 0o600, createNew: true });
    await Deno.chmod(out, 0o600);
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      throw new AppError("conflict", `"${out}" already exists; use --force to overwrite it`);
    }
    if (error instanceof Deno.errors.NotFound) {
      throw new AppError("not_found", `Cannot write "${out}": its directory does not exist`);
    }
    if (error instanceof Deno.errors.PermissionDenied) throw new AppError("forbidden", `Cannot write "${out}"`);
    throw error;
  }
}

function claimsFlag(command: Command): Record<string, unknown> {
  const text = stringFlag(command, "claims");
  if (text === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw usage(command, 'Invalid --claims: expected a JSON object such as \'{"sub":"alice"}\'');
  }
  return parsed as Record<string, unknown>;
}

/** `sign --key FILE`: a compact JWT; `--claims` wins over every claim the flags set. */
export async function sign(command: Command, io: CommandIo): Promise<number> {
  const path = requiredFlag(command, "key", "FILE");
  const flagAlg = algFlag(command);
  const ttl = durationFlag(command, "ttl", 900);
  const extra = claimsFlag(command);
  const jwk = parsePrivateKey(await readInput(path, io, "Key file"));
  const alg = flagAlg ?? defaultAlgFor(jwk);
  const material = await materialFromJwk(jwk, alg);
  const key = await importSigningKey(JSON.parse(new TextDecoder().decode(material.privateBytes)), alg);
  const kid = stringFlag(command, "kid") ?? (typeof jwk.kid === "string" && jwk.kid !== "" ? jwk.kid : material.kid);
  const now = Math.floor(io.clock() / 1000);
  const claims: Record<string, unknown> = { iat: now, exp: now + ttl, jti: crypto.randomUUID() };
  for (const [flag, claim] of [["issuer", "iss"], ["subject", "sub"], ["audience", "aud"]] as const) {
    const value = stringFlag(command, flag);
    if (value !== undefined) claims[claim] = value;
  }
  io.write(await signClaims(key, { alg, kid }, { ...claims, ...extra }) + "\n");
  return 0;
}

/** `verify TOKEN --jwks URL`: prints the claims, or one line saying why the token fails (exit 1). */
export async function verify(command: Command, io: CommandIo): Promise<number> {
  const jwksText = requiredFlag(command, "jwks", "URL");
  if (!URL.canParse(jwksText) || !/^https?:$/.test(new URL(jwksText).protocol)) {
    throw usage(command, `Invalid --jwks "${jwksText}": expected an http:// or https:// URL`);
  }
  const clockTolerance = durationFlag(command, "clock-skew", 60, true);
  const timeoutMs = Math.max(1, Math.round(durationFlag(command, "timeout", 5) * 1000));
  const maxJwks = stringFlag(command, "max-jwks-size");
  const maxJwksBytes = maxJwks === undefined ? MAX_JWKS_BYTES : parseSize(maxJwks);
  if (maxJwksBytes === null || maxJwksBytes < 1) {
    throw usage(command, `Invalid --max-jwks-size "${maxJwks!.slice(0, 32)}": expected a size such as 1MiB or 4MiB`);
  }
  const arg = command.args[0];
  const token = (arg === undefined || arg === "-" ? await readInput("-", io, "The token") : arg).trim();
  if (token === "") throw usage(command, "Missing TOKEN (pass it as an argument or on stdin)");
  const issuer = stringFlag(command, "issuer");
  const audience = stringFlag(command, "audience");
  const alg = stringFlag(command, "alg");
  const outcome = await verifyRemote(token, {
    jwks: new URL(jwksText),
    now: io.clock(),
    clockTolerance,
    timeoutMs,
    maxJwksBytes,
    requireExp: command.flags["no-require-exp"] !== true,
    ...(issuer === undefined ? {} : { issuer }),
    ...(audience === undefined ? {} : { audience }),
    ...(alg === undefined ? {} : { algorithms: [alg] }),
    ...(io.fetch ? { fetch: io.fetch } : {}),
  });
  if (command.flags.json === true) io.write(jsonText(outcome));
  if (!outcome.valid) {
    throw new AppError(JWKS_FAILURES.has(outcome.reason) ? "unavailable" : "unauthorized", outcome.message);
  }
  if (command.flags.json !== true) io.write(jsonText(outcome.claims));
  return 0;
}
