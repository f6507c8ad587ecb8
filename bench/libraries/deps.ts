/**
 * The three libraries under evaluation, pinned to exact versions in one place. They are not
 * dependencies of the product: only `bench/libraries/` imports them, so they stay out of the root
 * `deno.json` imports; every script here imports them from this file.
 * @module
 */
export { Hono } from "npm:hono@4.13.19";
export type { Context, MiddlewareHandler } from "npm:hono@4.13.19";
export { cors } from "npm:hono@4.13.19/cors";
export { methodNotAllowed } from "npm:hono@4.13.19/method-not-allowed";
export { requestId } from "npm:hono@4.13.19/request-id";
export { default as promClient } from "npm:prom-client@15.1.3";
export { default as pino } from "npm:pino@10.4.0";

/** The versions measured, for reports. */
export const VERSIONS = Object.freeze({ hono: "4.13.19", "prom-client": "15.1.3", pino: "10.4.0" });
