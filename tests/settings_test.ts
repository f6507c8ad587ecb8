import assert from "node:assert/strict";
import { helpFor, parseCommand } from "../lib/cli/commands.ts";
import { ConfigError } from "../lib/core/errors.ts";
import { ENV_VARS, loadConfig, parseDotenv, SETTINGS } from "../lib/settings.ts";
import { DEFAULT_DB } from "../lib/settings/database.ts";
import { type Scope, type Setting } from "../lib/settings/define.ts";
import { compilePermissions } from "./support/server_process.ts";

Deno.test("defaults match the product contract", () => {
  const config = loadConfig({}, {});
  assert.equal(config.port, 8080);
  assert.equal(config.hostname, "127.0.0.1");
  assert.equal(config.db, DEFAULT_DB);
  assert.equal(config.db, "./totally_not_my_privateKeys.db");
  assert.equal(config.authMode, "password");
  assert.equal(config.masterSecret, null);
  assert.equal(config.issuer, "http://127.0.0.1:8080");
  assert.equal(config.issuerSet, false);
  assert.equal(config.policy.tokenTtl, 900);
  assert.equal(config.policy.alg, "RS256");
  assert.deepEqual(config.trustProxy, []);
  assert.deepEqual(config.rateLimit, { limit: 10, windowMs: 1000 });
  assert.equal(config.rateLimitStore, "memory");
  assert.deepEqual(config.seedUsers, []);
  assert.equal(config.adminToken, null);
  assert.equal(config.logLevel, "info");
  assert.deepEqual(config.loginBackoff, { freeFailures: 5, baseMs: 1000, maxMs: 900_000 });
  assert.ok(Object.isFrozen(config));
});

Deno.test("flags override the environment, which overrides .env", () => {
  const dotenv = { PORT: "1111", HOST: "0.0.0.0", AUTH_MODE: "open", TOKEN_TTL: "1h" };
  const env = { PORT: "2222", AUTH_MODE: "password" };
  const config = loadConfig({ port: "3333" }, env, dotenv);
  assert.equal(config.port, 3333);
  assert.equal(config.authMode, "password", "env beats .env");
  assert.equal(config.hostname, "0.0.0.0", ".env beats the default");
  assert.equal(config.policy.tokenTtl, 3600);
  assert.equal(config.issuer, "http://127.0.0.1:3333", "a wildcard host is not a usable issuer");
});

Deno.test("every setting is parsed and validated", () => {
  const config = loadConfig(
    {
      "auth": "open",
      "issuer": "https://auth.example.com/",
      "audience": "api",
      "token-ttl": "60s",
      "alg": "EdDSA",
      "rotate-every": "2m",
      "clock-skew": "5s",
      "key-retention": "0",
      "trust-proxy": "true",
      "rate-limit": "100/m",
      "rate-limit-store": "redis://127.0.0.1:6379",
      "seed-user": ["userABC:password123", "bob:pa:ss"],
      "hash-concurrency": "3",
      "hash-queue": "0",
      "login-backoff": "off",
      "log-level": "DEBUG",
    },
    { NOT_MY_KEY: "s3cret", ADMIN_TOKEN: "0123456789abcdef" },
  );
  assert.equal(config.issuer, "https://auth.example.com");
  assert.equal(config.issuerSet, true);
  assert.equal(config.audience, "api");
  assert.equal(config.policy.alg, "EdDSA");
  assert.equal(config.policy.rotationInterval, 120);
  assert.equal(config.policy.maxAge, 30);
  assert.equal(config.policy.retention, 0);
  assert.equal(config.trustProxy.length, 2, "true is the proxy on this host: 127.0.0.0/8 and ::1");
  assert.deepEqual(config.rateLimit, { limit: 100, windowMs: 60_000 });
  assert.equal(config.rateLimitStore, "redis://127.0.0.1:6379");
  assert.deepEqual(config.seedUsers, [{ username: "userABC", password: "password123" }, {
    username: "bob",
    password: "pa:ss",
  }]);
  assert.equal(config.masterSecret, "s3cret");
  assert.equal(config.adminToken, "0123456789abcdef");
  assert.equal(config.hashConcurrency, 3);
  assert.equal(config.hashQueue, 0);
  assert.equal(config.loginBackoff, null);
  assert.equal(config.logLevel, "debug");
  assert.deepEqual(loadConfig({}, { JWKS_SEED_USERS: "a:1,b:2" }).seedUsers.map((u) => u.username), ["a", "b"]);
  assert.deepEqual(loadConfig({ "login-backoff": "3, 2s, 1m" }, {}).loginBackoff, {
    freeFailures: 3,
    baseMs: 2000,
    maxMs: 60_000,
  });
  assert.equal(loadConfig({}, { DATABASE_URL: "postgres://u@h/db" }).db, "postgres://u@h/db");
  assert.equal(loadConfig({}, { JWKS_DB: "a.db", DATABASE_URL: "postgres://u@h/db" }).db, "a.db");
  assert.deepEqual(loadConfig({}, { TRUST_PROXY: "false" }).trustProxy, []);
  assert.equal(loadConfig({}, { TRUST_PROXY: "10.0.0.0/8, fd00::/8,192.0.2.1" }).trustProxy.length, 3);
  assert.equal(loadConfig({ "rate-limit": "off" }, {}).rateLimit, null);
});

