// Registrar signs users in with other identity providers (SPEC §14) on its
// hosted pages, proven end to end with tools we did not write: an app
// (openid-client 6, a certified OpenID Connect relying party) signs users in
// through Registrar in a real browser (Chromium through playwright-core),
// and Registrar in turn is the relying party of
//   - a company IdP: panva's oidc-provider, a certified OpenID Provider
//     (scripts/idp/company-idp.mjs), and
//   - a Sign in with Apple stand-in (scripts/idp/apple-standin.mjs): its
//     answer as a form post, Registrar's client secret an ES256 JWT signed
//     with a P-256 key generated here.
// The local API runs as `cargo run` serves it, with one public client
// (REGISTRAR_OAUTH_CLIENTS) and the providers in REGISTRAR_IDENTITY_PROVIDERS:
//   (1) a new user through the company IdP: the sign-in page's "Continue with
//       Corp SSO" → the IdP's login page → the legal documents → the app's
//       code → the ID token checked by openid-client, amr "fed" → userinfo;
//   (2) the same person again in a fresh browser: no legal page, same sub;
//   (3) identity_provider=corp on the authorization URL goes straight to the
//       IdP (no page of Registrar's in between);
//   (4) an existing account (signed up through the JSON API) whose address
//       the IdP names is linked only after its password (a wrong one shows
//       the page again with an alert); then the IdP signs it in directly;
//   (5) the Apple stand-in: its form post to /oauth2/idpresponse, made
//       cross-site as Apple's is (no cookie), posted again by Registrar's
//       interstitial page from its own origin → the legal page → the app's
//       code, amr "fed", and the name from Apple's posted `user` JSON in
//       userinfo; the code exchange there needs a valid ES256 client secret;
//   (7) the company IdP going down: its code exchange failing answers a 503
//       page and never the app; a provider that cannot be reached at all
//       answers 503 at its button.
//
//   node scripts/idp-test.mjs target/debug/registrar
//
// Prints one closing line, `idp: N passed, M failed`, and exits non-zero
// when a check fails. Installed by scripts/test.sh into .node/.

