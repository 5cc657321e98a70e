// A stand-in for Sign in with Apple, for testing Registrar as its relying
// party (SPEC §14) without Apple: the same discovery document, the same
// authorize parameters and form_post answer (with the `user` JSON on the first
// authorization only), the same client secret (an ES256 JWT signed with the
// developer's key), the same ID token claims (email_verified a string).
//
//   APPLE_CLIENT_ID=com.example.registrar \
//   APPLE_REDIRECT_URI=http://127.0.0.1:3000/oauth2/idpresponse \
//   APPLE_TEAM_ID=TEAM123456 APPLE_KEY_ID=KEY1234567 \
//   APPLE_PUBLIC_KEY="$(cat key.pub.pem)" node scripts/idp/apple-standin.mjs
//
// Environment:
//   APPLE_CLIENT_ID      the Services ID (client_id; the client secret's sub)
//   APPLE_REDIRECT_URI   the one redirect URI registered for it
//   APPLE_TEAM_ID        the developer team (the client secret's iss)
//   APPLE_KEY_ID         the key's id (the client secret's kid)
//   APPLE_PUBLIC_KEY     the public half of that P-256 key, PEM (SPKI); or a
//                        path to a PEM file
//   APPLE_PORT           the port on 127.0.0.1 (default: a free one)
//
// Prints exactly one line on stdout when it is ready,
//   apple listening on http://127.0.0.1:PORT
// (the issuer). Exits 0 on SIGTERM or SIGINT.
//
// Endpoints (issuer = http://127.0.0.1:PORT):
//   GET  /.well-known/openid-configuration   Apple's document, our URLs
//   GET  /auth/authorize   response_type=code, client_id, redirect_uri, state
//        and nonce required; scope from openid/email/name; response_mode
//        query (default) | fragment | form_post, form_post required when the
//        scope has email or name; code_challenge with
//        code_challenge_method=S256 optional (PKCE). A bad request gets a 400
//        HTML page (no redirect). The page: input[name=login] (the e-mail),
//        one button[type=submit] "Continue". Its answer: form_post → a page
//        whose form (auto-submitted by an inline script; its one
//        button[type=submit] is the fallback) POSTs code, state and, the first
//        time this e-mail authorizes, user = {"name":{"firstName","lastName"},
//        "email"} (name/email as the scope asks) to the redirect URI;
//        query/fragment → a 302 with code and state.
//   POST /auth/token   client_secret_post: client_id, client_secret,
//        grant_type=authorization_code, code, redirect_uri, code_verifier
//        (when PKCE was used); or grant_type=refresh_token, refresh_token.
//        A bad client, or a client secret that is not an ES256 JWT by the key
//        above (kid, iss = team, sub = client id, aud =
//        https://appleid.apple.com, iat, exp not passed and at most 6 months
//        after iat) → 400 {"error":"invalid_client"}; a bad, used (codes are
//        single use), expired (5 minutes) code, another redirect URI or a bad
//        verifier → 400 {"error":"invalid_grant"}. Success → {access_token,
//        token_type: "Bearer", expires_in, id_token, refresh_token} (no
//        refresh_token on a refresh).
//   GET  /auth/keys     the JWKS of the ID tokens' RS256 key
//   POST /auth/revoke   client_id, client_secret, token → 200
//
// The ID token: iss = the issuer, aud = client id, sub = "000123." + 32 hex
// digits + "." + 4 digits, stable per e-mail; nonce, nonce_supported (true),
// at_hash, auth_time, iat, exp (10 minutes); with the email scope also email,
// email_verified "true" and is_private_email "false" (strings, as Apple sends
// them; "true" for an @privaterelay.appleid.com e-mail).

import { createServer } from "node:http";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(new URL("../../.node/node_modules/x.js", import.meta.url));
const jose = await import(require.resolve("jose"));

