import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { type ConnectProxy, startConnectProxy } from "./connect-proxy";
import { startKmsEmulator } from "./index";
import { CLOUD_KMS_HOST } from "./tls-identity";

const USAGE = `Usage: npm run kms-emulator -- [--port N] [--state FILE] [--host H] [--hsm-pending-ms N]
                             [--tls-port N --tls-cert FILE --tls-key FILE [--connect-proxy-port N]] [--verbose]
  --port            plaintext gRPC port (default 8085; 0 picks a free one)
  --state           JSON state file holding keys (mode 0600); omitted = in-memory
  --host            interface (default 127.0.0.1)
  --hsm-pending-ms  how long HSM key versions stay PENDING_GENERATION (default 1500)
  --tls-port        also serve TLS on this port (0 picks a free one), same keys, with
  --tls-cert/--tls-key  this PEM certificate chain and key
  --connect-proxy-port  HTTP CONNECT proxy (for HTTPS_PROXY) tunnelling ${CLOUD_KMS_HOST}:443 to the TLS port
  --verbose         log every RPC and tunnel to stderr`;

/** Runs the emulator until SIGINT/SIGTERM, then stops it cleanly, state saved. */
async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            port: { type: "string", default: "8085" },
            state: { type: "string" },
            host: { type: "string", default: "127.0.0.1" },
            "hsm-pending-ms": { type: "string" },
            "tls-port": { type: "string" },
            "tls-cert": { type: "string" },
            "tls-key": { type: "string" },
            "connect-proxy-port": { type: "string" },
            verbose: { type: "boolean", default: false },
            help: { type: "boolean", default: false },
        },
    });
    if (values.help) {
        console.log(USAGE);
        return;
    }
    const tlsFlags = [values["tls-port"], values["tls-cert"], values["tls-key"]].filter((v) => v !== undefined).length;
    if (tlsFlags !== 0 && tlsFlags !== 3) throw new UsageError("--tls-port, --tls-cert and --tls-key go together");
    if (values["connect-proxy-port"] !== undefined && tlsFlags === 0) throw new UsageError("--connect-proxy-port needs --tls-port");
    const proxyPort = values["connect-proxy-port"] === undefined ? undefined : integer(values["connect-proxy-port"], "--connect-proxy-port");
    const log = values.verbose ? (line: string) => console.error(line) : undefined;
    const stateFile = values.state && path.resolve(values.state);
    const emulator = await startKmsEmulator({
        host: values.host,
        port: integer(values.port!, "--port"),
        stateFile,
        hsmPendingMs: values["hsm-pending-ms"] === undefined ? undefined : integer(values["hsm-pending-ms"], "--hsm-pending-ms"),
        tls: tlsFlags
            ? {
                  port: integer(values["tls-port"]!, "--tls-port"),
                  certPem: fs.readFileSync(values["tls-cert"]!, "utf8"),
                  keyPem: fs.readFileSync(values["tls-key"]!, "utf8"),
              }
            : undefined,
        log,
    });
    const proxy =
        proxyPort === undefined
            ? undefined
            : await startKmsProxy(values.host!, proxyPort, emulator.tlsPort!, log).catch(async (error: unknown) => {
                  await emulator.stop();
                  throw error;
              });
    // The ready line comes last: whoever waits for it knows the proxy is up too.
    const where = stateFile ? `state file ${stateFile}` : "in-memory (state is lost on exit)";
    const alsoTls = emulator.tlsPort === undefined ? "" : ` and ${emulator.address.replace(/\d+$/, String(emulator.tlsPort))} (TLS)`;
    console.log(`Cloud KMS emulator listening on ${emulator.address} (plaintext gRPC)${alsoTls}, ${where}`);
    let stopping = false;
    const stop = (signal: string) => {
        // A signal sent to the whole process group (Ctrl-C) may arrive more than once: stop once, ignore the rest.
        if (stopping) return;
        stopping = true;
        Promise.all([proxy?.stop(), emulator.stop()]).then(
            () => {
                console.log(`Cloud KMS emulator stopped on ${signal}${stateFile ? `, state saved to ${stateFile}` : ""}`);
                process.exit(0);
            },
            (error: unknown) => {
                console.error(`Cloud KMS emulator failed to stop cleanly: ${String(error)}`);
                process.exit(1);
            },
        );
    };
    process.on("SIGINT", () => stop("SIGINT"));
    process.on("SIGTERM", () => stop("SIGTERM"));
}

/** The CONNECT proxy that lets step-ca's unmodified client reach the TLS port as cloudkms.googleapis.com. */
async function startKmsProxy(host: string, port: number, tlsPort: number, log?: (line: string) => void): Promise<ConnectProxy> {
    const authority = `${CLOUD_KMS_HOST}:443`;
    const proxy = await startConnectProxy({
        routes: { [authority]: { host, port: tlsPort } },
        host,
        port,
        onConnect: (asked, tunnelled) =>
            tunnelled ? log?.(`CONNECT ${asked} -> TLS port ${tlsPort}`) : console.error(`CONNECT proxy refused ${asked}: only ${authority} is tunnelled`),
    });
    console.log(`CONNECT proxy listening on ${proxy.url}, tunnelling ${authority} to TLS port ${tlsPort}`);
    return proxy;
}

class UsageError extends Error {}

function integer(value: string, flag: string): number {
    if (!/^\d+$/.test(value)) throw new UsageError(`${flag} must be a non-negative integer, got "${value}"`);
    return Number(value);
}

main().catch((error: unknown) => {
    console.error(error instanceof UsageError ? `${error.message}\n${USAGE}` : `Cloud KMS emulator failed to start: ${String(error)}`);
    process.exit(error instanceof UsageError ? 2 : 1);
});
