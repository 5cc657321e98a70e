// Proves the two identity-provider stand-ins Registrar's relying-party tests
// run against (scripts/idp/company-idp.mjs, scripts/idp/apple-standin.mjs),
// with a certified relying party we did not write (openid-client 6) in the
// role Registrar will play, and a real browser (Chromium via playwright-core)
// on their sign-in pages:
//   company IdP: discovery → authorization URL (PKCE S256, state, nonce) →
//   its login page → back at the callback with code, state and iss (no
//   consent page) → code grant with client_secret_basic → the ID token's
//   claims (sub, email, email_verified, names); a second authorization in the
//   same browser needs no login; an "unverified…" login is not verified; a
//   wrong secret, a replayed code and a request without PKCE are refused.
//   Apple stand-in: discovery → authorization URL (form_post, PKCE, state,
//   nonce) → its page → the form POSTed to the callback with code, state and
//   the user JSON → code grant with client_secret_post and an ES256 client
//   secret signed here with a fresh P-256 key → the ID token's claims
//   (email_verified the string "true"); the second authorization posts no
//   user JSON and, with JavaScript off, the fallback button posts the form;
//   client secrets by another key, expired, of another kid or audience, or
//   longer than 6 months are invalid_client; a replayed code or a wrong
//   verifier is invalid_grant; email scope without form_post is refused.
//   Both exit 0 on SIGTERM.
//
//   node scripts/idp/selftest.mjs
//
// Needs .node/ as scripts/test.sh installs it (openid-client, playwright-core,
// oidc-provider, jose) and Chromium at /usr/bin/chromium (or $CHROMIUM).
// Prints one closing line, `idp: N passed, M failed`, and exits non-zero
// when a check fails.

import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { createHash, randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(new URL("../../.node/node_modules/x.js", import.meta.url));
const client = await import(require.resolve("openid-client"));
const jose = await import(require.resolve("jose"));
const { chromium } = require("playwright-core");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const script = (name) => fileURLToPath(new URL(name, import.meta.url));

let passed = 0;
let failed = 0;
function check(name, ok, detail) {
  if (ok) {
    passed += 1;
    console.log(`ok   ${name}`);
  } else {
    failed += 1;
    console.log(`FAIL ${name}: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`);
  }
}
async function attempt(name, fn) {
  try {
    await fn();
  } catch (error) {
    check(name, false, String(error?.stack || error));
  }
}
const expect = (wanted, got) => [got === wanted, got];
// The OAuth error an openid-client call failed with ("" when it succeeded).
async function oauthError(fn) {
  try {
    await fn();
    return "";
  } catch (error) {
    // A 401 answer comes as a WWW-Authenticate challenge.
    const challenge = Array.isArray(error?.cause) ? error.cause[0]?.parameters?.error : undefined;
    return error?.error || challenge || error?.code || String(error);
  }
}

// Starts a stand-in; resolves with its URL from its one stdout line.
const children = [];
function start(file, prefix, env) {
  const child = spawn(process.execPath, [script(file)], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not start: ${stderr}`)), 15000);
    child.stdout.on("data", (d) => {
      stdout += d;
      const line = stdout.split("\n")[0];
      if (stdout.includes("\n")) {
        clearTimeout(timer);
        const match = new RegExp(`^${prefix} listening on (http://127\\.0\\.0\\.1:\\d+)$`).exec(line);
        if (match) resolve({ child, url: match[1], stdout: () => stdout, stderr: () => stderr });
        else reject(new Error(`${file} printed ${JSON.stringify(line)}`));
      }
    });
    child.on("exit", (code) => reject(new Error(`${file} exited ${code}: ${stderr}`)));
  });
}
function stop(started) {
  return new Promise((resolve) => {
    if (started.child.exitCode !== null) return resolve(started.child.exitCode);
    started.child.once("exit", (code, signal) => resolve(code ?? signal));
    started.child.kill("SIGTERM");
  });
}

