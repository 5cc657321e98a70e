// A company identity provider for tests: panva's oidc-provider (a certified
// OpenID Provider) with its development login page, so Registrar can be
// tested as an OpenID Connect relying party ("Sign in with company IdP",
// SPEC §14) against a provider we did not write.
//
//   IDP_CLIENT_ID=registrar IDP_CLIENT_SECRET=s3cret \
//   IDP_REDIRECT_URI=http://127.0.0.1:3000/oauth2/idpresponse \
//   node scripts/idp/company-idp.mjs
//
// Environment:
//   IDP_CLIENT_ID        the one confidential client (required)
//   IDP_CLIENT_SECRET    its secret, sent with client_secret_basic (required)
//   IDP_REDIRECT_URI     its redirect URI; several may be given, separated by
//                        spaces, all on one host:port (required)
//   IDP_PORT             the port on 127.0.0.1 (default: a free one)
//
// Prints exactly one line on stdout when it is ready,
//   idp listening on http://127.0.0.1:PORT
// (the issuer; discovery at /.well-known/openid-configuration); everything
// else (oidc-provider's development warnings) goes to stderr. Exits 0 on
// SIGTERM or SIGINT.
//
// The browser side: GET /auth?... redirects to /interaction/<uid>, a page
// with input[name=login], input[name=password] and one button[type=submit].
// Any password is accepted; the login is the account. There is no consent
// page: the client is first party, so every scope it asks for (openid email
// profile) is granted on sign-in (unless the request says prompt=consent,
// then the consent page's one button[type=submit] continues). The browser
// keeps a session: a second authorization in it signs in without the page
// (prompt=login asks again). The redirect back carries code, state and iss
// (RFC 9207).
//
// Accounts: sub = "emp-" + the first 16 hex digits of sha256(login) (made
// by oidc-provider's pairwiseIdentifier, so discovery says subject type
// "pairwise"; the same for any client),
// email = the login, email_verified = true (false when the login starts with
// "unverified"), given_name/family_name/name from the local part
// ("jane.doe@corp.example" → Jane Doe; a single word gets family_name
// "Employee"). The ID token carries these claims itself (conformIdTokenClaims
// false), as well as userinfo. PKCE with S256 is required (a request
// without it goes back with error=invalid_request). The client is registered
// with client_secret_basic; oidc-provider takes the same secret in the body
// (client_secret_post) too, so this does not prove which one an RP uses.

import { createServer } from "node:http";
import { createHash, randomBytes } from "node:crypto";
import { createRequire } from "node:module";

// oidc-provider prints notices with console.info (stdout): stdout is kept
// for the one ready line.
console.info = console.error;
console.log = console.error;

const require = createRequire(new URL("../../.node/node_modules/x.js", import.meta.url));
const { default: Provider } = await import(require.resolve("oidc-provider"));
const jose = await import(require.resolve("jose"));

function need(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`company-idp: ${name} is required`);
    process.exit(2);
  }
  return value;
}
const clientId = need("IDP_CLIENT_ID");
const clientSecret = need("IDP_CLIENT_SECRET");
const redirectUris = need("IDP_REDIRECT_URI").split(/\s+/).filter(Boolean);

function capitalize(word) {
  return word ? word[0].toUpperCase() + word.slice(1).toLowerCase() : word;
}

// oidc-provider's sub is the account id (the login) unless the client's
// subject type is pairwise: then pairwiseIdentifier makes it, here the same
// for every client.
function subFor(login) {
  return "emp-" + createHash("sha256").update(login).digest("hex").slice(0, 16);
}

function claimsFor(login) {
  const local = login.split("@")[0];
  const words = local.split(/[._+-]+/).filter(Boolean).map(capitalize);
  const given = words[0] || "Employee";
  const family = words.slice(1).join(" ") || "Employee";
  return {
    sub: subFor(login),
    email: login,
    email_verified: !login.startsWith("unverified"),
    given_name: given,
    family_name: family,
    name: `${given} ${family}`,
  };
}

// The signing key: generated at start, so no development key is used.
const { privateKey } = await jose.generateKeyPair("RS256", { extractable: true });
const signingKey = { ...(await jose.exportJWK(privateKey)), kid: "idp-" + randomBytes(4).toString("hex"), use: "sig", alg: "RS256" };

let handler = (_request, response) => {
  response.writeHead(503);
  response.end();
};
const server = createServer((request, response) => handler(request, response));
const port = Number(process.env.IDP_PORT || 0);
await new Promise((resolve) => {
  server.once("error", (error) => {
    console.error(`company-idp: cannot listen on 127.0.0.1:${port}: ${error.code || error}`);
    process.exit(1);
  });
  server.listen(port, "127.0.0.1", resolve);
});
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: redirectUris,
      response_types: ["code"],
      grant_types: ["authorization_code"],
      token_endpoint_auth_method: "client_secret_basic",
      scope: "openid email profile",
      subject_type: "pairwise",
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString("hex")] },
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name", "given_name", "family_name"],
  },
  scopes: ["openid", "email", "profile"],
  subjectTypes: ["pairwise"],
  async pairwiseIdentifier(_ctx, accountId) {
    return subFor(accountId);
  },
  // The ID token carries the scopes' claims even though an access token (and
  // so userinfo) is issued too: the relying party reads the ID token.
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: true },
    // No dynamic registration, introspection, revocation: one fixed client.
  },
  pkce: { required: () => true },
  // First party: the grant the consent page would ask for is given on
  // sign-in, for every scope and claim the request asks for.
  async loadExistingGrant(ctx) {
    const accountId = ctx.oidc.account.accountId;
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    let grant = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
    if (!grant || grant.accountId !== accountId) {
      grant = new ctx.oidc.provider.Grant({ accountId, clientId: ctx.oidc.client.clientId });
    }
    grant.addOIDCScope([...ctx.oidc.requestParamOIDCScopes].join(" "));
    const claims = [...ctx.oidc.requestParamClaims];
    if (claims.length) grant.addOIDCClaims(claims);
    await grant.save();
    return grant;
  },
  async findAccount(_ctx, accountId) {
    return {
      accountId,
      async claims() {
        return claimsFor(accountId);
      },
    };
  },
  ttl: {
    AccessToken: 3600,
    AuthorizationCode: 300,
    IdToken: 3600,
    Interaction: 3600,
    Session: 86400,
    Grant: 86400,
  },
  async renderError(ctx, out) {
    ctx.type = "html";
    const safe = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    ctx.body = `<!doctype html><title>Error</title><h1>${safe(out.error)}</h1><p>${safe(out.error_description || "")}</p>`;
  },
});
provider.on("server_error", (_ctx, error) => console.error("company-idp: server_error", error));
handler = provider.callback();

function stop() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

process.stdout.write(`idp listening on ${issuer}\n`);
