/**
 * The Ruby `openid_connect` gem (Debian's `ruby-openid-connect`) discovers this server the way a
 * Rails relying party does: it fetches the discovery document from the issuer, checks the issuer,
 * and validates every field (OIDC Discovery §3 requires `authorization_endpoint` and
 * `response_types_supported`, which `GET /authorize` brings). It must accept the document.
 * Skipped, with the reason, when Ruby or the gem is not installed.
 * @module
 */
import assert from "node:assert/strict";
import { skipUnlessInstalled, withServedApp } from "../support/helpers.ts";

const SCRIPT = `
require "openid_connect"
SWD.url_builder = URI::HTTP
begin
  config = OpenIDConnect::Discovery::Provider::Config.discover!(ARGV[0])
  puts "accepted #{config.issuer} #{config.authorization_endpoint} #{config.token_endpoint} #{config.userinfo_endpoint}"
rescue OpenIDConnect::Discovery::DiscoveryFailed => e
  puts "refused #{e.message}"
end
`;

async function missingGem(): Promise<string | null> {
  try {
    const { success } = await new Deno.Command("ruby", { args: ["-e", 'require "openid_connect"'], stderr: "null" })
      .output();
    return success ? null : "the openid_connect gem is not installed (apt-get install ruby-openid-connect)";
  } catch {
    return "ruby is not installed (apt-get install ruby-openid-connect)";
  }
}

const skip = skipUnlessInstalled(await missingGem());

Deno.test({
  name: "the Ruby openid_connect gem accepts our discovery document, authorization endpoint included",
  ignore: skip !== null,
  async fn() {
    await withServedApp({}, async (url) => {
      const { stdout, success } = await new Deno.Command("ruby", { args: ["-e", SCRIPT, url], stderr: "inherit" })
        .output();
      assert.ok(success);
      const line = new TextDecoder().decode(stdout).trim();
      assert.equal(line, `accepted ${url} ${url}/authorize ${url}/token ${url}/userinfo`);
    });
  },
});
