/**
 * Input validation results shaped like Pulumi's check failures, so the same checks serve a provider's `check`
 * (shown per property at preview) and a plain thrown error.
 */
export interface InputProblem {
    /** Dotted path of the offending input, e.g. "paths.db". */
    readonly property: string;
    /** What is wrong and how to fix it. */
    readonly reason: string;
}

/** One message listing every problem, for errors thrown outside `check`. */
export function describeProblems(heading: string, problems: readonly InputProblem[]): string {
    return `${heading}:\n${problems.map((p) => `- ${p.property}: ${p.reason}`).join("\n")}`;
}