import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { createWriteStream, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import { generateKeyPairSync, randomBytes } from "node:crypto";

const require = createRequire(join(process.cwd(), ".node", "node_modules", "x.js"));
const client = await import(require.resolve("openid-client"));
const { chromium } = require("playwright-core");

const API_KEY = "sk_idp_" + randomBytes(8).toString("hex");
const CODE = "135790";
const PASSWORD = process.env.IDP_TEST_SECRET || "Str0ng!Pass";
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const IDP_CLIENT_ID = "registrar";
const IDP_CLIENT_SECRET = "corp-" + randomBytes(12).toString("hex");
const APPLE_CLIENT_ID = "com.example.registrar";
const APPLE_TEAM_ID = "TEAM123456";
const APPLE_KEY_ID = "KEY1234567";
const logDir = process.env.REGISTRAR_TEST_LOG_DIR;

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
// One case's failure is its own: the next case still runs.
async function attempt(name, fn) {
  try {
    await fn();
  } catch (error) {
    check(name, false, String(error?.stack || error));
  }
}

function freePort() {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

// A child process, and the first stdout line that matches `pattern`.
const children = [];
async function start(command, args, env, pattern, stderrFile) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  if (logDir && stderrFile) child.stderr.pipe(createWriteStream(join(logDir, stderrFile)));
  else child.stderr.resume();
  const text = await new Promise((resolve) => {
    let seen = "";
    const onData = (chunk) => {
      seen += chunk;
      if (pattern.test(seen)) {
        child.stdout.off("data", onData);
        resolve(seen);
      }
    };
    child.stdout.on("data", onData);
    child.on("exit", () => resolve(seen));
  });
  const found = pattern.exec(text);
  if (!found) {
    console.log(`${command} ${args.join(" ")} did not say where it listens: ${JSON.stringify(text)}`);
    for (const other of children) other.kill();
    process.exit(2);
  }
  child.stdout.resume();
  return { child, url: found[1] };
}

// The app's callback: records what the browser brought back.
const callbacks = [];
const app = createServer((request, response) => {
  const url = new URL(request.url, "http://localhost");
  if (url.pathname === "/callback") callbacks.push(url);
  response.writeHead(200, { "content-type": "text/plain" });
  response.end("back at the app");
});
await new Promise((resolve) => app.listen(0, "127.0.0.1", resolve));
const appOrigin = `http://localhost:${app.address().port}`;
const redirectUri = `${appOrigin}/callback`;

// Registrar's port first: both providers need its redirect URI at start,
// and it needs their issuers.
const registrarPort = await freePort();
const api = `http://127.0.0.1:${registrarPort}`;
const idpResponse = `${api}/oauth2/idpresponse`;
// A port where nothing listens: a provider that cannot be reached.
const gonePort = await freePort();

// The developer's key for Sign in with Apple: Registrar signs its client
// secret with the private half (the .p8), the stand-in checks it with the
// public half.
const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const applePrivatePem = privateKey.export({ type: "pkcs8", format: "pem" });
const applePublicPem = publicKey.export({ type: "spki", format: "pem" });

const corp = await start("node", ["scripts/idp/company-idp.mjs"], {
  IDP_CLIENT_ID, IDP_CLIENT_SECRET, IDP_REDIRECT_URI: idpResponse,
}, /idp listening on (http:\/\/127\.0\.0\.1:\d+)/, "idp-company.log");
const apple = await start("node", ["scripts/idp/apple-standin.mjs"], {
  APPLE_CLIENT_ID, APPLE_REDIRECT_URI: idpResponse, APPLE_TEAM_ID, APPLE_KEY_ID, APPLE_PUBLIC_KEY: applePublicPem,
}, /apple listening on (http:\/\/127\.0\.0\.1:\d+)/, "idp-apple.log");

const outbox = mkdtempSync(join(tmpdir(), "registrar-idp-"));
const registrar = await start(process.argv[2], [], {
  REGISTRAR_ADDR: `127.0.0.1:${registrarPort}`,
  REGISTRAR_API_KEY: API_KEY,
  REGISTRAR_SANDBOX_CODE: CODE,
  REGISTRAR_PHONE_REQUIRED: "false",
  REGISTRAR_OUTBOX_DIR: outbox,
  REGISTRAR_LOG_FORMAT: "json",
  REGISTRAR_OAUTH_CLIENTS: JSON.stringify([{ client_id: "web-app", redirect_uris: [redirectUri], public: true }]),
  REGISTRAR_IDENTITY_PROVIDERS: JSON.stringify([
    {
      id: "corp", kind: "oidc", issuer: corp.url, client_id: IDP_CLIENT_ID, client_secret: IDP_CLIENT_SECRET,
      name: "Corp SSO",
    },
    {
      id: "apple", kind: "apple", issuer: apple.url, client_id: APPLE_CLIENT_ID, client_secret: applePrivatePem,
      team_id: APPLE_TEAM_ID, key_id: APPLE_KEY_ID,
    },
    // Nothing listens there: its button meets a provider that is down.
    {
      id: "gone", kind: "oidc", issuer: `http://127.0.0.1:${gonePort}`, client_id: "registrar",
      client_secret: "unused", name: "Gone IdP",
    },
  ]),
}, /listening on (http:\/\/127\.0\.0\.1:\d+)/, "idp-api.jsonl");
check("Registrar listens where its issuer says", registrar.url === api, { listening: registrar.url, api });

let browser;
try {
  const json = { "content-type": "application/json", "x-api-key": API_KEY };
  const discovered = await (await fetch(`${api}/.well-known/openid-configuration`)).json();
  check("Registrar's issuer is the host it listens on", discovered.issuer === api, discovered.issuer);
  const config = await client.discovery(new URL(discovered.issuer), "web-app", undefined, client.None(), {
    execute: [client.allowInsecureRequests],
  });

  async function authorizationUrl(extra = {}) {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: "openid email profile",
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
      nonce,
      ...extra,
    });
    return { url, verifier, state, nonce };
  }
  async function redeem(target, url) {
    return client.authorizationCodeGrant(config, url, {
      pkceCodeVerifier: target.verifier,
      expectedState: target.state,
      expectedNonce: target.nonce,
      idTokenExpected: true,
    });
  }
  const atApp = (url) => url.href.startsWith(redirectUri);
  const atRegistrar = (url) => url.origin === api;
  const atCorp = (url) => url.origin === corp.url;
  const atApple = (url) => url.origin === apple.url;

  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
  async function freshPage() {
    const context = await browser.newContext();
    return context.newPage();
  }

  // The company IdP's login page (oidc-provider's development interaction):
  // any password; the login is the account. Resolves when the browser is
  // back at Registrar or at the app.
  async function corpLogin(page, login) {
    await page.waitForSelector('input[name="login"]');
    await page.fill('input[name="login"]', login);
    await page.fill('input[name="password"]', "any-password");
    await Promise.all([
      page.waitForURL((url) => atApp(url) || atRegistrar(url), { timeout: 15000 }),
      page.click('button[type="submit"]'),
    ]);
  }
  // The legal documents page of a new user: both boxes, then the app.
  async function acceptLegal(page) {
    await page.check('input[name="terms_accepted"]');
    if (await page.locator('input[name="privacy_policy_accepted"]').count()) {
      await page.check('input[name="privacy_policy_accepted"]');
    }
    await Promise.all([
      page.waitForURL(atApp, { timeout: 15000 }),
      page.click('button[type="submit"]'),
    ]);
  }
  const onLegalPage = async (page) => atRegistrar(new URL(page.url()))
    && (await page.locator('input[name="terms_accepted"]').count()) === 1;

  // ---- (1) A new user through the company IdP.
  const NORA = "nora.new@corp.example";
  let noraSub;
  await attempt("(1) a new user signs in through the company IdP", async () => {
    const page = await freshPage();
    const target = await authorizationUrl();
    await page.goto(target.url.href);
    const button = page.locator(`a[href*="identity_provider=corp"]`);
    const label = (await button.count()) === 1 ? (await button.innerText()).trim() : "";
    check("(1) the sign-in page shows a \"Continue with Corp SSO\" link", label === "Continue with Corp SSO",
      await page.content());
    await Promise.all([page.waitForURL(atCorp, { timeout: 15000 }), button.click()]);
    check("(1) the link goes to the company IdP's login page",
      (await page.locator('input[name="login"]').count()) === 1, page.url());
    await corpLogin(page, NORA);
    check("(1) a new user is shown the legal documents, not yet the app", await onLegalPage(page),
      { url: page.url(), body: await page.innerText("body") });
    await acceptLegal(page);
    const back = new URL(page.url());
    check("(1) the app's callback gets a code and its state",
      Boolean(back.searchParams.get("code")) && back.searchParams.get("state") === target.state, back.href);
    const tokens = await redeem(target, back);
    const claims = tokens.claims();
    check("(1) openid-client accepts the ID token (signature, iss, aud, nonce, at_hash)",
      Boolean(claims?.sub) && claims.nonce === target.nonce && claims.iss === api, claims);
    check("(1) the ID token's amr says the user signed in with another provider",
      Array.isArray(claims.amr) && claims.amr.includes("fed"), claims);
    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    check("(1) userinfo names the IdP's address, verified, and the IdP's name",
      info.email === NORA && info.email_verified === true && info.given_name === "Nora", info);
    noraSub = claims.sub;
    await page.context().close();
  });

  // ---- (2) The same person again, in a fresh browser.
  await attempt("(2) a returning user signs in through the company IdP", async () => {
    const page = await freshPage();
    const target = await authorizationUrl();
    await page.goto(target.url.href);
    await Promise.all([page.waitForURL(atCorp, { timeout: 15000 }), page.click('a[href*="identity_provider=corp"]')]);
    await corpLogin(page, NORA);
    check("(2) a returning user goes straight to the app (no legal page)", atApp(new URL(page.url())), page.url());
    const tokens = await redeem(target, new URL(page.url()));
    const claims = tokens.claims();
    check("(2) the same sub as the first sign-in", Boolean(noraSub) && claims.sub === noraSub,
      { first: noraSub, now: claims.sub });
    await page.context().close();
  });

  // ---- (3) identity_provider=corp: straight to the IdP.
  await attempt("(3) identity_provider=corp goes straight to the IdP", async () => {
    const page = await freshPage();
    const target = await authorizationUrl({ identity_provider: "corp" });
    const shown = await page.goto(target.url.href);
    const chain = [];
    for (let request = shown.request(); request; request = request.redirectedFrom()) {
      chain.unshift({ url: request.url(), status: (await request.response())?.status() });
    }
    const ours = chain.filter((step) => atRegistrar(new URL(step.url)));
    check("(3) Registrar only redirects, and the browser lands on the IdP's login page",
      ours.length === 1 && ours[0].status === 302 && atCorp(new URL(page.url()))
        && (await page.locator('input[name="login"]').count()) === 1, chain);
    await corpLogin(page, NORA);
    const back = new URL(page.url());
    const tokens = atApp(back) ? await redeem(target, back) : null;
    check("(3) and comes back to the app as the same user", tokens?.claims()?.sub === noraSub,
      { url: page.url(), sub: tokens?.claims()?.sub });
    await page.context().close();
  });

  // ---- (4) An existing account is linked only after its password.
  const OLAF = "olaf@corp.example";
  await attempt("(4) an existing account links after its password", async () => {
    const begun = await (await fetch(`${api}/v1/registrations`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({
        email: OLAF, password: PASSWORD, first_name: "Olaf", last_name: "Existing",
        terms_accepted: true, privacy_policy_accepted: true,
      }),
    })).json();
    const verified = await fetch(`${api}/v1/registrations/${begun.registration_id}/email/verify`, {
      method: "POST",
      headers: { ...json, "x-device-id": "setup" },
      body: JSON.stringify({ code: CODE }),
    });
    const signedUp = await verified.json();
    check("(4) the account is signed up through the JSON API", verified.status === 201 && Boolean(signedUp.user_id),
      { status: verified.status, user_id: signedUp.user_id });
    const userId = signedUp.user_id;

    const page = await freshPage();
    const target = await authorizationUrl();
    const before = callbacks.length;
    await page.goto(target.url.href);
    await Promise.all([page.waitForURL(atCorp, { timeout: 15000 }), page.click('a[href*="identity_provider=corp"]')]);
    await corpLogin(page, OLAF);
    const password = page.locator('input[autocomplete="current-password"]');
    const body = await page.innerText("body");
    check("(4) the IdP's address of an existing account gets the link page, not the app",
      atRegistrar(new URL(page.url())) && (await password.count()) === 1 && body.includes(OLAF)
        && callbacks.length === before, { url: page.url(), body });

    await page.fill('input[autocomplete="current-password"]', "Wr0ng!Pass");
    await Promise.all([page.waitForLoadState("load"), page.click('button[type="submit"]')]);
    await page.waitForSelector('[role="alert"]', { timeout: 15000 });
    check("(4) a wrong password shows the link page again with an alert",
      (await password.count()) === 1 && callbacks.length === before && !atApp(new URL(page.url())),
      await page.locator('[role="alert"]').innerText());

    await page.fill('input[autocomplete="current-password"]', PASSWORD);
    await Promise.all([page.waitForURL(atApp, { timeout: 15000 }), page.click('button[type="submit"]')]);
    const tokens = await redeem(target, new URL(page.url()));
    const claims = tokens.claims();
    check("(4) the right password links and signs in the existing account (its id as sub)",
      Boolean(userId) && claims.sub === userId, { sub: claims.sub, userId });
    await page.context().close();

    const later = await freshPage();
    const again = await authorizationUrl();
    await later.goto(again.url.href);
    await Promise.all([later.waitForURL(atCorp, { timeout: 15000 }), later.click('a[href*="identity_provider=corp"]')]);
    await corpLogin(later, OLAF);
    check("(4) once linked, the IdP signs the account in straight to the app", atApp(new URL(later.url())),
      { url: later.url(), body: await later.innerText("body") });
    if (atApp(new URL(later.url()))) {
      const laterClaims = (await redeem(again, new URL(later.url()))).claims();
      check("(4) as the same account", laterClaims.sub === userId, { sub: laterClaims.sub, userId });
    }
    await later.context().close();
  });

  // ---- (5) The Apple stand-in: form_post, an ES256 client secret.
  const ADA = "ada.apple@icloud.example";
  await attempt("(5) a new user signs in with Apple (stand-in)", async () => {
    const page = await freshPage();
    // Apple's form post is cross-site, so the browser sends no SameSite=Lax
    // cookie with it. Here both run on 127.0.0.1 (one site, ports aside)
    // and Chromium would send the cookie, so the provider's post is made
    // here without the browser's cookies, as a cross-site post arrives,
    // and its answer given to the browser; Registrar's own post again
    // (resubmitted=true) goes as the browser sends it.
    const posts = [];
    let interstitial = null;
    await page.route(idpResponse, async (route) => {
      const request = route.request();
      if (request.method() !== "POST") return route.continue();
      const headers = await request.allHeaders();
      const form = new URLSearchParams(request.postData() || "");
      const resubmitted = form.get("resubmitted") === "true";
      posts.push({ resubmitted, user: form.get("user"), cookie: Boolean(headers.cookie) });
      if (resubmitted) return route.continue();
      const answer = await fetch(idpResponse, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": headers["content-type"], origin: headers.origin || apple.url, referer: `${apple.url}/` },
        body: request.postData(),
      });
      const kept = {};
      answer.headers.forEach((value, name) => {
        if (name !== "content-length" && name !== "transfer-encoding") kept[name] = value;
      });
      const body = Buffer.from(await answer.arrayBuffer());
      interstitial = { status: answer.status, resubmits: body.toString("utf8").includes('name="resubmitted"') };
      return route.fulfill({ status: answer.status, headers: kept, body });
    });
    const target = await authorizationUrl();
    await page.goto(target.url.href);
    const button = page.locator('a[href*="identity_provider=apple"]');
    check("(5) the sign-in page shows a \"Continue with Apple\" link",
      (await button.count()) === 1 && (await button.innerText()).trim() === "Continue with Apple", await page.content());
    await Promise.all([page.waitForURL(atApple, { timeout: 15000 }), button.click()]);
    check("(5) the link goes to the stand-in's page", (await page.locator('input[name="login"]').count()) === 1,
      page.url());
    await page.fill('input[name="login"]', ADA);
    await Promise.all([
      page.waitForURL((url) => atRegistrar(url) || atApp(url), { timeout: 15000 }),
      page.click('button[type="submit"]'),
    ]);
    await page.waitForSelector('input[name="terms_accepted"]', { timeout: 15000 }).catch(() => {});
    check("(5) the stand-in form-posts to Registrar with Apple's user JSON",
      posts.length >= 1 && !posts[0].resubmitted && JSON.parse(posts[0].user || "{}")?.name?.firstName === "Ada", posts);
    check("(5) the cookieless post is posted again from Registrar's own page, which the browser follows",
      interstitial?.status === 200 && interstitial.resubmits && posts.length === 2 && posts[1].resubmitted
        && posts[1].cookie, { interstitial, posts });
    check("(5) a new user is shown the legal documents", await onLegalPage(page),
      { url: page.url(), body: await page.innerText("body") });
    await acceptLegal(page);
    const tokens = await redeem(target, new URL(page.url()));
    const claims = tokens.claims();
    // The stand-in answers a code only for a client secret that is an ES256
    // JWT by the developer's key (kid, iss = team, sub = client id, aud =
    // https://appleid.apple.com, at most 6 months); anything else is
    // invalid_client and Registrar could not have signed the user in. It
    // logs nothing, so this success is the proof of the client secret.
    check("(5) openid-client accepts the ID token, amr \"fed\" (the stand-in took Registrar's ES256 client secret)",
      claims.nonce === target.nonce && Array.isArray(claims.amr) && claims.amr.includes("fed"), claims);
    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    check("(5) the name from Apple's posted user JSON reached Registrar (userinfo)",
      info.given_name === "Ada" && info.family_name === "Apple" && info.email === ADA, info);
    await page.context().close();
  });

  // ---- (7) A provider that is down.
  await attempt("(7) a provider never reached", async () => {
    // Its discovery cannot be fetched: its button answers a 503 page (the
    // provider "gone", where nothing listens), never the app.
    const page = await freshPage();
    const target = await authorizationUrl();
    await page.goto(target.url.href);
    const before = callbacks.length;
    const href = await page.getAttribute('a[href*="identity_provider=gone"]', "href");
    let status = null;
    let failure = null;
    try {
      status = (await page.goto(new URL(href, api).href))?.status() ?? null;
    } catch (error) {
      failure = String(error).split("\n")[0];
    }
    check("(7) a provider that cannot be reached: its button shows a 503 page, never the app",
      status === 503 && atRegistrar(new URL(page.url())) && callbacks.length === before,
      { status, failure, url: page.url() });
    await page.context().close();
  });

  await attempt("(7) the company IdP going down midway", async () => {
    // The IdP stops while the user is at its login page: its code comes
    // back, Registrar cannot exchange it, and answers 503.
    const page = await freshPage();
    const target = await authorizationUrl();
    const before = callbacks.length;
    await page.goto(target.url.href);
    await Promise.all([page.waitForURL(atCorp, { timeout: 15000 }), page.click('a[href*="identity_provider=corp"]')]);
    // The IdP's login form is posted through the browser context's own
    // requests (its cookies), its redirects followed here up to the one
    // back to Registrar with the code; then the IdP is stopped and the
    // browser sent on to Registrar. (A route sees only the first request
    // of a redirect chain, so the browser cannot be paused at the last.)
    await page.route((url) => atCorp(url) && url.pathname.startsWith("/interaction/"), async (route) => {
      if (route.request().method() !== "POST") return route.continue();
      let answer = await route.fetch({ maxRedirects: 0 });
      let location = new URL(answer.headers().location || "", corp.url);
      for (let hop = 0; hop < 5 && atCorp(location); hop += 1) {
        answer = await page.context().request.get(location.href, { maxRedirects: 0 });
        location = new URL(answer.headers().location || "", corp.url);
      }
      await stop(corp.child);
      return route.fulfill({ status: 303, headers: { location: location.href } });
    });
    await page.fill('input[name="login"]', NORA);
    await page.fill('input[name="password"]', "any-password");
    const [answer] = await Promise.all([
      page.waitForResponse((response) => response.url().startsWith(idpResponse), { timeout: 15000 }),
      page.click('button[type="submit"]'),
    ]);
    await page.waitForLoadState("load");
    check("(7) the IdP (SIGTERM) down before its code is exchanged: a 503 page, never the app",
      corp.child.exitCode !== null && answer.status() === 503 && atRegistrar(new URL(page.url()))
        && callbacks.length === before,
      { exit: corp.child.exitCode, status: answer.status(), url: page.url(), body: await page.innerText("body") });
    await page.context().close();
  });

  await attempt("(7) the company IdP down", async () => {
    // "Continue with Corp SSO" in a fresh browser while the IdP is down.
    // Registrar keeps the provider's discovery (SPEC §14: cached, an hour
    // per warm instance), so it cannot know the IdP is down before the
    // browser goes there: it sends the browser to the IdP's authorization
    // endpoint, which the browser cannot reach. What matters: never the app.
    await stop(corp.child);
    const page = await freshPage();
    const target = await authorizationUrl();
    const before = callbacks.length;
    await page.goto(target.url.href);
    const href = await page.getAttribute('a[href*="identity_provider=corp"]', "href");
    const answer = await fetch(new URL(href, api), {
      redirect: "manual",
      headers: { cookie: (await page.context().cookies(api)).map((c) => `${c.name}=${c.value}`).join("; ") },
    });
    const location = answer.headers.get("location") || "";
    let failure = null;
    try {
      await page.goto(new URL(href, api).href);
    } catch (error) {
      failure = String(error).split("\n")[0];
    }
    check("(7) with the IdP down, \"Continue with Corp SSO\" never reaches the app (503, or the IdP's unreachable page)",
      callbacks.length === before && !atApp(new URL(page.url()))
        && (answer.status === 503 || (answer.status === 302 && location.startsWith(corp.url) && failure !== null)),
      { status: answer.status, location, failure, url: page.url() });
    await page.context().close();
  });
} catch (error) {
  check("the flow ran to its end", false, error?.stack || String(error));
} finally {
  if (browser) await browser.close();
  for (const child of children) child.kill();
  app.close();
}

function stop(child) {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", resolve);
    child.kill("SIGTERM");
  });
}

console.log(`idp: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