Deno.test("a bad value fails with one message naming the setting as the user wrote it", () => {
  const cases: [Record<string, string | boolean | string[]>, Record<string, string>, Record<string, string>, string][] =
    [
      [{ port: "x" }, {}, {}, 'Invalid --port "x": expected an integer from 0 to 65535'],
      [{}, { PORT: "65536" }, {}, 'Invalid PORT "65536": expected an integer from 0 to 65535'],
      [{}, {}, { PORT: "-1" }, 'Invalid PORT in .env "-1": expected an integer from 0 to 65535'],
      [{ hostname: "bad host" }, {}, {}, 'Invalid --hostname "bad host": expected a host name or IP address'],
      [{ auth: "none" }, {}, {}, 'Invalid --auth "none": expected "open" or "password"'],
      [{ alg: "HS256" }, {}, {}, 'Invalid --alg "HS256": expected one of RS256, PS256, ES256, EdDSA'],
      [{ "token-ttl": "soon" }, {}, {}, 'Invalid --token-ttl "soon": expected a duration such as 900, 15m, 1h or 7d'],
      [{ "token-ttl": "0" }, {}, {}, 'Invalid --token-ttl "0": must be at least 1 seconds'],
      [{ "rotate-every": "30s" }, {}, {}, 'Invalid --rotate-every "30s": must be at least 60 seconds'],
      [{ issuer: "not a url" }, {}, {}, 'Invalid --issuer "not a url": expected a URL'],
      [
        {},
        { TRUST_PROXY: "maybe" },
        {},
        'Invalid TRUST_PROXY "maybe": expected addresses or CIDRs such as "10.0.0.0/8,::1", or "loopback"',
      ],
      [
        {},
        { TRUST_PROXY: "10.0.0.0/33" },
        {},
        'Invalid TRUST_PROXY "10.0.0.0/33": expected addresses or CIDRs such as "10.0.0.0/8,::1", or "loopback"',
      ],
      [
        { "rate-limit": "fast" },
        {},
        {},
        'Invalid --rate-limit "fast": expected N/s, N/m, N/h (for example 10/s) or "off"',
      ],
      [
        { "rate-limit-store": "memcached://x" },
        {},
        {},
        'Invalid --rate-limit-store: expected "memory" or a redis:// URL',
      ],
      [{ "log-level": "loud" }, {}, {}, 'Invalid --log-level "loud": expected debug, info, warn or error'],
      [{ "hash-concurrency": "0" }, {}, {}, 'Invalid --hash-concurrency "0": expected an integer from 1 to 64'],
      [{ "hash-queue": "-5" }, {}, {}, 'Invalid --hash-queue "-5": expected an integer from 0 to 100000'],
      [
        { "login-backoff": "5" },
        {},
        {},
        'Invalid --login-backoff "5": expected FREE,BASE,MAX such as "5,1s,15m", or "off"',
      ],
      [{ db: "mysql://x" }, {}, {}, "Invalid --db: expected a file path, :memory: or a postgres:// URL"],
    ];
  for (const [flags, env, dotenv, message] of cases) {
    assert.throws(() => loadConfig(flags, env, dotenv), (error: ConfigError) => {
      assert.equal(error.code, "invalid_config");
      assert.equal(error.message, message);
      return true;
    });
  }
});

Deno.test("errors about secrets never echo them", () => {
  assert.throws(() => loadConfig({}, { ADMIN_TOKEN: "short-secret" }), (error: Error) => {
    assert.equal(error.message, "Invalid ADMIN_TOKEN: must be at least 16 characters");
    return true;
  });
  assert.throws(() => loadConfig({ "seed-user": ["alice-without-password"] }, {}), (error: Error) => {
    assert.ok(!error.message.includes("alice-without-password"));
    assert.match(error.message, /Invalid --seed-user: expected NAME:PASSWORD entries/);
    return true;
  });
  assert.throws(() => loadConfig({}, { DATABASE_URL: "mysql://root:hunter2@db/x" }), (error: Error) => {
    assert.ok(!error.message.includes("hunter2"));
    return true;
  });
});

Deno.test("parseDotenv() reads KEY=value lines with comments, quotes and export", () => {
  const text = [
    "# a comment",
    "export PORT=9000",
    'NOT_MY_KEY="quoted # not a comment"',
    "HOST='single'",
    "TOKEN_TTL=5m # trailing comment",
    "",
    "not a line",
    'MULTI="a\\nb"',
  ].join("\n");
  assert.deepEqual(parseDotenv(text), {
    PORT: "9000",
    NOT_MY_KEY: "quoted # not a comment",
    HOST: "single",
    TOKEN_TTL: "5m",
    MULTI: "a\nb",
  });
});

