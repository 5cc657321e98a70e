// An app that signs its users in through Registrar with openid-client.
// ISSUER=http://127.0.0.1:3000 CLIENT_ID=web-app PORT=8080 node examples/openid-app.mjs
import { createServer } from "node:http";
import * as client from "openid-client";

const { ISSUER = "http://127.0.0.1:3000", CLIENT_ID = "web-app", PORT = "8080" } = process.env;
const redirect_uri = `http://localhost:${PORT}/callback`;
const config = await client.discovery(new URL(ISSUER), CLIENT_ID, undefined, client.None(),
  { execute: [client.allowInsecureRequests] }); // plain http: only for a local ISSUER
const pending = new Map(); // state → { verifier, nonce } (use a session in a real app)

createServer(async (req, res) => {
  const url = new URL(req.url, `http://localhost:${PORT}`);
  if (url.pathname === "/callback") {
    const { verifier, nonce } = pending.get(url.searchParams.get("state")) ?? {};
    try { // checks the state, the code with its verifier, the ID token and its nonce
      const tokens = await client.authorizationCodeGrant(config, url,
        { pkceCodeVerifier: verifier, expectedState: url.searchParams.get("state"), expectedNonce: nonce });
      const user = await client.fetchUserInfo(config, tokens.access_token, tokens.claims().sub);
      res.writeHead(200, { "content-type": "text/plain" }).end(`Hello, ${user.email}`);
    } catch (error) { res.writeHead(400, { "content-type": "text/plain" }).end(`Not signed in: ${error.message}`); }
    return;
  }
  const verifier = client.randomPKCECodeVerifier(), state = client.randomState(), nonce = client.randomNonce();
  pending.set(state, { verifier, nonce });
  const to = client.buildAuthorizationUrl(config, { redirect_uri, scope: "openid email profile", state, nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256" });
  res.writeHead(302, { location: to.href }).end();
}).listen(Number(PORT), () => console.log(`app on http://localhost:${PORT}`));
