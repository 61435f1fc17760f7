/**
 * What a gce-runtime VM boots with: a cloud-config for Container-Optimized OS (its cloud-init reads the `user-data`
 * metadata key) that writes step-ca's public files, a script that fetches the secrets from Secret Manager into
 * memory (tmpfs under /run), and systemd units that run the Cloud SQL Auth Proxy and the same step-ca container
 * the docker runtime runs. Nothing secret is in it: secrets are named by their Secret Manager version, and fetched
 * at boot with the VM's service-account token from the metadata server. ca.json is always one of them: it holds
 * OIDC client secrets when provisioners have some, and one path for it is simpler than two.
 */
import * as yaml from "js-yaml";
import { STEP_USER, healthCheck, stepCaCommand, stepCaEnvs } from "../step-ca/container";
import { CONTAINER_LAYOUT } from "../step-ca/layout";

/** Cloud SQL Auth Proxy v2, pinned (https://github.com/GoogleCloudPlatform/cloud-sql-proxy/releases). */
export const CLOUD_SQL_PROXY_IMAGE = "gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1";

/** Where the proxy listens on each VM; step-ca's DSN points here. */
export const PROXY_ADDRESS = { host: "127.0.0.1", port: 5432 } as const;

/** Host paths on the VM. /var is writable on Container-Optimized OS; /run is tmpfs (memory, gone at shutdown). */
export const VM_PATHS = {
    /** Mounted as the container's /home/step (STEPPATH, HOME): config/, certs/. */
    stepHome: "/var/lib/step-ca/home",
    fetchScript: "/var/lib/step-ca/fetch-secrets.sh",
    /** Mounted read-only as the container's /run/secrets/step-ca. */
    secretsDir: "/run/step-ca/secrets",
    units: "/etc/systemd/system",
} as const;

/** File name (in the secrets directory) → Secret Manager version resource name. */
export type SecretFiles = Readonly<Record<string, string>>;

/** The public files and the names of the secrets a VM needs. */
export interface VmBootSpec {
    readonly image: string;
    readonly port: number;
    readonly dnsNames: readonly string[];
    readonly defaultsJson: string;
    readonly rootCertPem: string;
    readonly intermediateCertPem: string;
    /** The provisioner password, pgpass and ca.json, as version names `projects/…/versions/N`. */
    readonly secrets: Readonly<Record<keyof typeof CONTAINER_SECRETS, string>>;
    /** Cloud SQL connection name `project:region:instance`. */
    readonly cloudSqlInstance: string;
}

const CONTAINER_SECRETS_DIR = CONTAINER_LAYOUT.password.replace(/\/[^/]+$/, "");

/**
 * The container's paths of the secret files (the secrets directory, mounted read-only), as step-ca and libpq-style
 * clients read them. ca.json is also mounted at {@link CONTAINER_LAYOUT}'s path, where step-ca and the step CLI
 * look for it in every runtime.
 */
export const CONTAINER_SECRETS = {
    password: CONTAINER_LAYOUT.password,
    pgpass: `${CONTAINER_SECRETS_DIR}/pgpass`,
    caJson: `${CONTAINER_SECRETS_DIR}/ca.json`,
} as const;

/** The secrets' file names in the secrets directory (the same on the VM and in the container). */
const secretFile = (secret: keyof typeof CONTAINER_SECRETS) => CONTAINER_SECRETS[secret].slice(CONTAINER_SECRETS_DIR.length + 1);

/**
 * Fetches each secret version into the secrets directory (0700, files 0400, all owned by step-ca's user), each
 * written to a temp file and renamed. The token goes to curl on stdin (`-K -`), never on a command line. GCE_METADATA_HOST (the name
 * Google's client libraries honour) and SECRET_MANAGER_ENDPOINT override Google's endpoints; only the boot-path
 * test sets them, pointing at stand-ins on loopback.
 */
