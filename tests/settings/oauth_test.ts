import assert from "node:assert/strict";
import { ConfigError } from "../../lib/core/errors.ts";
import { loadConfig } from "../../lib/settings.ts";

Deno.test("--max-token-ttl and --refresh-token-ttl: defaults, flags, environment and bounds", () => {
  const defaults = loadConfig({}, {});
  assert.equal(defaults.maxTokenTtl, 3600);
  assert.equal(defaults.refreshTokenTtl, 14 * 86_400);
  assert.equal(loadConfig({ "max-token-ttl": "2h" }, {}).maxTokenTtl, 7200);
  assert.equal(loadConfig({}, { REFRESH_TOKEN_TTL: "1d" }).refreshTokenTtl, 86_400);
  assert.throws(() => loadConfig({ "max-token-ttl": "8d" }, {}), ConfigError);
  assert.throws(() => loadConfig({ "max-token-ttl": "0" }, {}), /Invalid --max-token-ttl/);
  assert.throws(() => loadConfig({}, { REFRESH_TOKEN_TTL: "10s" }), /Invalid REFRESH_TOKEN_TTL/);
});
