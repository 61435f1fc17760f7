/**
 * The step-ca container as every runtime starts it: the docker runtime through the Docker API, the gce runtime
 * with `docker run` on each VM. One definition, so both run step-ca the same way.
 */
import * as net from "node:net";
import { CONTAINER_LAYOUT } from "./layout";

/** The image's `step` user, which runs step-ca and must read its files. */
export const STEP_USER = "1000";

/**
 * Modes of the files the docker runtime uploads. Uploads carry no owner: an owner makes the docker provider ask the
 * engine to chown them to the container's user, which Engine 20.10 resolves by *name* in the Docker host's passwd
 * and fails ("getent unable to find entry "step""). So every upload is root-owned: the rest world-readable, the
 * secrets readable by group root only, and step-ca runs as step with group root ({@link SECRETS_GROUP}) as its
 * primary group.
 */
export const UPLOAD_MODES = { file: "0444", secret: "0440" } as const;

/**
 * The group step-ca runs with in the docker runtime, so that it can read the 0440 root-owned secrets. Its primary
 * group rather than an added one: Docker gives added groups (`--group-add`) to every process in the container,
 * `docker exec --user` included, while a primary group is the main process's (and its health checks') only.
 */
export const SECRETS_GROUP = "0";

/** `user` of the docker runtime's container: the image's step user, with {@link SECRETS_GROUP}. */
export const CONTAINER_USER = `${STEP_USER}:${SECRETS_GROUP}`;

/** step-ca's command line: the password file unlocks the provisioner key, ca.json says the rest. */
export function stepCaCommand(): string[] {
    return ["step-ca", "--password-file", CONTAINER_LAYOUT.password, CONTAINER_LAYOUT.caJson];
}

/** step-ca >= 0.27 fails to start with Cloud KMS unless HOME is writable (Google auth library). */
export function stepCaEnvs(): string[] {
    return [`HOME=${CONTAINER_LAYOUT.stepPath}`, `STEPPATH=${CONTAINER_LAYOUT.stepPath}`];
}

/**
 * `step ca health` against the CA's own TLS name. A DNS name is pointed at the loopback inside the container,
 * so the check needs no outside DNS and still verifies the served certificate.
 */
export function healthCheck(
    dnsNames: readonly string[],
    port: number,
): { tests: string[]; hosts: { host: string; ip: string }[] } {
    const dnsName = dnsNames.find((n) => net.isIP(n) === 0);
    const host = dnsName ?? dnsNames.find((n) => n === "127.0.0.1" || n === "::1") ?? dnsNames[0];
    const urlHost = net.isIPv6(host) ? `[${host}]` : host;
    return {
        tests: [
            "CMD",
            "step",
            "ca",
            "health",
            "--ca-url",
            `https://${urlHost}:${port}`,
            "--root",
            CONTAINER_LAYOUT.rootCert,
        ],
        hosts: dnsName ? [{ host: dnsName, ip: "127.0.0.1" }] : [],
    };
}
