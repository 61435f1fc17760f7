import * as pulumi from "@pulumi/pulumi";
import { StepCa } from "./components/step-ca";
import { validateConfig } from "./lib/config";

// Invalid settings stop the program here, before any resource is registered: `pulumi preview` fails with one
// message listing every problem.
const config = validateConfig(pulumi.getProject(), pulumi.runtime.allConfig());
const ca = new StepCa("step-ca", {
    config,
    provisionerPassword: config.provisionerPasswordGiven
        ? new pulumi.Config().requireSecret("provisionerPassword")
        : undefined,
});

export const caUrl = ca.caUrl;
export const rootFingerprint = ca.rootFingerprint;
export const rootCertPem = ca.rootCertPem;
export const intermediateCertPem = ca.intermediateCertPem;
export const rootKeyVersion = ca.rootKeyVersion;
export const intermediateKeyVersion = ca.intermediateKeyVersion;
export const serviceAccountEmail = ca.serviceAccountEmail;
export const localBundleDir = ca.localBundleDir;
export const bootstrapCommand = ca.bootstrapCommand;
export const provisionerPassword = ca.provisionerPassword;
