/**
 * Where the Docker engine's API is, as the Docker CLI and the docker provider read it from the environment:
 * DOCKER_HOST (default the local socket), and DOCKER_TLS_VERIFY/DOCKER_CERT_PATH for TLS over TCP. Used by the
 * container health wait, which must ask the same engine the provider created the container on.
 */
export type EngineAddress =
    | { readonly kind: "unix"; readonly socketPath: string }
    | {
          readonly kind: "tcp";
          readonly host: string;
          readonly port: number;
          /** Client certificate directory (ca.pem, cert.pem, key.pem) when the engine speaks TLS. */
          readonly tlsCertPath?: string;
      };

const DEFAULT_SOCKET = "/var/run/docker.sock";

/** Reads the engine's address from `env`; throws one clear error for a DOCKER_HOST it cannot use. */
export function engineAddress(env: NodeJS.ProcessEnv): EngineAddress {
    const host = (env.DOCKER_HOST ?? "").trim();
    if (host === "") return { kind: "unix", socketPath: DEFAULT_SOCKET };
    if (host.startsWith("unix://")) return { kind: "unix", socketPath: host.slice("unix://".length) || DEFAULT_SOCKET };
    const tcp = /^tcp:\/\/(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/.exec(host);
    if (tcp) {
        const tls = (env.DOCKER_TLS_VERIFY ?? "") !== "";
        const port = tcp[2] ? Number(tcp[2]) : tls ? 2376 : 2375;
        const tlsCertPath = tls ? env.DOCKER_CERT_PATH || `${env.HOME ?? ""}/.docker` : undefined;
        return { kind: "tcp", host: tcp[1].replace(/^\[|\]$/g, ""), port, ...(tlsCertPath ? { tlsCertPath } : {}) };
    }
    throw new Error(
        `DOCKER_HOST=${host}: the step-ca health wait speaks to the Docker engine over unix:// or tcp:// only ` +
            "(ssh:// and npipe:// are not supported); forward the engine's socket and point DOCKER_HOST at it",
    );
}
