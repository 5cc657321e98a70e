// An app signs a user in through Registrar's hosted pages with a certified
// OpenID Connect relying party we did not write (openid-client 6), in a real
// browser (Chromium through playwright-core), against the local API as
// `cargo run` serves it with one public client registered by
// REGISTRAR_OAUTH_CLIENTS:
//   discovery → the authorization URL (PKCE S256, state, nonce) → the hosted
//   sign-in page, filled by its autocomplete tokens → the redirect back with
//   the code → authorizationCodeGrant (the ID token checked by the library:
//   signature, iss, aud, nonce, at_hash) → fetchUserInfo → a refresh grant
//   (rotated) → a second authorization in the same browser needs no
//   password → a German page from ui_locales=de → an unregistered redirect
//   URI gets an error page, never a redirect → RP-initiated logout → the
//   README's example app (examples/openid-app.mjs) signs a user in. Then
//   more ways in, each user in a browser of its own: the second factor by
//   an authenticator app (TOTP enrolled through the API, its codes computed
//   here) on the pages' mfa step; a passkey (Chromium's virtual
//   authenticator, registered through the API from the pages' origin) on
//   the pages' passkey screen, whose one script asks the browser for the
//   assertion; and revocation (tokenRevocation), after which userinfo and
//   the refresh grant are refused.
//
//   node scripts/oidc-test.mjs target/debug/registrar
//
// Prints one closing line, `oidc: N passed, M failed`, and exits non-zero
// when a check fails. Installed by scripts/test.sh into .node/.