function need(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`apple-standin: ${name} is required`);
    process.exit(2);
  }
  return value;
}
const CLIENT_ID = need("APPLE_CLIENT_ID");
const REDIRECT_URI = need("APPLE_REDIRECT_URI");
const TEAM_ID = need("APPLE_TEAM_ID");
const KEY_ID = need("APPLE_KEY_ID");
const publicPem = need("APPLE_PUBLIC_KEY");
const developerKey = await jose.importSPKI(
  publicPem.includes("-----BEGIN") ? publicPem : readFileSync(publicPem, "utf8"),
  "ES256",
);
const APPLE_AUDIENCE = "https://appleid.apple.com";
const SIX_MONTHS = 15777000; // seconds, Apple's limit on a client secret's lifetime
const CODE_TTL = 300;
const ID_TOKEN_TTL = 600;
const ACCESS_TOKEN_TTL = 3600;

const { privateKey, publicKey } = await jose.generateKeyPair("RS256", { extractable: true });
const KID = "stand-in-" + randomBytes(4).toString("hex");
const jwks = { keys: [{ ...(await jose.exportJWK(publicKey)), kid: KID, use: "sig", alg: "RS256" }] };

const codes = new Map(); // code → {email, scopes, nonce, challenge, redirectUri, authTime, expires}
const refreshTokens = new Map(); // token → {email, scopes}
const authorized = new Set(); // e-mails that have authorized this client once

const now = () => Math.floor(Date.now() / 1000);
const random = (n = 24) => randomBytes(n).toString("base64url");
const html = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const sha256 = (s) => createHash("sha256").update(s).digest();

function subFor(email) {
  const hash = sha256("apple-sub:" + email.toLowerCase());
  return `000123.${hash.subarray(0, 16).toString("hex")}.${String(hash.readUInt16BE(16) % 10000).padStart(4, "0")}`;
}

function capitalize(word) {
  return word ? word[0].toUpperCase() + word.slice(1).toLowerCase() : word;
}

function nameFor(email) {
  const words = email.split("@")[0].split(/[._+-]+/).filter(Boolean).map(capitalize);
  return { firstName: words[0] || "Apple", lastName: words.slice(1).join(" ") || "User" };
}

function page(response, status, title, body, headers = {}) {
  response.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", ...headers });
  response.end(`<!doctype html><html><head><meta charset="utf-8"><title>${html(title)}</title></head><body>${body}</body></html>`);
}

function json(response, status, value) {
  response.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", pragma: "no-cache" });
  response.end(JSON.stringify(value));
}

function readForm(request) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => resolve(new URLSearchParams(Buffer.concat(chunks).toString("utf8"))));
    request.on("error", reject);
  });
}

// The authorization request, checked as Apple does; returns the error or the
// request's values.
function checkAuthorize(params) {
  if (params.get("client_id") !== CLIENT_ID) return { error: "invalid_client_id" };
  if (params.get("redirect_uri") !== REDIRECT_URI) return { error: "invalid_redirect_uri" };
  if (params.get("response_type") !== "code") return { error: "unsupported_response_type" };
  const scopes = (params.get("scope") || "").split(" ").filter(Boolean);
  if (scopes.some((s) => !["openid", "email", "name"].includes(s))) return { error: "invalid_scope" };
  const mode = params.get("response_mode") || "query";
  if (!["query", "fragment", "form_post"].includes(mode)) return { error: "invalid_response_mode" };
  if ((scopes.includes("email") || scopes.includes("name")) && mode !== "form_post") {
    return { error: "invalid_request", description: "response_mode must be form_post when name or email scope is requested" };
  }
  const state = params.get("state");
  const nonce = params.get("nonce");
  if (!state) return { error: "invalid_request", description: "state is required" };
  if (!nonce) return { error: "invalid_request", description: "nonce is required" };
  const challenge = params.get("code_challenge");
  if (challenge && params.get("code_challenge_method") !== "S256") {
    return { error: "invalid_request", description: "code_challenge_method must be S256" };
  }
  if (!challenge && params.get("code_challenge_method")) return { error: "invalid_request", description: "code_challenge is missing" };
  return { scopes, mode, state, nonce, challenge };
}

