/**
 * The Ruby `openid_connect` gem (Debian's `ruby-openid-connect`) discovers this server the way a
 * Rails relying party does: it fetches the discovery document from the issuer, checks the issuer,
 * and validates every field. Until there is an authorization endpoint (the sign-in issue), the
 * gem must refuse exactly the two fields that need one, and nothing else: every other field it
 * checks is right. Skipped, with the reason, when Ruby or the gem is not installed.
 * @module
 */
import assert from "node:assert/strict";
import { skipUnlessInstalled, withServedApp } from "../support/helpers.ts";

const SCRIPT = `
require "openid_connect"
SWD.url_builder = URI::HTTP
begin
  config = OpenIDConnect::Discovery::Provider::Config.discover!(ARGV[0])
  puts "accepted #{config.issuer} #{config.token_endpoint} #{config.userinfo_endpoint}"
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
  name: "the Ruby openid_connect gem reads our discovery document and refuses only what needs /authorize",
  ignore: skip !== null,
  async fn() {
    await withServedApp({}, async (url) => {
      const { stdout, success } = await new Deno.Command("ruby", { args: ["-e", SCRIPT, url], stderr: "inherit" })
        .output();
      assert.ok(success);
      const line = new TextDecoder().decode(stdout).trim();
      assert.equal(line, "refused Authorization endpoint can't be blank and Response types supported can't be blank");
    });
  },
});
