import { setTimeout as sleep } from "node:timers/promises";
import * as grpc from "@grpc/grpc-js";
import type { CallCounter } from "./calls";
import { KmsError, unimplemented } from "./errors";
import type { Faults } from "./faults";
import { type HandlerContext, RPCS } from "./handlers";
import { kmsServiceDefinition } from "./proto";

export interface ServerDeps extends HandlerContext {
    calls: CallCounter;
    log?: (line: string) => void;
}

/**
 * A gRPC server for google.cloud.kms.v1.KeyManagementService. Every call, implemented or not, is counted,
 * then delayed, failed, or denied as the faults say, then handled; errors go out with Cloud KMS's status codes.
 */
export function createKmsServer(deps: ServerDeps): grpc.Server {
    const service = kmsServiceDefinition();
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const method of Object.keys(service)) {
        implementation[method] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
            const started = Date.now();
            handle(deps, method, call.request).then(
                (response) => {
                    deps.log?.(`${method} ${resourceOf(method, call.request)} -> OK (${Date.now() - started} ms)`);
                    callback(null, response);
                },
                (error: unknown) => {
                    const { code, details } = toStatus(error);
                    deps.log?.(`${method} ${resourceOf(method, call.request)} -> ${grpc.status[code]}: ${details}`);
                    callback({ name: "KmsError", message: details, code, details, metadata: new grpc.Metadata() });
                },
            );
        };
    }
    const server = new grpc.Server();
    server.addService(service, implementation);
    return server;
}

async function handle(deps: ServerDeps, method: string, request: unknown): Promise<unknown> {
    deps.calls.record(method);
    if (deps.faults.latencyMs > 0) await sleep(deps.faults.latencyMs);
    const injected = deps.faults.takeFailure(method);
    if (injected) throw injected;
    const rpc = RPCS[method];
    if (!rpc) throw unimplemented(`KeyManagementService.${method}`);
    const denied = deps.faults.permissionDenied(method, rpc.resource(request));
    if (denied) throw denied;
    const response = await rpc.handle(request, deps);
    const lost = await deps.faults.afterEffect(method);
    if (lost) throw lost;
    return response;
}

function resourceOf(method: string, request: unknown): string {
    const resource = RPCS[method]?.resource(request);
    return typeof resource === "string" ? resource : "";
}

function toStatus(error: unknown): { code: grpc.status; details: string } {
    if (error instanceof KmsError) return { code: error.code, details: error.message };
    // A bug in the emulator, not a Cloud KMS behaviour: say so, with the cause.
    return { code: grpc.status.INTERNAL, details: `KMS emulator internal error: ${error instanceof Error ? error.stack : String(error)}` };
}
