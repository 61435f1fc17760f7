import * as pulumi from "@pulumi/pulumi";
import type { RegisterResourceRequest } from "@pulumi/pulumi/proto/resource_pb";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";

/**
 * The @pulumi/pulumi version whose mock monitor {@link tapMockMonitor} was written against (package.json pins it).
 * On an SDK upgrade, re-check the assumptions listed there and update this constant.
 */
export const ASSUMED_SDK_VERSION = "3.276.0";

/** What the SDK sent in RegisterResource for one resource. */
export interface RegistrationRequest {
    readonly protect: boolean;
    readonly deleteBeforeReplace: boolean;
    readonly ignoreChanges: readonly string[];
    /** URNs of explicit and implicit dependencies. */
    readonly dependencies: readonly string[];
    readonly additionalSecretOutputs: readonly string[];
    /** Inputs serialized for the engine: secrets still wrapped in the secret signature. */
    readonly rawInputs: Record<string, unknown>;
}

/** A tap on the installed mock monitor. */
export interface MonitorTap {
    /** Requests by `type::name`, in registration order. */
    readonly requests: ReadonlyMap<string, RegistrationRequest>;
    /** URNs of every resource the monitor registered. */
    registeredUrns(): string[];
}

/**
 * Taps the mock monitor that `pulumi.runtime.setMocks` installed, to see what the mocks API does not pass on to
 * `newResource`: resource options (protect, deleteBeforeReplace, ignoreChanges, dependencies,
 * additionalSecretOutputs) and the inputs as serialized for the engine (secrets still wrapped). Call it after
 * `setMocks` and before the program registers anything; each call starts an empty record.
 *
 * This is the one place the tests lean on SDK internals. It assumes, as of @pulumi/pulumi {@link ASSUMED_SDK_VERSION}:
 * - `pulumi.runtime.getMonitor()` is an instance of `MockMonitor` (`@pulumi/pulumi/runtime/mocks`, not re-exported
 *   from `pulumi.runtime`) once `setMocks` ran;
 * - the SDK calls the monitor's `registerResource(req, callback)` method, looked up on the instance, with a protobuf
 *   `RegisterResourceRequest` (`@pulumi/pulumi/proto/resource_pb`), so replacing it on the instance sees every
 *   request; its generated getters (`getType`, `getProtect`, `getIgnorechangesList`, …) are read here;
 * - `MockMonitor.getRegisteredResources()` lists what was registered, keyed by URN.
 * It checks these and fails with a message naming this file when an SDK upgrade breaks one.
 */
export function tapMockMonitor(): MonitorTap {
    const installed = require("@pulumi/pulumi/package.json").version as string;
    const fail = (what: string) =>
        new Error(
            `test/unit/support/mock-monitor.ts assumes @pulumi/pulumi ${ASSUMED_SDK_VERSION} (installed: ${installed}): ` +
                `${what}. Re-check its assumptions against the installed SDK and update it.`,
        );
    if (installed !== ASSUMED_SDK_VERSION) {
        throw fail("the installed version differs");
    }
    const installedMonitor = pulumi.runtime.getMonitor();
    if (!(installedMonitor instanceof MockMonitor)) {
        throw fail("pulumi.runtime.getMonitor() is not the MockMonitor that setMocks installs");
    }
    const monitor: MockMonitor = installedMonitor;
    if (typeof monitor.registerResource !== "function" || typeof monitor.getRegisteredResources !== "function") {
        throw fail("MockMonitor has no registerResource/getRegisteredResources method");
    }

    const requests = new Map<string, RegistrationRequest>();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: RegisterResourceRequest, callback: (err: unknown, response: unknown) => void) => {
        requests.set(`${req.getType()}::${req.getName()}`, {
            protect: req.getProtect() === true,
            deleteBeforeReplace: req.getDeletebeforereplace(),
            ignoreChanges: req.getIgnorechangesList(),
            dependencies: req.getDependenciesList(),
            additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
            rawInputs: (req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>,
        });
        return register(req, callback);
    };
    return { requests, registeredUrns: () => [...monitor.getRegisteredResources().keys()] };
}