export function fetchSecretsScript(secrets: SecretFiles): string {
    const names = Object.keys(secrets);
    for (const name of names) {
        if (!/^[a-z][a-z0-9_.-]*$/.test(name) || !/^projects\/[^/\s'"]+\/secrets\/[^/\s'"]+\/versions\/\w+$/.test(secrets[name])) {
            throw new Error(`secret ${name} -> ${secrets[name]} is not a file name and a Secret Manager version name`);
        }
    }
    const lines = [
        "#!/bin/bash",
        "# Fetches step-ca's secrets from Secret Manager into tmpfs, with the VM's service-account token.",
        "set -euo pipefail",
        'metadata="http://${GCE_METADATA_HOST:-metadata.google.internal}/computeMetadata/v1"',
        'secretmanager="${SECRET_MANAGER_ENDPOINT:-https://secretmanager.googleapis.com}"',
        `dir="\${STEP_CA_SECRETS_DIR:-${VM_PATHS.secretsDir}}"`,
        "umask 077",
        'mkdir -p "$dir"',
        // The container runs as step-ca's user: it must be able to enter the directory (mounted read-only).
        `chown ${STEP_USER}:${STEP_USER} "$dir"`,
        'token="$(curl -sSf --retry 10 --retry-connrefused -H "Metadata-Flavor: Google" \\',
        '  "$metadata/instance/service-accounts/default/token" | sed -n \'s/.*"access_token" *: *"\\([^"]*\\)".*/\\1/p\')"',
        '[ -n "$token" ] || { echo "fetch-secrets: no access token from the metadata server" >&2; exit 1; }',
        "fetch() {",
        '  printf \'header = "Authorization: Bearer %s"\\n\' "$token" |',
        '    curl -sSf --retry 10 --retry-connrefused -K - "$secretmanager/v1/$1:access" |',
        '    sed -n \'s/.*"data" *: *"\\([^"]*\\)".*/\\1/p\' | base64 -d > "$dir/.$2"',
        `  chown ${STEP_USER}:${STEP_USER} "$dir/.$2"`,
        '  chmod 0400 "$dir/.$2"',
        '  mv -f "$dir/.$2" "$dir/$2"',
        "}",
        ...names.map((name) => `fetch '${secrets[name]}' '${name}'`),
        "",
    ];
    return lines.join("\n");
}

/** One argument as systemd's ExecStart splits them: quoted when it has spaces, quotes or specifiers. */
function systemdArg(arg: string): string {
    const escaped = arg.replace(/%/g, "%%");
    return /^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped) ? escaped : `"${escaped.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** `docker run` for the step-ca container: the docker runtime's command, environment and health check. */
export function stepCaDockerRun(spec: Pick<VmBootSpec, "image" | "port" | "dnsNames">): string[] {
    const health = healthCheck(spec.dnsNames, spec.port);
    return [
        "/usr/bin/docker",
        "run",
        "--rm",
        "--name=step-ca",
        "--network=host",
        `--user=${STEP_USER}:${STEP_USER}`,
        `--volume=${VM_PATHS.stepHome}:${CONTAINER_LAYOUT.stepPath}`,
        `--volume=${VM_PATHS.secretsDir}:${CONTAINER_SECRETS_DIR}:ro`,
        // Docker creates the mountpoint as an empty file in stepHome; the content stays in tmpfs.
        `--volume=${VM_PATHS.secretsDir}/${secretFile("caJson")}:${CONTAINER_LAYOUT.caJson}:ro`,
        ...[...stepCaEnvs(), `PGPASSFILE=${CONTAINER_SECRETS.pgpass}`].map((env) => `--env=${env}`),
        ...health.hosts.map((h) => `--add-host=${h.host}:${h.ip}`),
        `--health-cmd=${health.tests.slice(1).join(" ")}`,
        "--health-interval=10s",
        spec.image,
        ...stepCaCommand(),
    ];
}

/** `docker run` for the Cloud SQL Auth Proxy: private IP, loopback only, the VM's service account. */
export function cloudSqlProxyDockerRun(cloudSqlInstance: string): string[] {
    return [
        "/usr/bin/docker",
        "run",
        "--rm",
        "--name=cloud-sql-proxy",
        "--network=host",
        CLOUD_SQL_PROXY_IMAGE,
        "--private-ip",
        `--address=${PROXY_ADDRESS.host}`,
        `--port=${PROXY_ADDRESS.port}`,
        cloudSqlInstance,
    ];
}

/** systemd restarts a unit whose process exited this many seconds later (`Restart=always`). */
export const UNIT_RESTART_SEC = 5;

function unit(description: string, execStart: string[], extra: { after?: string[]; pre?: string[] } = {}): string {
    const after = ["docker.service", "network-online.target", ...(extra.after ?? [])];
    return [
        "[Unit]",
        `Description=${description}`,
        `Wants=${after.join(" ")}`,
        `After=${after.join(" ")}`,
        "",
        "[Service]",
        ...(extra.pre ?? []).map((line) => `ExecStartPre=${line}`),
        `ExecStart=${execStart.map(systemdArg).join(" ")}`,
        "Restart=always",
        `RestartSec=${UNIT_RESTART_SEC}`,
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ].join("\n");
}

/** The cloud-config a VM's `user-data` carries (YAML with the `#cloud-config` header). */
export function renderCloudConfig(spec: VmBootSpec): string {
    const home = VM_PATHS.stepHome;
    const rel = (containerPath: string) => `${home}${containerPath.slice(CONTAINER_LAYOUT.stepPath.length)}`;
    const file = (path: string, content: string, permissions = "0644") => ({ path, permissions, content });
    const fileVersions = Object.fromEntries(
        (Object.keys(CONTAINER_SECRETS) as (keyof typeof CONTAINER_SECRETS)[]).map((s) => [secretFile(s), spec.secrets[s]]),
    );
    const config = {
        write_files: [
            file(rel(CONTAINER_LAYOUT.defaultsJson), spec.defaultsJson),
            file(rel(CONTAINER_LAYOUT.rootCert), spec.rootCertPem),
            file(rel(CONTAINER_LAYOUT.intermediateCert), spec.intermediateCertPem),
            file(VM_PATHS.fetchScript, fetchSecretsScript(fileVersions), "0755"),
            file(
                `${VM_PATHS.units}/cloud-sql-proxy.service`,
                unit("Cloud SQL Auth Proxy for step-ca", cloudSqlProxyDockerRun(spec.cloudSqlInstance), {
                    pre: ["-/usr/bin/docker rm -f cloud-sql-proxy"],
                }),
            ),
            file(
                `${VM_PATHS.units}/step-ca.service`,
                unit("step-ca", stepCaDockerRun(spec), {
                    after: ["cloud-sql-proxy.service"],
                    pre: ["-/usr/bin/docker rm -f step-ca", `/bin/bash ${VM_PATHS.fetchScript}`],
                }),
            ),
        ],
        runcmd: [
            ["chown", "-R", `${STEP_USER}:${STEP_USER}`, home],
            ["systemctl", "daemon-reload"],
            ["systemctl", "start", "cloud-sql-proxy.service", "step-ca.service"],
        ],
    };
    return `#cloud-config\n${yaml.dump(config, { lineWidth: -1, noRefs: true })}`;
}
