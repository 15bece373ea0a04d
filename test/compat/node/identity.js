// Gets one token with the real @azure/identity and prints one JSON line:
//   {"credential", "token", "expiresOnTimestamp", "now", "versions"} or {"error", "message", "versions"}.
// Run by ../node_test.go:  node identity.js <mode>
//
// mode:    versions     only the versions (the test's check that the client loads)
//          secret       ClientSecretCredential(COMPAT_TENANT_ID, COMPAT_CLIENT_ID, COMPAT_CLIENT_SECRET, options)
//          certificate  ClientCertificateCredential(COMPAT_TENANT_ID, COMPAT_CLIENT_ID, {certificatePath: COMPAT_CERTIFICATE_PATH}, options)
//          default      DefaultAzureCredential(options), or DefaultAzureCredential() when options is empty
//          managed      ManagedIdentityCredential(COMPAT_MI_CLIENT_ID) or ManagedIdentityCredential()
// options: authorityHost = COMPAT_AUTHORITY (when set; otherwise the library reads AZURE_AUTHORITY_HOST),
//          disableInstanceDiscovery = true when COMPAT_DISABLE_INSTANCE_DISCOVERY=1.
// COMPAT_SCOPE (default https://management.azure.com/.default); COMPAT_DEBUG=1 copies the
// library's log to stderr. Exits 0 with a token, 1 with an error, 2 on bad usage.
"use strict";

const { AzureLogger, setLogLevel } = require("@azure/logger");
const identity = require("@azure/identity");

const env = process.env;

const versions = require("./versions")("@azure/identity", "@azure/msal-node", "@azure/msal-common");

// The log tells which credential of a chain produced the token
// (ChainedTokenCredential: "Result for <Credential>: SUCCESS...").
let credentialName = "";
setLogLevel("info");
AzureLogger.log = (...args) => {
  const line = args.join(" ");
  const m = /Result for (\w+): SUCCESS/.exec(line);
  if (m) {
    credentialName = m[1];
  }
  if (env.COMPAT_DEBUG) {
    process.stderr.write(line + "\n");
  }
};

function print(obj) {
  process.stdout.write(JSON.stringify({ ...obj, versions }) + "\n");
}

function options() {
  const o = {};
  if (env.COMPAT_AUTHORITY) {
    o.authorityHost = env.COMPAT_AUTHORITY;
  }
  if (env.COMPAT_DISABLE_INSTANCE_DISCOVERY === "1") {
    o.disableInstanceDiscovery = true;
  }
  return o;
}

function credential(mode) {
  const o = options();
  switch (mode) {
    case "secret":
      return new identity.ClientSecretCredential(env.COMPAT_TENANT_ID, env.COMPAT_CLIENT_ID, env.COMPAT_CLIENT_SECRET, o);
    case "certificate":
      return new identity.ClientCertificateCredential(
        env.COMPAT_TENANT_ID,
        env.COMPAT_CLIENT_ID,
        { certificatePath: env.COMPAT_CERTIFICATE_PATH },
        o,
      );
    case "default":
      return Object.keys(o).length ? new identity.DefaultAzureCredential(o) : new identity.DefaultAzureCredential();
    case "managed":
      return env.COMPAT_MI_CLIENT_ID
        ? new identity.ManagedIdentityCredential(env.COMPAT_MI_CLIENT_ID)
        : new identity.ManagedIdentityCredential();
    default:
      return null;
  }
}

async function main() {
  const mode = process.argv[2];
  if (mode === "versions") {
    print({});
    return;
  }
  const cred = credential(mode);
  if (!cred) {
    print({ error: "usage", message: `unknown mode ${JSON.stringify(mode)}: versions, secret, certificate, default or managed` });
    process.exitCode = 2;
    return;
  }
  const scope = env.COMPAT_SCOPE || "https://management.azure.com/.default";
  try {
    const t = await cred.getToken(scope);
    print({
      credential: credentialName || cred.constructor.name,
      token: t.token,
      expiresOnTimestamp: t.expiresOnTimestamp,
      now: Date.now(),
    });
  } catch (err) {
    print({ error: err.name || "Error", message: String(err.message) });
    process.exitCode = 1;
  }
}

main();
