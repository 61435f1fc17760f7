import * as pulumi from "@pulumi/pulumi";
import { StepCa } from "./components/step-ca";
import { localBundleDirProblem } from "./lib/config/bundle-dir";
import { secretConfigKeys, validateConfig } from "./lib/config/config";
import { provisionerSecretsOf } from "./lib/config/provisioners";

// Invalid settings stop the program here, before any resource is registered: `pulumi preview` fails with one
// message listing every problem (a provisioner password set without --secret among them).
const values = pulumi.runtime.allConfig();
const config = validateConfig(pulumi.getProject(), values, secretConfigKeys(Object.keys(values)), {
    bundleDirProblem: localBundleDirProblem,
});
const ca = new StepCa("step-ca", {
    config,
    provisionerPassword: config.provisionerPasswordGiven
        ? new pulumi.Config().requireSecret("provisionerPassword")
        : undefined,
    // Read again as a secret: Pulumi holds the whole list as one, and the passwords and client secrets stay secret.
    provisionerSecrets: config.provisioners
        ? new pulumi.Config().requireSecretObject<unknown[]>("provisioners").apply(provisionerSecretsOf)
        : undefined,
});

// Mode-specific outputs are left out rather than exported as undefined, which Pulumi warns about on every run.
export = {
    caUrl: ca.caUrl,
    rootFingerprint: ca.rootFingerprint,
    rootCertPem: ca.rootCertPem,
    intermediateCertPem: ca.intermediateCertPem,
    rootKeyVersion: ca.rootKeyVersion,
    intermediateKeyVersion: ca.intermediateKeyVersion,
    ...(ca.serviceAccountEmail && { serviceAccountEmail: ca.serviceAccountEmail }),
    ...(ca.address && { address: ca.address }),
    ...(ca.localBundleDir !== undefined && { localBundleDir: ca.localBundleDir }),
    bootstrapCommand: ca.bootstrapCommand,
    provisionerPassword: ca.provisionerPassword,
    provisionerPasswords: ca.provisionerPasswords,
};
