/**
 * Finds the PostgreSQL and Redis servers the scale-out tests need: `DATABASE_URL` and
 * `REDIS_URL` from the environment (`.ci/run` sets them on the CI machine). When a variable is
 * unset or its server does not answer, the tests that need it are registered as ignored and
 * the reason is printed once. Also makes and drops the per-test schemas.
 * @module
 */
import { Redis } from "ioredis";
import pg from "pg";

/** A service the tests can use, or why they are skipped. */
export type Service = { readonly url: string; readonly skip: null } | { readonly url: null; readonly skip: string };

const reported = new Set<string>();

function report(test: string, service: Service): Service {
  if (service.skip !== null && Deno.env.get("CI_REQUIRE_TOOLS") === "1") {
    throw new Error(`${test}: ${service.skip}, and CI_REQUIRE_TOOLS=1: .ci/run expects this machine's services`);
  }
  if (service.skip !== null && !reported.has(`${test}: ${service.skip}`)) {
    reported.add(`${test}: ${service.skip}`);
    console.warn(`${test}: skipped: ${service.skip}`);
  }
  return service;
}

/** PostgreSQL from `DATABASE_URL`, probed with one query. `test` names the skipping file. */
export async function postgresService(test: string): Promise<Service> {
  const url = Deno.env.get("DATABASE_URL");
  if (url === undefined || url === "") {
    return report(test, {
      url: null,
      skip: "DATABASE_URL is not set (for example postgres://postgres@127.0.0.1/test)",
    });
  }
  if (!/^postgres(ql)?:\/\//.test(url)) {
    return report(test, { url: null, skip: "DATABASE_URL is not a postgres:// URL" });
  }
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return { url, skip: null };
  } catch (error) {
    return report(test, {
      url: null,
      skip: `PostgreSQL at DATABASE_URL does not answer (${(error as Error).message})`,
    });
  } finally {
    await client.end().catch(() => {});
  }
}

/** Redis from `REDIS_URL`, probed with PING. */
export async function redisService(test: string): Promise<Service> {
  const url = Deno.env.get("REDIS_URL");
  if (url === undefined || url === "") {
    return report(test, { url: null, skip: "REDIS_URL is not set (for example redis://127.0.0.1:6379)" });
  }
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.ping();
    return { url, skip: null };
  } catch (error) {
    return report(test, { url: null, skip: `Redis at REDIS_URL does not answer (${(error as Error).message})` });
  } finally {
    client.disconnect();
  }
}

/** A fresh schema name for one test. */
export function schemaName(prefix = "jwks_test"): string {
  return `${prefix}_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

/** `url` with `?schema=` set, so the store puts its tables in `schema`. */
export function withSchema(url: string, schema: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set("schema", schema);
  return parsed.href;
}

/** Runs one query on a short-lived connection to `url`. */
export async function query<T extends pg.QueryResultRow = pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** `url` with a `search_path` startup option, for plain `pg` connections into `schema`. */
export function searchPathUrl(url: string, schema: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set("options", `-c search_path=${schema}`);
  return parsed.href;
}

/** Runs `DO`-block `statement` with `%I` bound to the quoted `schema` name. */
async function schemaStatement(url: string, schema: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT set_config('jwks.schema', $1, true)", [schema]);
    await client.query(statement);
    await client.query("COMMIT");
  } finally {
    await client.end();
  }
}

/** Creates an empty `schema`. The name is bound, then quoted by the server. */
export function createSchema(url: string, schema: string): Promise<void> {
  return schemaStatement(
    url,
    schema,
    "DO $$ BEGIN EXECUTE format('CREATE SCHEMA %I', current_setting('jwks.schema')); END $$",
  );
}

/** Drops `schema` and everything in it. The name is bound, then quoted by the server. */
export function dropSchema(url: string, schema: string): Promise<void> {
  return schemaStatement(
    url,
    schema,
    "DO $$ BEGIN EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', current_setting('jwks.schema')); END $$",
  );
}

/** Deletes every Redis key under `prefix` (a test run's own key prefix). */
export async function deleteRedisPrefix(url: string, prefix: string): Promise<void> {
  const client = new Redis(url);
  try {
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(...keys);
  } finally {
    client.disconnect();
  }
}

/** A fresh schema and Redis key prefix for one test, the URLs that use them, and their cleanup. */
export interface ServiceEnvironment {
  readonly schema: string;
  /** The store URL (`?schema=`). */
  readonly db: string;
  /** A plain `pg` URL into the schema (`search_path`), for reading tables directly. */
  readonly raw: string;
  /** The rate-limit store URL (`?prefix=`). */
  readonly rateLimitStore: string;
  /** Drops the schema and deletes the prefix's keys. */
  dispose(): Promise<void>;
}

/** A {@linkcode ServiceEnvironment} on the servers at `postgresUrl` and `redisUrl`. */
export function serviceEnvironment(postgresUrl: string, redisUrl: string, name = "jwks_scale"): ServiceEnvironment {
  const schema = schemaName(name);
  const prefix = `${name.replaceAll("_", "-")}:${crypto.randomUUID().slice(0, 8)}:`;
  const rateLimitStore = new URL(redisUrl);
  rateLimitStore.searchParams.set("prefix", prefix);
  return {
    schema,
    db: withSchema(postgresUrl, schema),
    raw: searchPathUrl(postgresUrl, schema),
    rateLimitStore: rateLimitStore.href,
    async dispose() {
      await dropSchema(postgresUrl, schema);
      await deleteRedisPrefix(redisUrl, prefix);
    },
  };
}
