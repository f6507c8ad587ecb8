/**
 * The coverage step of `deno task ok`: line coverage of lib/ must be at least the threshold in
 * deno.json. Adapters whose tests need an external service (PostgreSQL, Redis) are left out of
 * the gate when that service was not configured for this run, because their tests were then
 * skipped; the gate says so, so nobody mistakes a skipped adapter for a covered one.
 * @module
 */
const adapters = [
  { file: "lib/store/postgres.ts", env: "DATABASE_URL" },
  { file: "lib/store/redis.ts", env: "REDIS_URL" },
];
const args = ["coverage", "coverage", "--include=lib/"];
for (const { file, env } of adapters) {
  if (!Deno.env.get(env)) {
    args.push(`--exclude=${file}`);
    console.log(`coverage gate: ${file} left out because ${env} is not set (its tests were skipped)`);
  }
}
const { code } = await new Deno.Command(Deno.execPath(), { args, stdout: "inherit", stderr: "inherit" }).output();
Deno.exit(code);