function authorizePage(response, params) {
  const checked = checkAuthorize(params);
  if (checked.error) {
    return page(response, 400, "Sign in with Apple", `<h1>${html(checked.error)}</h1><p>${html(checked.description || "")}</p>`);
  }
  const hidden = [...params].map(([k, v]) => `<input type="hidden" name="${html(k)}" value="${html(v)}">`).join("");
  page(response, 200, "Sign in with Apple (stand-in)", `
<h1>Sign in with Apple (stand-in)</h1>
<form method="post" action="/auth/authorize">${hidden}
  <label>Apple Account e-mail <input type="text" name="login" autocomplete="username" required></label>
  <button type="submit">Continue</button>
</form>`);
}

async function authorizeSubmit(response, form) {
  const checked = checkAuthorize(form);
  const email = (form.get("login") || "").trim();
  if (checked.error || !email.includes("@")) {
    return page(response, 400, "Sign in with Apple", `<h1>${html(checked.error || "invalid_request")}</h1>`);
  }
  const code = "c" + randomBytes(16).toString("hex") + ".0.stand-in";
  codes.set(code, {
    email,
    scopes: checked.scopes,
    nonce: checked.nonce,
    challenge: checked.challenge,
    redirectUri: REDIRECT_URI,
    authTime: now(),
    expires: now() + CODE_TTL,
  });
  const answer = { code, state: checked.state };
  if (checked.mode !== "form_post") {
    const target = new URL(REDIRECT_URI);
    if (checked.mode === "fragment") target.hash = new URLSearchParams(answer).toString();
    else for (const [k, v] of Object.entries(answer)) target.searchParams.append(k, v);
    const location = target.href;
    response.writeHead(302, { location, "cache-control": "no-store" });
    return response.end();
  }
  const wantsName = checked.scopes.includes("name");
  const wantsEmail = checked.scopes.includes("email");
  if (!authorized.has(email.toLowerCase()) && (wantsName || wantsEmail)) {
    const user = {};
    if (wantsName) user.name = nameFor(email);
    if (wantsEmail) user.email = email;
    answer.user = JSON.stringify(user);
  }
  authorized.add(email.toLowerCase());
  const fields = Object.entries(answer).map(([k, v]) => `<input type="hidden" name="${html(k)}" value="${html(v)}">`).join("");
  page(response, 200, "Signing in…", `
<form method="post" action="${html(REDIRECT_URI)}" enctype="application/x-www-form-urlencoded">${fields}
  <p>Continue to the app.</p>
  <button type="submit">Continue</button>
</form>
<script>document.forms[0].submit();</script>`);
}

// The client secret: an ES256 JWT by the developer's key. True when valid.
async function clientAuthenticated(request, form) {
  if (request.headers.authorization) return false; // client_secret_post only
  if (form.get("client_id") !== CLIENT_ID) return false;
  const secret = form.get("client_secret");
  if (!secret) return false;
  try {
    const { payload, protectedHeader } = await jose.jwtVerify(secret, developerKey, {
      algorithms: ["ES256"],
      issuer: TEAM_ID,
      subject: CLIENT_ID,
      audience: APPLE_AUDIENCE,
      requiredClaims: ["iat", "exp"],
    });
    if (protectedHeader.kid !== KEY_ID) return false;
    if (payload.exp - payload.iat > SIX_MONTHS) return false;
    if (payload.iat > now() + 60) return false;
    return true;
  } catch {
    return false;
  }
}

async function idToken(email, scopes, nonce, authTime, accessToken) {
  const claims = {
    sub: subFor(email),
    at_hash: sha256(accessToken).subarray(0, 16).toString("base64url"),
    auth_time: authTime,
    nonce_supported: true,
  };
  if (nonce) claims.nonce = nonce;
  if (scopes.includes("email")) {
    claims.email = email;
    claims.email_verified = "true";
    claims.is_private_email = email.toLowerCase().endsWith("@privaterelay.appleid.com") ? "true" : "false";
  }
  return new jose.SignJWT(claims)
    .setProtectedHeader({ alg: "RS256", kid: KID })
    .setIssuer(ISSUER)
    .setAudience(CLIENT_ID)
    .setIssuedAt()
    .setExpirationTime(now() + ID_TOKEN_TTL)
    .sign(privateKey);
}

