/**
 * The provisioners step-ca accepts certificate requests through, as this program configures them, and their ca.json
 * entries, field names as step-ca's authority/provisioner types declare them. Specs carry no secrets: JWK passwords
 * and OIDC client secrets travel separately, as Pulumi secrets, and meet the spec only when ca.json is rendered.
 */
import type { Claims } from "./claims";
import type { JwkProvisioner } from "./jwk-provisioner";

export const PROVISIONER_TYPES = ["JWK", "ACME", "GCP", "OIDC", "X5C"] as const;
export type ProvisionerType = (typeof PROVISIONER_TYPES)[number];

/** ACME challenge types step-ca 0.30 offers. */
export const ACME_CHALLENGES = ["http-01", "dns-01", "tls-alpn-01", "device-attest-01"] as const;
export type AcmeChallenge = (typeof ACME_CHALLENGES)[number];

interface ProvisionerBase {
    readonly name: string;
    /** Lifetimes over `authority.claims`. */
    readonly claims?: Claims;
}

/** Tokens signed with a key whose private half ca.json holds encrypted under a password (step's default). */
export interface JwkSpec extends ProvisionerBase {
    readonly type: "JWK";
}

export interface AcmeSpec extends ProvisionerBase {
    readonly type: "ACME";
    /** Omitted = step-ca's default (http-01, dns-01, tls-alpn-01). */
    readonly challenges?: readonly AcmeChallenge[];
    /** Accounts need an external account binding key, issued through step-ca's admin API. */
    readonly requireEAB?: boolean;
    /** Put the first SAN in the subject CN when the CSR has none. */
    readonly forceCN?: boolean;
}

/** GCE instance identity tokens, verified against Google's public keys. */
export interface GcpSpec extends ProvisionerBase {
    readonly type: "GCP";
    readonly projectIDs?: readonly string[];
    readonly serviceAccounts?: readonly string[];
    /** Refuse instances older than this (Go duration); omitted = any age. */
    readonly instanceAge?: string;
    /** Only the instance's own names (no custom SANs). */
    readonly disableCustomSANs?: boolean;
    /** Allow more than one certificate per instance (step-ca otherwise trusts the first request only). */
    readonly disableTrustOnFirstUse?: boolean;
}

/** OpenID Connect ID tokens from an identity provider (people, `step ca certificate` in a browser). */
export interface OidcSpec extends ProvisionerBase {
    readonly type: "OIDC";
    readonly clientID: string;
    readonly configurationEndpoint: string;
    /** Emails that may request any name (others get their own email only). */
    readonly admins?: readonly string[];
    /** Email domains whose users may sign in. */
    readonly domains?: readonly string[];
    readonly groups?: readonly string[];
}

/** Requests signed with a certificate that chains to one of `roots`. */
export interface X5cSpec extends ProvisionerBase {
    readonly type: "X5C";
    /** PEM bundle of the trusted roots. */
    readonly roots: string;
}

export type ProvisionerSpec = JwkSpec | AcmeSpec | GcpSpec | OidcSpec | X5cSpec;

/** The secrets a provisioner's ca.json entry needs, looked up by provisioner name. */
export interface ProvisionerSecrets {
    /** JWK: the generated (or kept) provisioner with its encrypted key. */
    readonly jwk?: JwkProvisioner;
    /** OIDC: the client secret, which ca.json holds in clear. */
    readonly clientSecret?: string;
}

/** An entry of ca.json `authority.provisioners`. */
export type RenderedProvisioner = Readonly<Record<string, unknown>> & { readonly type: string; readonly name: string };

/**
 * The ca.json entry of one provisioner. Fields step-ca declares without `omitempty` are written out; list fields
 * only when set. X5C roots become base64 (step-ca reads `roots` as bytes).
 */
export function renderProvisioner(spec: ProvisionerSpec, secrets: ProvisionerSecrets = {}): RenderedProvisioner {
    const claims = spec.claims && Object.keys(spec.claims).length > 0 ? { claims: spec.claims } : {};
    const list = <K extends string>(key: K, value: readonly string[] | undefined) =>
        value && value.length > 0 ? { [key]: [...value] } : {};
    switch (spec.type) {
        case "JWK": {
            if (!secrets.jwk || secrets.jwk.name !== spec.name) {
                throw new Error(`JWK provisioner "${spec.name}" has no generated key`);
            }
            const { key, encryptedKey } = secrets.jwk;
            return { type: "JWK", name: spec.name, key, encryptedKey, ...claims };
        }
        case "ACME":
            return {
                type: "ACME",
                name: spec.name,
                ...(spec.forceCN ? { forceCN: true } : {}),
                ...(spec.requireEAB ? { requireEAB: true } : {}),
                ...list("challenges", spec.challenges),
                ...claims,
            };
        case "GCP":
            return {
                type: "GCP",
                name: spec.name,
                ...list("serviceAccounts", spec.serviceAccounts),
                ...list("projectIDs", spec.projectIDs),
                disableCustomSANs: spec.disableCustomSANs ?? false,
                disableTrustOnFirstUse: spec.disableTrustOnFirstUse ?? false,
                ...(spec.instanceAge ? { instanceAge: spec.instanceAge } : {}),
                ...claims,
            };
        case "OIDC":
            return {
                type: "OIDC",
                name: spec.name,
                clientID: spec.clientID,
                clientSecret: secrets.clientSecret ?? "",
                configurationEndpoint: spec.configurationEndpoint,
                ...list("admins", spec.admins),
                ...list("domains", spec.domains),
                ...list("groups", spec.groups),
                ...claims,
            };
        case "X5C":
            return { type: "X5C", name: spec.name, roots: Buffer.from(spec.roots).toString("base64"), ...claims };
    }
}
