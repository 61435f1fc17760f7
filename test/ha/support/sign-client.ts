/**
 * A fast certificate client for the HA test, doing what `step ca certificate` does with a JWK provisioner: a
 * one-time token (ES256 JWT: iss = provisioner, sub/sans = the name, aud = the CA's /1.0/sign, a fresh jti) and a
 * CSR posted to /1.0/sign. The provisioner key is decrypted once (the step CLI decrypts its PBES2 JWE, 600k
 * iterations, for every certificate). Each attempt opens a new TLS connection, so the load balancer spreads them;
 * on a connection failure or a 502/503/504 the client retries with a new token, as a real client would.
 */
import "reflect-metadata";
import { X509Certificate, randomUUID, webcrypto } from "node:crypto";
import * as https from "node:https";
import * as x509 from "@peculiar/x509";
import * as jose from "jose";
import type { ProvisionerPrivateJwk } from "../../../lib/step-ca/jwk-provisioner";

type CsrParams = Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>;

export interface SignClientOptions {
    readonly port: number;
    /** TLS name (SNI, checked against step-ca's certificate) and the token's audience host. */
    readonly serverName: string;
    readonly rootPem: string;
    readonly provisionerName: string;
    readonly provisionerKey: ProvisionerPrivateJwk;
    /** Attempts per certificate, the first included. */
    readonly maxAttempts: number;
    readonly attemptTimeoutMs: number;
}

/** A certificate step-ca issued, with how it went. */
export interface Issued {
    readonly name: string;
    readonly leaf: X509Certificate;
    /** The chain step-ca returned after the leaf (the intermediate). */
    readonly chain: X509Certificate[];
    readonly leafPem: string;
    readonly chainPem: string;
    readonly privateKey: webcrypto.CryptoKey;
    readonly attempts: number;
    /** The errors of the failed attempts. */
    readonly retried: string[];
    readonly startedAt: number;
    readonly doneAt: number;
}

/** An attempt that may succeed on another try (the connection, or the load balancer, failed). */
class Transient extends Error {}

export class SignClient {
    private readonly key: ReturnType<typeof jose.importJWK>;

    constructor(private readonly o: SignClientOptions) {
        this.key = jose.importJWK({ ...o.provisionerKey }, "ES256");
    }

    /** A one-time token for `name`. */
    async token(name: string): Promise<string> {
        const now = Math.floor(Date.now() / 1000);
        return new jose.SignJWT({ sans: [name] })
            .setProtectedHeader({ alg: "ES256", kid: this.o.provisionerKey.kid, typ: "JWT" })
            .setIssuer(this.o.provisionerName)
            .setSubject(name)
            .setAudience(`https://${this.o.serverName}:${this.o.port}/1.0/sign`)
            .setJti(randomUUID())
            .setIssuedAt(now)
            .setNotBefore(now)
            .setExpirationTime(now + 300)
            .sign(await this.key);
    }

    /** POSTs a /1.0/sign body to `port` (by default the one the client was made for). */
    post(body: string, port = this.o.port): Promise<{ status: number; body: string }> {
        return new Promise((resolve, reject) => {
            const req = https.request(
                {
                    host: "127.0.0.1",
                    port,
                    method: "POST",
                    path: "/1.0/sign",
                    servername: this.o.serverName,
                    ca: this.o.rootPem,
                    agent: false,
                    timeout: this.o.attemptTimeoutMs,
                    headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
                },
                (res) => {
                    let text = "";
                    res.setEncoding("utf8").on("data", (d: string) => (text += d));
                    res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
                    res.on("error", (e) => reject(new Transient(`response: ${e.message}`)));
                },
            );
            req.on("timeout", () => req.destroy(new Error(`no answer within ${this.o.attemptTimeoutMs} ms`)));
            req.on("error", (e) => reject(new Transient(`${(e as NodeJS.ErrnoException).code ?? ""} ${e.message}`.trim())));
            req.end(body);
        });
    }

    /** A fresh P-256 key and a CSR for `name` (CN and DNS SAN), as PEM. */
    async csr(name: string): Promise<{ keys: webcrypto.CryptoKeyPair; csrPem: string }> {
        const keys = (await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
        const csr = await x509.Pkcs10CertificateRequestGenerator.create(
            {
                name: `CN=${name}`,
                keys: keys as unknown as CsrParams[0]["keys"],
                signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
                extensions: [new x509.SubjectAlternativeNameExtension([{ type: "dns", value: name }])],
            },
            webcrypto as unknown as CsrParams[1],
        );
        return { keys, csrPem: csr.toString("pem") };
    }

    /** Issues a certificate for `name`, retrying transient failures; throws with every attempt's error otherwise. */
    async issue(name: string): Promise<Issued> {
        const startedAt = Date.now();
        const { keys, csrPem } = await this.csr(name);
        const retried: string[] = [];
        for (let attempt = 1; ; attempt++) {
            try {
                const res = await this.post(JSON.stringify({ csr: csrPem, ott: await this.token(name) }));
                if ([502, 503, 504].includes(res.status)) throw new Transient(`HTTP ${res.status} ${res.body.trim()}`);
                if (res.status !== 201) throw new Error(`HTTP ${res.status} ${res.body.trim()}`);
                const { crt, ca } = JSON.parse(res.body) as { crt: string; ca: string };
                const chainPems = ca.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
                return {
                    name,
                    leaf: new X509Certificate(crt),
                    chain: chainPems.map((p) => new X509Certificate(p)),
                    leafPem: crt,
                    chainPem: chainPems.join(""),
                    privateKey: keys.privateKey,
                    attempts: attempt,
                    retried,
                    startedAt,
                    doneAt: Date.now(),
                };
            } catch (e) {
                const message = (e as Error).message;
                if (!(e instanceof Transient) || attempt >= this.o.maxAttempts) {
                    throw new Error(`${name}: failed after ${attempt} attempt(s): ${[...retried, message].join("; ")}`);
                }
                retried.push(message);
                await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** (attempt - 1))));
            }
        }
    }
}

/** PKCS#8 PEM of a key, for the step CLI. */
export async function privateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
    const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key));
    return `-----BEGIN PRIVATE KEY-----\n${der.toString("base64").replace(/.{64}/g, "$&\n").replace(/\n?$/, "\n")}-----END PRIVATE KEY-----\n`;
}