// The relying party's callback: records every arrival (GET query or POSTed form).
const arrivals = [];
const callbackServer = createServer((request, response) => {
  const url = new URL(request.url, callbackOrigin);
  const chunks = [];
  request.on("data", (c) => chunks.push(c));
  request.on("end", () => {
    if (url.pathname === "/oauth2/idpresponse") {
      arrivals.push({
        method: request.method,
        url: url.href,
        contentType: request.headers["content-type"] || "",
        body: Buffer.concat(chunks).toString("utf8"),
      });
    }
    response.writeHead(200, { "content-type": "text/plain" });
    response.end("back at the app");
  });
});
await new Promise((resolve) => callbackServer.listen(0, "127.0.0.1", resolve));
const callbackOrigin = `http://127.0.0.1:${callbackServer.address().port}`;
const redirectUri = `${callbackOrigin}/oauth2/idpresponse`;
const atCallback = (url) => url.href.startsWith(redirectUri);

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
const insecure = { execute: [client.allowInsecureRequests] };

async function authorizationRequest(config, extra) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
    ...extra,
  });
  return { url, checks: { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce } };
}

// ---------------------------------------------------------------- company IdP
async function companyIdp() {
  const clientId = "registrar-test";
  const clientSecret = randomBytes(24).toString("base64url");
  const idp = await start("company-idp.mjs", "idp", {
    IDP_CLIENT_ID: clientId,
    IDP_CLIENT_SECRET: clientSecret,
    IDP_REDIRECT_URI: redirectUri,
  });
  check("company: one ready line on stdout", idp.stdout() === `idp listening on ${idp.url}\n`, idp.stdout());
  try {
    const config = await client.discovery(new URL(idp.url), clientId, clientSecret, client.ClientSecretBasic(clientSecret), insecure);
    check("company: discovery, issuer is the printed URL", config.serverMetadata().issuer === idp.url, config.serverMetadata().issuer);
    check("company: advertises S256 only", JSON.stringify(config.serverMetadata().code_challenge_methods_supported) === '["S256"]', config.serverMetadata());

    const emailOf = { jane: "jane.doe@corp.example", unverified: "unverified.bob@corp.example" };
    const context = await browser.newContext();
    const page = await context.newPage();
    let callbackUrl;
    let request = await authorizationRequest(config, { scope: "openid email profile" });
    await attempt("company: sign in on the login page", async () => {
      await page.goto(request.url.href);
      await page.fill("input[name=login]", emailOf.jane);
      await page.fill("input[name=password]", "any password");
      await page.click("button[type=submit]");
      await page.waitForURL(atCallback, { timeout: 10000 });
      callbackUrl = new URL(page.url());
      check("company: back at the callback without a consent page", callbackUrl.searchParams.has("code"), callbackUrl.href);
      check("company: the callback has state and iss", callbackUrl.searchParams.get("state") === request.checks.expectedState && callbackUrl.searchParams.get("iss") === idp.url, callbackUrl.href);
    });
    let tokens;
    await attempt("company: code grant", async () => {
      tokens = await client.authorizationCodeGrant(config, callbackUrl, request.checks);
      const claims = tokens.claims();
      const sub = "emp-" + createHash("sha256").update(emailOf.jane).digest("hex").slice(0, 16);
      check("company: ID token checked by openid-client (signature, iss, aud, nonce)", claims.iss === idp.url && claims.aud === clientId, claims);
      check("company: sub derived from the login", claims.sub === sub, claims);
      check("company: ID token has email and email_verified true", claims.email === emailOf.jane && claims.email_verified === true, claims);
      check("company: ID token has the names", claims.given_name === "Jane" && claims.family_name === "Doe" && claims.name === "Jane Doe", claims);
      const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
      check("company: userinfo agrees", userinfo.email === emailOf.jane && userinfo.sub === sub, userinfo);
    });
    await attempt("company: replayed code", async () => {
      const error = await oauthError(() => client.authorizationCodeGrant(config, callbackUrl, request.checks));
      check("company: a replayed code is invalid_grant", error === "invalid_grant", error);
    });
    await attempt("company: second authorization (session)", async () => {
      request = await authorizationRequest(config, { scope: "openid email profile" });
      await page.goto(request.url.href);
      await page.waitForURL(atCallback, { timeout: 10000 });
      const again = await client.authorizationCodeGrant(config, new URL(page.url()), request.checks);
      check("company: a second authorization in the same browser needs no login", again.claims().sub === tokens.claims().sub, again.claims());
    });
    await attempt("company: unverified login", async () => {
      const fresh = await browser.newContext();
      const p = await fresh.newPage();
      request = await authorizationRequest(config, { scope: "openid email profile" });
      await p.goto(request.url.href);
      await p.fill("input[name=login]", emailOf.unverified);
      await p.fill("input[name=password]", "x");
      await p.click("button[type=submit]");
      await p.waitForURL(atCallback, { timeout: 10000 });
      const got = await client.authorizationCodeGrant(config, new URL(p.url()), request.checks);
      check("company: a login starting with unverified has email_verified false", got.claims().email_verified === false && got.claims().email === emailOf.unverified, got.claims());
      await fresh.close();
    });
    await attempt("company: refusals", async () => {
      const fresh = await browser.newContext();
      const p = await fresh.newPage();
      request = await authorizationRequest(config, { scope: "openid email profile" });
      await p.goto(request.url.href);
      await p.fill("input[name=login]", emailOf.jane);
      await p.fill("input[name=password]", "x");
      await p.click("button[type=submit]");
      await p.waitForURL(atCallback, { timeout: 10000 });
      const url = new URL(p.url());
      const wrong = await client.discovery(new URL(idp.url), clientId, "wrong", client.ClientSecretBasic("wrong"), insecure);
      check("company: a wrong client secret is invalid_client", ...expect("invalid_client", await oauthError(() => client.authorizationCodeGrant(wrong, url, request.checks))));
      // (client_secret_post is not refused: oidc-provider takes the secret in
      // the body as well as in the header for a client_secret_basic client.)
      const noPkce = new URL(request.url);
      noPkce.searchParams.delete("code_challenge");
      noPkce.searchParams.delete("code_challenge_method");
      const answer = await fetch(noPkce, { redirect: "manual" });
      const location = new URL(answer.headers.get("location") || "about:blank");
      check("company: an authorization without PKCE is refused", location.href.startsWith(redirectUri) && location.searchParams.get("error") === "invalid_request", location.href);
      await fresh.close();
    });
    await context.close();
  } finally {
    const code = await stop(idp);
    check("company: exits 0 on SIGTERM", code === 0, String(code));
    check("company: nothing else on stdout", idp.stdout() === `idp listening on ${idp.url}\n`, idp.stdout());
  }
}

