/**
 * What the certificate providers are asked to mint, and the checks that catch a bad request at preview instead of
 * halfway through a deployment.
 */
import type { CertificateSubject } from "./certificate-templates";
import type { InputProblem } from "../config/input-problems";
import { type NameConstraints, nameConstraintsProblems } from "./name-constraints";
import { parseKeyVersionName } from "../kms/names";

export interface RootCertificateRequest {
    /** Full `.../cryptoKeyVersions/N` name of the root key. */
    readonly keyVersion: string;
    readonly subject: CertificateSubject;
    readonly validityDays: number;
}

export interface IntermediateCertificateRequest {
    /** Full `.../cryptoKeyVersions/N` name of the intermediate key (the certified key). */
    readonly keyVersion: string;
    /** Full `.../cryptoKeyVersions/N` name of the root key (the signing key). */
    readonly issuerKeyVersion: string;
    /** The root certificate, PEM. */
    readonly issuerCertPem: string;
    readonly subject: CertificateSubject;
    readonly validityDays: number;
    /** Re-mint this many days before expiry. */
    readonly renewBeforeDays: number;
    /** Bounds on the names its leaves may carry; omitted or empty = none (no extension). */
    readonly nameConstraints?: NameConstraints;
}

/** Problems with a root request; `skip` names inputs not known yet (preview), which are not checked. */
export function rootRequestProblems(request: RootCertificateRequest, skip: ReadonlySet<string> = new Set()): InputProblem[] {
    return [
        ...keyVersionProblems("keyVersion", request.keyVersion, skip),
        ...subjectProblems(request.subject, skip),
        ...dayCountProblems("validityDays", request.validityDays, 1, skip),
    ];
}

/** Problems with an intermediate request; `skip` names inputs not known yet (preview), which are not checked. */
export function intermediateRequestProblems(
    request: IntermediateCertificateRequest,
    skip: ReadonlySet<string> = new Set(),
): InputProblem[] {
    const problems = [
        ...keyVersionProblems("keyVersion", request.keyVersion, skip),
        ...keyVersionProblems("issuerKeyVersion", request.issuerKeyVersion, skip),
        ...subjectProblems(request.subject, skip),
        ...dayCountProblems("validityDays", request.validityDays, 1, skip),
        ...dayCountProblems("renewBeforeDays", request.renewBeforeDays, 0, skip),
        ...(skip.has("nameConstraints") || request.nameConstraints === undefined
            ? []
            : nameConstraintsProblems(request.nameConstraints).map((reason) => ({ property: "nameConstraints", reason }))),
    ];
    if (!skip.has("issuerCertPem") && !/-----BEGIN CERTIFICATE-----/.test(String(request.issuerCertPem))) {
        problems.push({ property: "issuerCertPem", reason: "must be the root certificate in PEM" });
    }
    if (
        problems.length === 0 &&
        !skip.has("validityDays") &&
        !skip.has("renewBeforeDays") &&
        request.renewBeforeDays >= request.validityDays
    ) {
        problems.push({
            property: "renewBeforeDays",
            reason: `${request.renewBeforeDays} must be less than validityDays (${request.validityDays}), ` +
                `or the certificate is due for renewal as soon as it is minted`,
        });
    }
    return problems;
}

function keyVersionProblems(property: string, value: unknown, skip: ReadonlySet<string>): InputProblem[] {
    if (skip.has(property)) {
        return [];
    }
    try {
        parseKeyVersionName(String(value));
        return [];
    } catch (error) {
        return [{ property, reason: (error as Error).message }];
    }
}

function subjectProblems(subject: CertificateSubject | undefined, skip: ReadonlySet<string>): InputProblem[] {
    if (skip.has("subject") || (typeof subject?.commonName === "string" && subject.commonName.trim() !== "")) {
        return [];
    }
    return [{ property: "subject.commonName", reason: "a CA certificate needs a non-empty common name" }];
}

function dayCountProblems(property: string, value: unknown, min: number, skip: ReadonlySet<string>): InputProblem[] {
    if (skip.has(property) || (Number.isInteger(value) && (value as number) >= min)) {
        return [];
    }
    return [{ property, reason: `must be a whole number of days, at least ${min} (got ${JSON.stringify(value)})` }];
}
