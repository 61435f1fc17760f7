/**
 * Whether a just-started container has come up, from its `docker inspect` state. The docker provider's own wait
 * stops only on "healthy", so a container that exits at start costs the whole wait timeout and ends in a bare
 * "failed to be in healthy state"; deciding here lets the wait stop at the first sign of failure and say why.
 */

/** The part of `GET /containers/{id}/json` this reads. */
export interface ContainerInspect {
    readonly RestartCount?: number;
    readonly State?: {
        readonly Status?: string;
        readonly Running?: boolean;
        readonly Restarting?: boolean;
        readonly ExitCode?: number;
        readonly Error?: string;
        readonly StartedAt?: string;
        readonly Health?: {
            readonly Status?: string;
            readonly Log?: readonly { readonly ExitCode?: number; readonly Output?: string }[];
        };
    };
}

export type StartVerdict =
    | { readonly kind: "healthy" }
    | { readonly kind: "waiting" }
    | { readonly kind: "failed"; readonly reason: string };

/**
 * healthy: the health check passes. failed: the process exited (also when the restart policy has restarted it
 * since `restartsBefore`: a CA that exits at start exits again) or the health check gave up. waiting: the rest.
 */
export function startVerdict(inspect: ContainerInspect, restartsBefore = 0): StartVerdict {
    const state = inspect.State ?? {};
    if (state.Health?.Status === "healthy") return { kind: "healthy" };
    const exited = state.Status === "exited" || state.Status === "dead" || state.Restarting === true;
    const restarted = (inspect.RestartCount ?? 0) - restartsBefore;
    if (exited || restarted > 0) {
        // Running again after a restart, the exit code is reset: it says nothing then.
        const how = state.Running ? "its process exited" : `the container exited with code ${state.ExitCode ?? 0}`;
        const restarts = restarted > 0 ? ` and was restarted ${restarted} time(s)` : "";
        return { kind: "failed", reason: `${how}${restarts}${state.Error ? `: ${state.Error}` : ""}` };
    }
    if (state.Health?.Status === "unhealthy") {
        return { kind: "failed", reason: `its health check keeps failing (${lastHealthOutput(inspect) || "no output"})` };
    }
    return { kind: "waiting" };
}

/**
 * Stopped by someone rather than crashed: exited and not waiting for its restart policy to restart it (a container
 * whose process exits under a restart policy is "restarting" right away). The health wait stops a container that
 * does not come up, so the next `up`, after the cause is fixed, finds it stopped and starts it again.
 */
export function isStopped(inspect: ContainerInspect): boolean {
    const state = inspect.State ?? {};
    return (state.Status === "exited" || state.Status === "created") && state.Restarting !== true;
}

/** The last health-check output, one line. */
export function lastHealthOutput(inspect: ContainerInspect): string {
    const log = inspect.State?.Health?.Log ?? [];
    return (log[log.length - 1]?.Output ?? "").trim().replace(/\s+/g, " ");
}