// ------------------------------------------------------------------ Apple
async function apple() {
  const clientId = "com.example.registrar.web";
  const teamId = "TEAM123456";
  const keyId = "KEY9876543";
  const { privateKey, publicKey } = await jose.generateKeyPair("ES256", { extractable: true });
  const other = await jose.generateKeyPair("ES256");
  const now = Math.floor(Date.now() / 1000);
  const secret = (overrides = {}) => {
    const o = { key: privateKey, kid: keyId, iss: teamId, sub: clientId, aud: "https://appleid.apple.com", iat: now, exp: now + 3600, ...overrides };
    return new jose.SignJWT({}).setProtectedHeader({ alg: "ES256", kid: o.kid }).setIssuer(o.iss).setSubject(o.sub)
      .setAudience(o.aud).setIssuedAt(o.iat).setExpirationTime(o.exp).sign(o.key);
  };
  const standin = await start("apple-standin.mjs", "apple", {
    APPLE_CLIENT_ID: clientId,
    APPLE_REDIRECT_URI: redirectUri,
    APPLE_TEAM_ID: teamId,
    APPLE_KEY_ID: keyId,
    APPLE_PUBLIC_KEY: await jose.exportSPKI(publicKey),
  });
  check("apple: one ready line on stdout", standin.stdout() === `apple listening on ${standin.url}\n`, standin.stdout());
  try {
    const goodSecret = await secret();
    const configWith = async (s) => client.discovery(new URL(standin.url), clientId, {}, client.ClientSecretPost(s), insecure);
    const config = await configWith(goodSecret);
    const meta = config.serverMetadata();
    check("apple: discovery as Apple's", meta.issuer === standin.url && meta.jwks_uri === `${standin.url}/auth/keys` && meta.response_modes_supported.includes("form_post") && meta.token_endpoint === `${standin.url}/auth/token`, meta);

    const email = "olivia.smith@example.com";
    const scope = { scope: "openid email name", response_mode: "form_post" };
    // Signs in on the stand-in's page; resolves with the callback's arrival as
    // a Request openid-client takes.
    async function signIn(context, request, { javaScript = true } = {}) {
      const p = await context.newPage();
      const before = arrivals.length;
      await p.goto(request.url.href);
      await p.fill("input[name=login]", email);
      await p.click("button[type=submit]");
      if (!javaScript) {
        // The form_post page, not submitted by its script: its button.
        await p.waitForURL((url) => url.href.startsWith(`${standin.url}/auth/authorize`));
        await p.click("button[type=submit]");
      }
      await p.waitForURL(atCallback, { timeout: 10000 });
      await p.close();
      const arrival = arrivals[before];
      return {
        arrival,
        form: new URLSearchParams(arrival.body),
        request: () => new Request(arrival.url, { method: "POST", headers: { "content-type": arrival.contentType }, body: arrival.body }),
      };
    }

    let first;
    let claims;
    const context = await browser.newContext();
    await attempt("apple: first authorization", async () => {
      const request = await authorizationRequest(config, scope);
      const back = await signIn(context, request);
      check("apple: the callback gets a form POST", back.arrival.method === "POST" && back.arrival.contentType.startsWith("application/x-www-form-urlencoded"), back.arrival);
      check("apple: the form has code and state", back.form.get("code") && back.form.get("state") === request.checks.expectedState, back.arrival.body);
      const user = JSON.parse(back.form.get("user") || "null");
      check("apple: the first authorization posts the user JSON", user?.name?.firstName === "Olivia" && user?.name?.lastName === "Smith" && user?.email === email, back.form.get("user"));
      first = back;
      const tokens = await client.authorizationCodeGrant(config, back.request(), request.checks);
      claims = tokens.claims();
      check("apple: ID token checked by openid-client (signature, iss, aud, nonce)", claims.iss === standin.url && claims.aud === clientId && claims.nonce === request.checks.expectedNonce, claims);
      check("apple: sub is Apple-shaped", /^000123\.[0-9a-f]{32}\.\d{4}$/.test(claims.sub), claims.sub);
      check("apple: email_verified and is_private_email are strings", claims.email === email && claims.email_verified === "true" && claims.is_private_email === "false", claims);
      check("apple: auth_time, iat, exp", Number.isInteger(claims.auth_time) && Number.isInteger(claims.iat) && claims.exp > claims.iat, claims);
      check("apple: token response", tokens.token_type.toLowerCase() === "bearer" && tokens.access_token && tokens.refresh_token && tokens.expires_in > 0, Object.keys(tokens));
      const error = await oauthError(() => client.authorizationCodeGrant(config, first.request(), request.checks));
      check("apple: a replayed code is invalid_grant", error === "invalid_grant", error);
    });
    await attempt("apple: second authorization", async () => {
      const noJs = await browser.newContext({ javaScriptEnabled: false });
      const request = await authorizationRequest(config, scope);
      const back = await signIn(noJs, request, { javaScript: false });
      check("apple: without JavaScript the fallback button posts the form", back.arrival.method === "POST" && back.form.get("code"), back.arrival);
      check("apple: the second authorization posts no user JSON", !back.form.has("user"), back.arrival.body);
      const tokens = await client.authorizationCodeGrant(config, back.request(), request.checks);
      check("apple: sub is stable per e-mail", tokens.claims().sub === claims?.sub, tokens.claims());
      await noJs.close();
    });
    await context.close();

    // Codes without the browser: the page's form, posted as the browser would.
    async function code(params) {
      const request = await authorizationRequest(config, { ...scope, ...params });
      const form = new URLSearchParams(request.url.searchParams);
      form.set("login", email);
      const answer = await fetch(`${standin.url}/auth/authorize`, { method: "POST", body: form });
      const body = await answer.text();
      const value = (name) => Array.from(body.matchAll(/name="([^"]+)" value="([^"]*)"/g)).find((m) => m[1] === name)?.[2];
      const callback = new URLSearchParams({ code: value("code"), state: value("state") });
      return {
        request,
        back: () => new Request(redirectUri, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: callback }),
      };
    }
    await attempt("apple: client secrets", async () => {
      const cases = [
        ["signed by another key", { key: other.privateKey }],
        ["expired", { iat: now - 7200, exp: now - 60 }],
        ["of another kid", { kid: "OTHERKEY01" }],
        ["of another team", { iss: "OTHERTEAM1" }],
        ["for another audience", { aud: "https://example.com" }],
        ["of another client", { sub: "com.example.other" }],
        ["longer than 6 months", { exp: now + 15777000 + 3600 }],
      ];
      const c = await code({});
      for (const [what, overrides] of cases) {
        const error = await oauthError(async () => client.authorizationCodeGrant(await configWith(await secret(overrides)), c.back(), c.request.checks));
        check(`apple: a client secret ${what} is invalid_client`, error === "invalid_client", error);
      }
      const error = await oauthError(async () => client.authorizationCodeGrant(await configWith("not-a-jwt"), c.back(), c.request.checks));
      check("apple: a client secret that is no JWT is invalid_client", error === "invalid_client", error);
      const ok = await client.authorizationCodeGrant(config, c.back(), c.request.checks);
      check("apple: the code still works with the right secret", ok.claims().sub === claims?.sub, ok.claims());
    });
    await attempt("apple: verifier", async () => {
      const c = await code({});
      const error = await oauthError(() => client.authorizationCodeGrant(config, c.back(), { ...c.request.checks, pkceCodeVerifier: client.randomPKCECodeVerifier() }));
      check("apple: a wrong code_verifier is invalid_grant", error === "invalid_grant", error);
      const again = await oauthError(() => client.authorizationCodeGrant(config, c.back(), c.request.checks));
      check("apple: a code is used up by a failed exchange", again === "invalid_grant", again);
    });
    await attempt("apple: authorize refusals", async () => {
      const request = await authorizationRequest(config, { scope: "openid email" });
      const answer = await fetch(request.url, { redirect: "manual" });
      check("apple: email scope without form_post is refused (400 page)", answer.status === 400, answer.status);
      const other = new URL(request.url);
      other.searchParams.set("response_mode", "form_post");
      other.searchParams.set("redirect_uri", "http://127.0.0.1:1/elsewhere");
      check("apple: an unregistered redirect_uri is refused", (await fetch(other, { redirect: "manual" })).status === 400);
      const plain = new URL(request.url);
      plain.searchParams.set("scope", "openid");
      plain.searchParams.delete("nonce");
      check("apple: a missing nonce is refused", (await fetch(plain, { redirect: "manual" })).status === 400);
    });
  } finally {
    const code = await stop(standin);
    check("apple: exits 0 on SIGTERM", code === 0, String(code));
    check("apple: nothing else on stdout", standin.stdout() === `apple listening on ${standin.url}\n`, standin.stdout());
  }
}

try {
  await attempt("company IdP", companyIdp);
  await attempt("Apple stand-in", apple);
} finally {
  await browser.close();
  callbackServer.close();
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
}
console.log(`idp: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