/** What is missing for each setting of `table`, given the command table and the task flags. */
function settingProblems(
  table: Readonly<Record<string, Setting<unknown>>>,
  allowEnv: readonly string[],
  accepts: (scope: Scope, flag: string) => boolean,
  help: (scope: Scope) => string,
): string[] {
  const problems: string[] = [];
  for (const [key, spec] of Object.entries(table)) {
    if (spec.env.length === 0) problems.push(`${key}: no environment variable`);
    if (spec.help.trim() === "") problems.push(`${key}: no help line`);
    if (spec.flag === null && !spec.secret) problems.push(`${key}: no flag (only secrets are environment-only)`);
    for (const name of spec.env) if (!allowEnv.includes(name)) problems.push(`${key}: ${name} not in --allow-env`);
    const scopes: Scope[] = spec.scope === "db" ? ["serve", "db"] : ["serve"];
    for (const scope of scopes) {
      if (spec.flag !== null && !accepts(scope, spec.flag)) {
        problems.push(`${key}: --${spec.flag} not accepted (${scope})`);
      }
      const shown = spec.flag === null ? spec.env[0]! : `--${spec.flag}`;
      if (!help(scope).includes(shown)) problems.push(`${key}: ${shown} not in the ${scope} help`);
    }
  }
  return problems;
}

Deno.test("every setting has its flag, its environment variable, its help line and its permission", async (t) => {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const allowEnvOf = (task: string) =>
    (/--allow-env=(\S+)/.exec(config.tasks[task])?.[1] ?? "").split(",").filter((name) => name !== "");
  const commandOf: Record<Scope, string[]> = { serve: ["serve"], db: ["keys", "list"] };
  const accepts = (scope: Scope, flag: string) => {
    try {
      const spec = Object.values(SETTINGS).find((s) => s.flag === flag);
      parseCommand([...commandOf[scope], `--${flag}`, ...(spec?.arg === "" ? [] : ["x"])]);
      return true;
    } catch {
      return false;
    }
  };
  const help = (scope: Scope) => helpFor(commandOf[scope].join(" "));
  await t.step("the real table is complete, for every task that runs the program", () => {
    for (const task of ["cli", "dev", "compile"]) {
      assert.deepEqual(settingProblems(SETTINGS, allowEnvOf(task), accepts, help), [], task);
    }
  });
  await t.step("a setting without a flag, a variable, help or permission is reported", () => {
    const broken = {
      ...SETTINGS,
      noFlag: { ...SETTINGS.port, flag: null },
      noEnv: { ...SETTINGS.port, env: [] },
      noHelp: { ...SETTINGS.port, help: " " },
      unlisted: { ...SETTINGS.port, flag: "brand-new", env: ["BRAND_NEW"] },
    };
    const problems = settingProblems(broken, allowEnvOf("cli"), accepts, help);
    assert.deepEqual(problems, [
      "noFlag: no flag (only secrets are environment-only)",
      "noEnv: no environment variable",
      "noHelp: no help line",
      "unlisted: BRAND_NEW not in --allow-env",
      "unlisted: --brand-new not accepted (serve)",
      "unlisted: --brand-new not in the serve help",
    ]);
  });
});

Deno.test("the compiled binary's permissions: exactly the variables the program reads, no subprocesses", async (t) => {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const permissions = compilePermissions();
  await t.step("--allow-env lists ENV_VARS, and loadConfig reads no other variable", () => {
    const allowEnv = permissions.find((flag) => flag.startsWith("--allow-env="));
    assert.ok(allowEnv, "--allow-env is narrowed to names");
    assert.deepEqual(allowEnv.slice("--allow-env=".length).split(",").sort(), [...ENV_VARS].sort());
    const read = new Set<string>();
    const env = new Proxy({}, {
      get: (_, name) => {
        read.add(String(name));
        return undefined;
      },
    });
    loadConfig({}, env, env);
    assert.deepEqual([...read].filter((name) => !ENV_VARS.includes(name)), []);
  });
  await t.step("no --allow-run and no blanket --allow-sys; cron enabled; one output file", () => {
    assert.ok(!permissions.some((flag) => flag.startsWith("--allow-run") || flag === "--allow-all" || flag === "-A"));
    assert.ok(!permissions.includes("--allow-sys"));
    assert.ok(permissions.includes("--no-prompt"));
    assert.match(config.tasks.compile, /--unstable-cron/);
    assert.match(config.tasks.compile, /--output dist\/jwks-server main\.ts$/);
  });
  await t.step("start, dev and cli run with the same permissions as the binary", () => {
    assert.equal(config.tasks.start, "deno task cli serve");
    for (const task of ["dev", "cli"]) {
      const flags = config.tasks[task].split(/\s+/).filter((word: string) =>
        /^--(allow|deny|ignore)-|^--no-prompt$/.test(word)
      );
      assert.deepEqual(flags, permissions, task);
    }
  });
});

Deno.test("a flag given as a boolean (a bare --flag) is a value like any other, and wins over the environment", () => {
  const config = loadConfig({ "trust-proxy": true }, { TRUST_PROXY: "off" });
  assert.equal(config.trustProxy.length, 2, "true is the proxy on this host");
  assert.deepEqual(loadConfig({ "trust-proxy": false }, { TRUST_PROXY: "loopback" }).trustProxy, []);
});
