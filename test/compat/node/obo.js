// A confidential web application and the middle-tier API it calls, with the
// real @azure/msal-node: the web app signs the user in with the
// authorization code flow and PKCE, the middle tier exchanges the user's
// token for downstream tokens (acquireTokenOnBehalfOf). Run by
// ../obo_node_test.go:  node obo.js
//
// 1. prints {"authUrl"} (getAuthCodeUrl) and reads one line from stdin: the
//    URL the browser was redirected to;
// 2. acquireTokenByCode for COMPAT_LOGIN_SCOPE;
// 3. acquireTokenOnBehalfOf for each of COMPAT_SCOPES (space-separated);
// 4. prints {"userToken", "obo": [{"scope", "token"} or {"scope", "error", "message"}], "versions"}.
//
// COMPAT_AUTHORITY (https://host:port/tenant), COMPAT_KNOWN_AUTHORITY
// (host:port), COMPAT_WEB_CLIENT_ID, COMPAT_WEB_CLIENT_SECRET,
// COMPAT_REDIRECT_URI, COMPAT_CLIENT_ID, COMPAT_CLIENT_SECRET (the middle
// tier). COMPAT_DEBUG=1 copies msal's log (without personal data) to stderr.
// Exits 0 once it has printed its result, 1 on an error before that.
"use strict";

const readline = require("node:readline");
const msal = require("@azure/msal-node");

const env = process.env;

const versions = require("./versions")("@azure/msal-node", "@azure/msal-common");

function print(obj) {
  process.stdout.write(JSON.stringify({ ...obj, versions }) + "\n");
}

function describe(err) {
  return { error: err.errorCode || err.name || "Error", message: String(err.errorMessage || err.message) };
}

// An authority msal cannot validate through login.microsoftonline.com's
// instance discovery is named in knownAuthorities, as msal documents.
function application(clientId, clientSecret) {
  return new msal.ConfidentialClientApplication({
    auth: { clientId, clientSecret, authority: env.COMPAT_AUTHORITY, knownAuthorities: [env.COMPAT_KNOWN_AUTHORITY] },
    system: {
      loggerOptions: {
        logLevel: msal.LogLevel.Verbose,
        piiLoggingEnabled: false,
        loggerCallback: (level, message) => {
          if (env.COMPAT_DEBUG) {
            process.stderr.write(message + "\n");
          }
        },
      },
    },
  });
}

function readLine() {
  return new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: process.stdin });
    rl.once("line", (line) => {
      resolve(line.trim());
      rl.close();
    });
    rl.once("close", () => reject(new Error("stdin closed before the redirect URL")));
  });
}

async function main() {
  const web = application(env.COMPAT_WEB_CLIENT_ID, env.COMPAT_WEB_CLIENT_SECRET);
  const middle = application(env.COMPAT_CLIENT_ID, env.COMPAT_CLIENT_SECRET);
  const { verifier, challenge } = await new msal.CryptoProvider().generatePkceCodes();
  const loginScopes = [env.COMPAT_LOGIN_SCOPE];
  const state = new msal.CryptoProvider().createNewGuid();
  const authUrl = await web.getAuthCodeUrl({
    scopes: loginScopes,
    redirectUri: env.COMPAT_REDIRECT_URI,
    codeChallenge: challenge,
    codeChallengeMethod: "S256",
    state,
  });
  print({ authUrl });

  const redirected = new URL(await readLine());
  if (redirected.searchParams.get("state") !== state) {
    throw new Error("the redirect's state is not the one sent");
  }
  if (redirected.searchParams.get("error")) {
    throw new Error(redirected.searchParams.get("error") + ": " + redirected.searchParams.get("error_description"));
  }
  const user = await web.acquireTokenByCode({
    code: redirected.searchParams.get("code"),
    scopes: loginScopes,
    redirectUri: env.COMPAT_REDIRECT_URI,
    codeVerifier: verifier,
  });

  const obo = [];
  for (const scope of (env.COMPAT_SCOPES || "").split(" ").filter(Boolean)) {
    try {
      const r = await middle.acquireTokenOnBehalfOf({ oboAssertion: user.accessToken, scopes: [scope] });
      obo.push({ scope, token: r.accessToken, scopes: r.scopes });
    } catch (err) {
      obo.push({ scope, ...describe(err) });
    }
  }
  print({ userToken: user.accessToken, username: user.account && user.account.username, obo });
}

// msal-node's HTTP agent keeps connections alive; the run is over once the
// result is printed (stdout to a pipe is written synchronously).
main().then(
  () => process.exit(0),
  (err) => {
    print(describe(err));
    process.exit(1);
  },
);
