import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { startKmsEmulator } from "./index";

const USAGE = `Usage: npm run kms-emulator -- [--port N] [--state FILE] [--host H] [--hsm-pending-ms N]
                             [--tls-cert FILE --tls-key FILE] [--verbose]
  --port            port to listen on (default 8085; 0 picks a free one)
  --state           JSON state file holding keys (mode 0600); omitted = in-memory
  --host            interface (default 127.0.0.1)
  --hsm-pending-ms  how long HSM key versions stay PENDING_GENERATION (default 1500)
  --tls-cert/--tls-key  serve TLS with this PEM certificate chain and key
  --verbose         log every RPC to stderr`;

/** Runs the emulator until SIGINT/SIGTERM, then stops it cleanly, state saved. */
async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            port: { type: "string", default: "8085" },
            state: { type: "string" },
            host: { type: "string", default: "127.0.0.1" },
            "hsm-pending-ms": { type: "string" },
            "tls-cert": { type: "string" },
            "tls-key": { type: "string" },
            verbose: { type: "boolean", default: false },
            help: { type: "boolean", default: false },
        },
    });
    if (values.help) {
        console.log(USAGE);
        return;
    }
    if (Boolean(values["tls-cert"]) !== Boolean(values["tls-key"])) throw new UsageError("--tls-cert and --tls-key go together");
    const stateFile = values.state && path.resolve(values.state);
    const emulator = await startKmsEmulator({
        host: values.host,
        port: integer(values.port!, "--port"),
        stateFile,
        hsmPendingMs: values["hsm-pending-ms"] === undefined ? undefined : integer(values["hsm-pending-ms"], "--hsm-pending-ms"),
        tls: values["tls-cert"] ? { certPem: fs.readFileSync(values["tls-cert"], "utf8"), keyPem: fs.readFileSync(values["tls-key"]!, "utf8") } : undefined,
        log: values.verbose ? (line) => console.error(line) : undefined,
    });
    const where = stateFile ? `state file ${stateFile}` : "in-memory (state is lost on exit)";
    console.log(`Cloud KMS emulator listening on ${emulator.address} (${emulator.tls ? "TLS" : "plaintext"} gRPC), ${where}`);
    let stopping = false;
    const stop = (signal: string) => {
        // A signal sent to the whole process group (Ctrl-C) may arrive more than once: stop once, ignore the rest.
        if (stopping) return;
        stopping = true;
        emulator.stop().then(
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

class UsageError extends Error {}

function integer(value: string, flag: string): number {
    if (!/^\d+$/.test(value)) throw new UsageError(`${flag} must be a non-negative integer, got "${value}"`);
    return Number(value);
}

main().catch((error: unknown) => {
    console.error(error instanceof UsageError ? `${error.message}\n${USAGE}` : `Cloud KMS emulator failed to start: ${String(error)}`);
    process.exit(error instanceof UsageError ? 2 : 1);
});