import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { copyFileSync, createWriteStream, mkdtempSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import { createHmac } from "node:crypto";

const require = createRequire(join(process.cwd(), ".node", "node_modules", "x.js"));
const client = await import(require.resolve("openid-client"));
const { chromium } = require("playwright-core");

const API_KEY = "sk_oidc_" + Math.random().toString(16).slice(2);
const CODE = "135790";
const EMAIL = "olivia@example.com";
const PASSWORD = process.env.OIDC_TEST_SECRET || "Str0ng!Pass";
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

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

// The app's callback: records what the browser brought back.
const callbacks = [];
const app = createServer((request, response) => {
  // Only the callback counts (the browser also asks for /favicon.ico).
  const url = new URL(request.url, "http://localhost");
  if (url.pathname === "/callback") callbacks.push(url);
  response.writeHead(200, { "content-type": "text/plain" });
  response.end("back at the app");
});
await new Promise((resolve) => app.listen(0, "127.0.0.1", resolve));
const appOrigin = `http://localhost:${app.address().port}`;
const redirectUri = `${appOrigin}/callback`;
const afterLogout = `${appOrigin}/signed-out`;

// The README's example app (examples/openid-app.mjs) gets a port and a
// client of its own.
const examplePort = await new Promise((resolve) => {
  const probe = createServer().listen(0, "127.0.0.1", () => {
    const { port } = probe.address();
    probe.close(() => resolve(port));
  });
});
const exampleRedirect = `http://localhost:${examplePort}/callback`;

const outbox = mkdtempSync(join(tmpdir(), "registrar-oidc-"));
const logDir = process.env.REGISTRAR_TEST_LOG_DIR;
const server = spawn(process.argv[2], [], {
  env: {
    ...process.env,
    REGISTRAR_ADDR: "127.0.0.1:0",
    REGISTRAR_API_KEY: API_KEY,
    REGISTRAR_SANDBOX_CODE: CODE,
    REGISTRAR_PHONE_REQUIRED: "false",
    REGISTRAR_OUTBOX_DIR: outbox,
    REGISTRAR_LOG_FORMAT: "json",
    // Codes and passkeys besides the password (the pages offer them).
    REGISTRAR_SIGN_IN_METHODS: "password,email_code,sms_code,passkey",
    REGISTRAR_OAUTH_CLIENTS: JSON.stringify([
      { client_id: "web-app", redirect_uris: [redirectUri], post_logout_redirect_uris: [afterLogout], public: true },
      { client_id: "example-app", redirect_uris: [exampleRedirect], public: true },
    ]),
  },
  stdio: ["ignore", "pipe", "pipe"],
});
if (logDir) server.stderr.pipe(createWriteStream(join(logDir, "oidc-api.jsonl")));
else server.stderr.resume();
const banner = await new Promise((resolve) => {
  let text = "";
  server.stdout.on("data", (chunk) => {
    text += chunk;
    if (text.includes("\n")) resolve(text);
  });
  server.on("exit", () => resolve(text));
});
const bound = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(banner);
if (!bound) {
  console.log(`the local API did not say where it listens: ${JSON.stringify(banner)}`);
  process.exit(2);
}
server.stdout.resume();
const api = `http://127.0.0.1:${bound[1]}`;

let browser;
let example;
try {
  // The user, signed up through the JSON API (the e-mail code is the sandbox's).
  const json = { "content-type": "application/json", "x-api-key": API_KEY };
  const started = await (await fetch(`${api}/v1/registrations`, {
    method: "POST",
    headers: json,
    body: JSON.stringify({
      email: EMAIL, password: PASSWORD, first_name: "Olivia", last_name: "Oidc",
      terms_accepted: true, privacy_policy_accepted: true,
    }),
  })).json();
  const verified = await fetch(`${api}/v1/registrations/${started.registration_id}/email/verify`, {
    method: "POST",
    headers: { ...json, "x-device-id": "setup" },
    body: JSON.stringify({ code: CODE }),
  });
  check("the user signs up through the API", verified.status === 201, verified.status);

  // The issuer the local API names is its own address.
  const discovered = await (await fetch(`${api}/.well-known/openid-configuration`)).json();
  const config = await client.discovery(new URL(discovered.issuer), "web-app", undefined, client.None(), {
    execute: [client.allowInsecureRequests],
  });
  const metadata = config.serverMetadata();
  check("discovery names the authorization endpoint", Boolean(metadata.authorization_endpoint), metadata);
  check("discovery offers the code flow with S256 only",
    JSON.stringify(metadata.response_types_supported) === '["code"]'
      && JSON.stringify(metadata.code_challenge_methods_supported) === '["S256"]', metadata);

  async function authorizationUrl(extra = {}) {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: "openid email profile offline_access",
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
      nonce,
      ...extra,
    });
    return { url, verifier, state, nonce };
  }

  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
  const context = await browser.newContext();
  const page = await context.newPage();

  const first = await authorizationUrl({ login_hint: EMAIL });
  const shown = await page.goto(first.url.href);
  const headers = shown.headers();
  check("the sign-in page is HTML that no one may frame",
    shown.status() === 200 && (headers["content-security-policy"] || "").includes("frame-ancestors 'none'"), headers);
  check("the page is in English by default", (await page.getAttribute("html", "lang")) === "en",
    await page.getAttribute("html", "lang"));
  check("login_hint fills the username field",
    (await page.inputValue('input[autocomplete~="username"]')) === EMAIL, await page.content());
  const label = await page.locator('label[for="password"]').count();
  check("the password field is labelled", label === 1, label);

  // A wrong password: the same page again, with an alert.
  await page.fill('input[autocomplete="current-password"]', "Wr0ng!Pass");
  await Promise.all([page.waitForLoadState("load"), page.click('button[type="submit"]')]);
  await page.waitForSelector('[role="alert"]');
  check("a wrong password shows the page again with an alert", callbacks.length === 0,
    await page.locator('[role="alert"]').innerText());

  await page.fill('input[autocomplete="current-password"]', PASSWORD);
  await Promise.all([
    page.waitForURL((url) => url.href.startsWith(redirectUri), { timeout: 15000 }),
    page.click('button[type="submit"]'),
  ]);
  const back = new URL(page.url());
  check("the browser comes back to the app with a code and the state",
    Boolean(back.searchParams.get("code")) && back.searchParams.get("state") === first.state, back.href);

  const tokens = await client.authorizationCodeGrant(config, back, {
    pkceCodeVerifier: first.verifier,
    expectedState: first.state,
    expectedNonce: first.nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  check("the ID token is accepted by openid-client (signature, iss, aud, nonce, at_hash)",
    Boolean(claims?.sub) && claims.nonce === first.nonce, claims);
  check("the ID token says how and when the user signed in",
    Array.isArray(claims.amr) && claims.amr.includes("pwd") && typeof claims.auth_time === "number", claims);
  check("a refresh token came with offline_access", Boolean(tokens.refresh_token), Object.keys(tokens));

  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  check("userinfo gives the granted claims", userinfo.email === EMAIL && userinfo.given_name === "Olivia", userinfo);

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  check("the refresh grant rotates the refresh token",
    Boolean(refreshed.access_token) && refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token,
    Object.keys(refreshed));
  // Within its 10 s of grace (docs/sessions-and-keys.md) the replaced token
  // gets the very same successor, so parallel requests of one app agree;
  // presented later it ends the session (tests/api/openid.rs).
  const again = await client.refreshTokenGrant(config, tokens.refresh_token);
  check("the replaced refresh token, within its grace, gets the same successor",
    again.refresh_token === refreshed.refresh_token, Object.keys(again));

  // The same browser: the hosted session signs the user in without a password.
  const second = await authorizationUrl();
  await page.goto(second.url.href);
  await page.waitForURL((url) => url.href.startsWith(redirectUri), { timeout: 15000 });
  const returned = new URL(page.url());
  const secondTokens = await client.authorizationCodeGrant(config, returned, {
    pkceCodeVerifier: second.verifier,
    expectedState: second.state,
    expectedNonce: second.nonce,
  });
  check("a second authorization in the same browser needs no password",
    secondTokens.claims()?.sub === claims.sub, secondTokens.claims());

  // Another browser, in German.
  const german = await browser.newContext();
  const germanPage = await german.newPage();
  const third = await authorizationUrl({ ui_locales: "de" });
  await germanPage.goto(third.url.href);
  check("ui_locales=de gives a German page", (await germanPage.getAttribute("html", "lang")) === "de",
    await germanPage.getAttribute("html", "lang"));
  const prompt = await authorizationUrl({ prompt: "none" });
  await germanPage.goto(prompt.url.href);
  await germanPage.waitForURL((url) => url.href.startsWith(redirectUri), { timeout: 15000 });
  check("prompt=none without a session goes back with login_required",
    new URL(germanPage.url()).searchParams.get("error") === "login_required", germanPage.url());

  // A redirect URI the client did not register: an error page, no redirect.
  const foreign = new URL(third.url.href);
  foreign.searchParams.set("redirect_uri", "https://attacker.example/callback");
  const count = callbacks.length;
  const refused = await germanPage.goto(foreign.href);
  check("an unregistered redirect URI gets an error page, never a redirect",
    refused.status() === 400 && new URL(germanPage.url()).host === new URL(api).host && callbacks.length === count,
    { status: refused.status(), url: germanPage.url(), api, before: count, after: callbacks.length });

  // RP-initiated logout ends the session; the client's tokens stop working.
  const logout = client.buildEndSessionUrl(config, {
    id_token_hint: secondTokens.id_token,
    post_logout_redirect_uri: afterLogout,
    state: "bye",
  });
  await page.goto(logout.href);
  await page.waitForURL((url) => url.href.startsWith(afterLogout), { timeout: 15000 });
  check("logout goes back to the registered address with the state",
    new URL(page.url()).searchParams.get("state") === "bye", page.url());
  let ended = null;
  try {
    await client.fetchUserInfo(config, secondTokens.access_token, claims.sub);
  } catch (error) {
    ended = error;
  }
  check("after logout the session's access token is refused", ended !== null, String(ended));
  // A shared computer: after the app's logout, the next person at this
  // browser is asked for the password, never signed in as the last one.
  const next = await authorizationUrl();
  await page.goto(next.url.href);
  check("after logout the same browser is asked for the password again",
    (await page.locator('input[autocomplete="current-password"]').count()) === 1 && !page.url().startsWith(redirectUri),
    page.url());

  // The README's example app, as written, run from a folder of its own with
  // openid-client beside it: a user signs in through it in a fresh browser.
  check("the README shows examples/openid-app.mjs as it is",
    readFileSync("README.md", "utf8").includes(readFileSync("examples/openid-app.mjs", "utf8")), "README.md differs");
  const exampleDir = mkdtempSync(join(tmpdir(), "registrar-example-"));
  copyFileSync("examples/openid-app.mjs", join(exampleDir, "openid-app.mjs"));
  symlinkSync(join(process.cwd(), ".node", "node_modules"), join(exampleDir, "node_modules"));
  example = spawn("node", [join(exampleDir, "openid-app.mjs")], {
    env: { ...process.env, ISSUER: api, CLIENT_ID: "example-app", PORT: String(examplePort) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise((resolve, reject) => {
    example.stdout.once("data", resolve);
    example.once("exit", (code) => reject(new Error(`the example app exited (${code})`)));
  });
  const visitor = await (await browser.newContext()).newPage();
  await visitor.goto(`http://localhost:${examplePort}/`);
  await visitor.fill('input[autocomplete~="username"]', EMAIL);
  await visitor.fill('input[autocomplete="current-password"]', PASSWORD);
  await Promise.all([
    visitor.waitForURL((url) => url.href.startsWith(exampleRedirect), { timeout: 15000 }),
    visitor.click('button[type="submit"]'),
  ]);
  const greeting = await visitor.innerText("body");
  check("the README's example app signs the user in and reads userinfo", greeting === `Hello, ${EMAIL}`, greeting);

  // ---- More ways in, each user and browser its own.
  async function signUp(email) {
    const begun = await (await fetch(`${api}/v1/registrations`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({
        email, password: PASSWORD, first_name: "Oskar", last_name: "Oidc",
        terms_accepted: true, privacy_policy_accepted: true,
      }),
    })).json();
    const done = await fetch(`${api}/v1/registrations/${begun.registration_id}/email/verify`, {
      method: "POST",
      headers: { ...json, "x-device-id": "setup" },
      body: JSON.stringify({ code: CODE }),
    });
    return done.json();
  }
  async function callApi(path, body, accessToken) {
    const response = await fetch(`${api}${path}`, {
      method: "POST",
      headers: { ...json, authorization: `Bearer ${accessToken}`, "x-device-id": "setup" },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json().catch(() => null) };
  }
  async function redeem(target, url) {
    return client.authorizationCodeGrant(config, url, {
      pkceCodeVerifier: target.verifier,
      expectedState: target.state,
      expectedNonce: target.nonce,
      idTokenExpected: true,
    });
  }

  // (1) The second factor by an authenticator app: RFC 6238 (HMAC-SHA1,
  // 30 s, 6 digits) computed here from the secret the API enrolled.
  const base32 = (text) => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let bits = "";
    for (const c of text.replace(/=+$/, "")) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
    const bytes = [];
    for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
    return Buffer.from(bytes);
  };
  const totp = (secret, step) => {
    const counter = Buffer.alloc(8);
    counter.writeBigUInt64BE(BigInt(step));
    const mac = createHmac("sha1", base32(secret)).update(counter).digest();
    const offset = mac[mac.length - 1] & 0x0f;
    return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1000000).padStart(6, "0");
  };
  const TOTP_EMAIL = "tobias@example.com";
  const totpUser = await signUp(TOTP_EMAIL);
  const enrolled = await callApi("/v1/me/factors/totp", { current_password: PASSWORD }, totpUser.access_token);
  check("a user enrolls an authenticator app through the API", enrolled.status === 201 && enrolled.body?.secret,
    enrolled);
  const step = Math.floor(Date.now() / 30000);
  const confirmed = await callApi("/v1/me/factors/totp/confirm", { code: totp(enrolled.body.secret, step) },
    totpUser.access_token);
  check("the app's code confirms it", confirmed.status === 200, confirmed);
  const totpContext = await browser.newContext();
  const totpPage = await totpContext.newPage();
  const withTotp = await authorizationUrl({ login_hint: TOTP_EMAIL });
  await totpPage.goto(withTotp.url.href);
  await totpPage.fill('input[autocomplete="current-password"]', PASSWORD);
  await Promise.all([totpPage.waitForLoadState("load"), totpPage.click('button[type="submit"]')]);
  await totpPage.waitForSelector('input[autocomplete="one-time-code"]');
  check("the password leads to the second factor's page", !totpPage.url().startsWith(redirectUri)
    && (await totpPage.locator('input[name="challenge_id"]').count()) === 1, totpPage.url());
  if (await totpPage.locator('select[name="factor"]').count()) {
    await totpPage.selectOption('select[name="factor"]', "totp");
  }
  // The next step's code: the confirmation spent this one (each once), and
  // one step of skew is accepted.
  await totpPage.fill('input[autocomplete="one-time-code"]', totp(enrolled.body.secret, step + 1));
  await Promise.all([
    totpPage.waitForURL((url) => url.href.startsWith(redirectUri), { timeout: 15000 }),
    totpPage.click('button[type="submit"]'),
  ]);
  const totpTokens = await redeem(withTotp, new URL(totpPage.url()));
  const totpClaims = totpTokens.claims();
  check("the app's code on the pages ends with an ID token openid-client accepts",
    Array.isArray(totpClaims?.amr) && totpClaims.amr.includes("pwd") && totpClaims.amr.includes("otp")
      && totpClaims.nonce === withTotp.nonce, totpClaims);
  await totpContext.close();

  // (2) A passkey. The tenant's relying party is `localhost`, so the
  // browser goes to the pages as http://localhost:port (the same server).
  const PASSKEY_EMAIL = "pia@example.com";
  const passkeyUser = await signUp(PASSKEY_EMAIL);
  const localApi = api.replace("127.0.0.1", "localhost");
  const passkeyContext = await browser.newContext();
  const passkeyPage = await passkeyContext.newPage();
  const cdp = await passkeyContext.newCDPSession(passkeyPage);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2", transport: "internal", hasResidentKey: true,
      hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
    },
  });
  // Registered through the API from the pages' origin (the demo page's,
  // whose CSP lets it call the API).
  await passkeyPage.goto(`${localApi}/demo/`);
  const registered = await passkeyPage.evaluate(async ({ apiKey, accessToken, password }) => {
    const headers = { "content-type": "application/json", "x-api-key": apiKey, authorization: `Bearer ${accessToken}` };
    const start = await (await fetch("/v1/me/passkeys/options", {
      method: "POST", headers, body: JSON.stringify({ current_password: password }),
    })).json();
    const clean = (value) => Array.isArray(value) ? value.map(clean)
      : value && typeof value === "object"
        ? Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, clean(v)]))
        : value;
    const options = PublicKeyCredential.parseCreationOptionsFromJSON(clean(start.publicKey));
    const credential = await navigator.credentials.create({ publicKey: options });
    const done = await fetch("/v1/me/passkeys", {
      method: "POST", headers,
      body: JSON.stringify({ ceremony_id: start.ceremony_id, credential: credential.toJSON(), name: "Chromium" }),
    });
    return done.status;
  }, { apiKey: API_KEY, accessToken: passkeyUser.access_token, password: PASSWORD });
  const stored = (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials;
  check("a passkey is registered in the virtual authenticator", registered === 201 && stored.length === 1,
    { registered, stored: stored.length });
  const withPasskey = await authorizationUrl();
  const passkeyUrl = new URL(withPasskey.url.href.replace(api, localApi));
  await passkeyPage.goto(passkeyUrl.href);
  const link = passkeyPage.locator('a[href*="screen=passkey"]');
  check("the sign-in page offers a passkey", (await link.count()) === 1, await passkeyPage.content());
  const [shownPasskey] = await Promise.all([passkeyPage.waitForNavigation(), link.click()]);
  const csp = shownPasskey?.headers()["content-security-policy"] || "";
  check("the passkey page allows its one script by its hash", /script-src 'sha256-[A-Za-z0-9+/=]+';/.test(csp), csp);
  // The button appears once the script runs (hidden without JavaScript).
  await passkeyPage.waitForSelector("#passkey-button", { state: "visible" });
  await Promise.all([
    passkeyPage.waitForURL((url) => url.href.startsWith(redirectUri), { timeout: 15000 }),
    passkeyPage.click("#passkey-button"),
  ]);
  const passkeyTokens = await redeem(withPasskey, new URL(passkeyPage.url()));
  const passkeyClaims = passkeyTokens.claims();
  check("the passkey on the pages ends with an ID token openid-client accepts",
    Array.isArray(passkeyClaims?.amr) && passkeyClaims.amr.includes("hwk") && passkeyClaims.nonce === withPasskey.nonce,
    passkeyClaims);
  const counted = (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials;
  check("the authenticator signed once", counted[0]?.signCount >= 1, counted);

  // (3) Revocation: the refresh token revoked ends its session; the access
  // token and the refresh token are refused after it.
  await client.tokenRevocation(config, passkeyTokens.refresh_token, { token_type_hint: "refresh_token" });
  let userinfoAfter = null;
  try {
    await client.fetchUserInfo(config, passkeyTokens.access_token, passkeyClaims.sub);
  } catch (error) {
    userinfoAfter = error;
  }
  check("after revocation userinfo refuses the access token", userinfoAfter !== null, String(userinfoAfter));
  let refreshAfter = null;
  try {
    await client.refreshTokenGrant(config, passkeyTokens.refresh_token);
  } catch (error) {
    refreshAfter = error;
  }
  check("after revocation the refresh grant is refused",
    refreshAfter !== null && (refreshAfter.error === "invalid_grant" || String(refreshAfter).includes("invalid_grant")),
    String(refreshAfter));
  await passkeyContext.close();
} catch (error) {
  check("the flow ran to its end", false, error?.stack || String(error));
} finally {
  if (example) example.kill();
  if (browser) await browser.close();
  server.kill();
  app.close();
}
console.log(`oidc: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
