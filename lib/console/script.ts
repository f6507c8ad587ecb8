/**
 * The console's browser script, served as `/console/console.js` (a same-origin file, so the
 * CSP needs no inline script). It keeps the key view live (polls `/console/keys.json` with
 * `If-None-Match`, swaps in `/console/keys.html` when the ETag changes, moves the now-line),
 * gets a token from `/auth` in open mode, and decodes and verifies a pasted JWT with WebCrypto
 * against the JWKS: the token never leaves the page. Plain JavaScript, no library.
 * @module
 */

/** The script's source. No template interpolation inside: it is sent exactly as written. */
export const CONSOLE_JS = String.raw`"use strict";
(() => {
  const $ = (id) => document.getElementById(id);

  // The key view: poll for changes and keep the now-line moving.
  const keys = $("keys");
  const live = $("keys-live");
  const pollMs = Number(keys.dataset.pollMs) || 2000;
  let view = $("keys-view");
  let offset = Number(view.dataset.now) - Date.now() / 1000;
  const serverNow = () => Date.now() / 1000 + offset;

  function moveNowLine() {
    const svg = view.querySelector("svg.timeline");
    if (svg === null) return;
    const { t0, t1, x0, x1 } = svg.dataset;
    const t = Math.min(Math.max(serverNow(), Number(t0)), Number(t1));
    const x = Number(x0) + ((t - Number(t0)) / (Number(t1) - Number(t0))) * (Number(x1) - Number(x0));
    const at = Math.round(x * 100) / 100 + "%";
    const line = svg.querySelector(".now-line");
    line.setAttribute("x1", at);
    line.setAttribute("x2", at);
    // As the server places it: right of the line, or left of it near the right edge.
    const label = svg.querySelector(".now-label");
    label.setAttribute("x", at);
    label.setAttribute("text-anchor", x > 85 ? "end" : "start");
    label.setAttribute("dx", x > 85 ? "-4" : "4");
  }

  async function replaceView() {
    const response = await fetch("/console/keys.html", { cache: "no-store" });
    if (!response.ok) throw new Error("HTTP " + response.status);
    const doc = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = doc.getElementById("keys-view");
    if (fresh === null) throw new Error("no key view in the answer");
    const node = document.importNode(fresh, true);
    view.replaceWith(node);
    view = node;
    offset = Number(view.dataset.now) - Date.now() / 1000;
  }

  async function poll() {
    try {
      // no-store: the browser adds no validator of its own and hands us the 304 as it is.
      const response = await fetch("/console/keys.json", {
        cache: "no-store",
        headers: { "if-none-match": view.dataset.etag },
      });
      if (response.status === 200) {
        const data = await response.json();
        offset = data.now - Date.now() / 1000;
        if (response.headers.get("etag") !== view.dataset.etag) await replaceView();
      } else {
        // Read the (empty) body: an unread one leaves the request to be aborted, not finished.
        await response.text();
        if (response.status !== 304) throw new Error("HTTP " + response.status);
      }
      live.textContent = "Live: this view follows the key set as it changes.";
      live.classList.remove("stale");
    } catch {
      live.textContent = "The server does not answer; retrying.";
      live.classList.add("stale");
    }
    moveNowLine();
    setTimeout(poll, document.hidden ? pollMs * 5 : pollMs);
  }
  poll();

  // The decoder.
  const jwt = $("jwt");
  const verdict = $("jwt-verdict");
  const decoded = $("jwt-decoded");
  const issuer = $("decoder").dataset.issuer;
  const ALGS = {
    RS256: { key: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, check: { name: "RSASSA-PKCS1-v1_5" } },
    PS256: { key: { name: "RSA-PSS", hash: "SHA-256" }, check: { name: "RSA-PSS", saltLength: 32 } },
    ES256: { key: { name: "ECDSA", namedCurve: "P-256" }, check: { name: "ECDSA", hash: "SHA-256" } },
    EdDSA: { key: { name: "Ed25519" }, check: { name: "Ed25519" } },
  };
  let run = 0;

  function base64url(part) {
    if (!/^[A-Za-z0-9_-]*$/.test(part)) throw new Error("not base64url");
    const text = atob(part.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((part.length + 3) % 4));
    return Uint8Array.from(text, (c) => c.charCodeAt(0));
  }

  function jsonPart(part, name) {
    let value;
    try {
      value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(base64url(part)));
    } catch {
      throw new Error("The " + name + " is not base64url-encoded JSON");
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new Error("The " + name + " is not a JSON object");
    }
    return value;
  }

  function show(result, text) {
    verdict.dataset.result = result;
    verdict.textContent = text;
  }

  function utc(seconds) {
    return new Date(seconds * 1000).toISOString().slice(0, 19).replace("T", " ") + " UTC";
  }

  function relative(seconds) {
    const s = Math.abs(Math.round(seconds));
    if (s < 5) return "just now";
    const text = s < 90 ? s + " s" : s < 5400 ? Math.round(s / 60) + " min" : s < 172800
      ? Math.round(s / 3600) + " h"
      : Math.round(s / 86400) + " days";
    return seconds >= 0 ? "in " + text : text + " ago";
  }

  function notes(claims) {
    const list = $("jwt-times");
    const now = serverNow();
    const lines = [];
    const at = (name) => (typeof claims[name] === "number" && isFinite(claims[name]) ? claims[name] : null);
    if (at("exp") !== null) {
      lines.push((at("exp") > now ? "Expires " : "Expired ") + utc(at("exp")) + " (" + relative(at("exp") - now) + ")");
    } else {
      lines.push("No exp claim: the token never expires");
    }
    if (at("nbf") !== null && at("nbf") > now) lines.push("Not valid before " + utc(at("nbf")));
    if (at("iat") !== null) lines.push("Issued " + utc(at("iat")) + " (" + relative(at("iat") - now) + ")");
    if ("iss" in claims) {
      lines.push(claims.iss === issuer ? "Issuer is this server" : "Issuer " + JSON.stringify(claims.iss) + " is not this server");
    }
    list.replaceChildren(...lines.map((line) => {
      const item = document.createElement("li");
      item.textContent = line;
      return item;
    }));
  }

  async function verify(parts, header) {
    const no = (why) => ({ ok: false, text: "✗ Not verified: " + why });
    const alg = Object.hasOwn(ALGS, header.alg) ? ALGS[header.alg] : null;
    if (alg === null) return no("algorithm " + JSON.stringify(header.alg) + " is not one this server signs with");
    if (typeof header.kid !== "string") return no("the header names no kid");
    if (!window.crypto || !crypto.subtle) return no("this browser offers WebCrypto only on HTTPS or localhost pages");
    let jwks;
    try {
      const response = await fetch("/.well-known/jwks.json", { cache: "no-store" });
      if (!response.ok) throw new Error("HTTP " + response.status);
      jwks = await response.json();
    } catch {
      return no("the JWKS could not be fetched");
    }
    const jwk = (Array.isArray(jwks.keys) ? jwks.keys : []).find((key) => key.kid === header.kid);
    if (jwk === undefined) return no("no key with kid " + header.kid + " is in the JWKS now");
    if (jwk.alg !== header.alg) return no("key " + header.kid + " is an " + jwk.alg + " key, not " + header.alg);
    try {
      const key = await crypto.subtle.importKey("jwk", jwk, alg.key, false, ["verify"]);
      const signed = new TextEncoder().encode(parts[0] + "." + parts[1]);
      if (!(await crypto.subtle.verify(alg.check, key, base64url(parts[2]), signed))) {
        return no("the signature does not match key " + header.kid);
      }
    } catch {
      return no("the signature could not be checked with key " + header.kid);
    }
    const item = document.querySelector('.key-item[data-kid="' + CSS.escape(header.kid) + '"]');
    const state = item === null ? "" : " (" + item.dataset.state + ")";
    return { ok: true, text: "✓ Verified: signed by key " + header.kid + state + " of this server's JWKS" };
  }

  async function decode() {
    const mine = ++run;
    const token = Array.from(jwt.value).filter((c) => c.trim() !== "").join("");
    if (token === "") {
      decoded.hidden = true;
      show("", "");
      return;
    }
    const parts = token.split(".");
    let header;
    let claims;
    try {
      if (parts.length !== 3) throw new Error("Not a signed JWT: it has three parts separated by dots");
      header = jsonPart(parts[0], "header");
      claims = jsonPart(parts[1], "payload");
    } catch (error) {
      decoded.hidden = true;
      show("malformed", "✗ " + error.message);
      return;
    }
    $("jwt-header").textContent = JSON.stringify(header, null, 2);
    $("jwt-claims").textContent = JSON.stringify(claims, null, 2);
    notes(claims);
    decoded.hidden = false;
    show("pending", "Checking the signature against the JWKS…");
    const result = await verify(parts, header);
    if (mine === run) show(result.ok ? "verified" : "not-verified", result.text);
  }
  jwt.addEventListener("input", decode);
  if (jwt.value !== "") decode();

  // Open mode: get a token from /auth and decode it.
  const form = $("get-token");
  if (form !== null) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const status = $("token-status");
      const username = form.elements.namedItem("username").value.trim();
      status.textContent = "Asking /auth…";
      try {
        // credentials: "omit", so a 401 challenge never opens the browser's password prompt.
        const response = await fetch("/auth", {
          method: "POST",
          credentials: "omit",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(username === "" ? {} : { username }),
        });
        const body = await response.json();
        if (!response.ok || typeof body.token !== "string") {
          status.textContent = body.message || "The server answered " + response.status;
          return;
        }
        status.textContent = "Token issued for " + (username || "anonymous") + ", decoded below.";
        jwt.value = body.token;
        await decode();
      } catch {
        status.textContent = "The server did not answer";
      }
    });
  }
})();
`;