async function token(request, response) {
  const form = await readForm(request);
  if (!(await clientAuthenticated(request, form))) return json(response, 400, { error: "invalid_client" });
  const grantType = form.get("grant_type");
  if (grantType === "refresh_token") {
    const held = refreshTokens.get(form.get("refresh_token") || "");
    if (!held) return json(response, 400, { error: "invalid_grant" });
    const accessToken = random();
    return json(response, 200, {
      access_token: accessToken,
      token_type: "Bearer",
      expires_in: ACCESS_TOKEN_TTL,
      id_token: await idToken(held.email, held.scopes, undefined, held.authTime, accessToken),
    });
  }
  if (grantType !== "authorization_code") return json(response, 400, { error: "unsupported_grant_type" });
  const code = form.get("code") || "";
  const held = codes.get(code);
  codes.delete(code); // single use, whatever follows
  if (!held || held.expires < now() || form.get("redirect_uri") !== held.redirectUri) {
    return json(response, 400, { error: "invalid_grant" });
  }
  const verifier = form.get("code_verifier");
  if (held.challenge) {
    if (!verifier || sha256(verifier).toString("base64url") !== held.challenge) return json(response, 400, { error: "invalid_grant" });
  } else if (verifier) {
    return json(response, 400, { error: "invalid_grant" });
  }
  const accessToken = random();
  const refreshToken = "r" + randomBytes(16).toString("hex") + ".0.stand-in";
  refreshTokens.set(refreshToken, { email: held.email, scopes: held.scopes, authTime: held.authTime });
  json(response, 200, {
    access_token: accessToken,
    token_type: "Bearer",
    expires_in: ACCESS_TOKEN_TTL,
    refresh_token: refreshToken,
    id_token: await idToken(held.email, held.scopes, held.nonce, held.authTime, accessToken),
  });
}

async function revoke(request, response) {
  const form = await readForm(request);
  if (!(await clientAuthenticated(request, form))) return json(response, 400, { error: "invalid_client" });
  refreshTokens.delete(form.get("token") || "");
  response.writeHead(200);
  response.end();
}

let ISSUER;
const server = createServer(async (request, response) => {
  try {
    const url = new URL(request.url, ISSUER);
    const route = `${request.method} ${url.pathname}`;
    if (route === "GET /.well-known/openid-configuration") {
      return json(response, 200, {
        issuer: ISSUER,
        authorization_endpoint: `${ISSUER}/auth/authorize`,
        token_endpoint: `${ISSUER}/auth/token`,
        revocation_endpoint: `${ISSUER}/auth/revoke`,
        jwks_uri: `${ISSUER}/auth/keys`,
        response_types_supported: ["code"],
        response_modes_supported: ["query", "fragment", "form_post"],
        subject_types_supported: ["pairwise"],
        id_token_signing_alg_values_supported: ["RS256"],
        scopes_supported: ["openid", "email", "name"],
        token_endpoint_auth_methods_supported: ["client_secret_post"],
        claims_supported: ["aud", "email", "email_verified", "exp", "iat", "is_private_email", "iss", "nonce", "nonce_supported", "real_user_status", "sub", "transfer_sub"],
      });
    }
    if (route === "GET /auth/keys") return json(response, 200, jwks);
    if (route === "GET /auth/authorize") return authorizePage(response, url.searchParams);
    if (route === "POST /auth/authorize") return await authorizeSubmit(response, await readForm(request));
    if (route === "POST /auth/token") return await token(request, response);
    if (route === "POST /auth/revoke") return await revoke(request, response);
    json(response, 404, { error: "not_found" });
  } catch (error) {
    console.error("apple-standin:", error);
    if (!response.headersSent) json(response, 500, { error: "server_error" });
  }
});

const port = Number(process.env.APPLE_PORT || 0);
await new Promise((resolve) => {
  server.once("error", (error) => {
    console.error(`apple-standin: cannot listen on 127.0.0.1:${port}: ${error.code || error}`);
    process.exit(1);
  });
  server.listen(port, "127.0.0.1", resolve);
});
ISSUER = `http://127.0.0.1:${server.address().port}`;

function stop() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

process.stdout.write(`apple listening on ${ISSUER}\n`);
